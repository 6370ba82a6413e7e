import ClusterRegistry
import DNSWire

/// Answers one request from a registry snapshot: pure (no sockets, no clock, no logging) and,
/// on the authoritative paths, free of allocation (DESIGN.md §3).
public struct Responder: Sendable {
    public var options: ResponderOptions

    public init(options: ResponderOptions = ResponderOptions()) { self.options = options }

    public func respond(
        to packet: UnsafeRawBufferPointer, snapshot: RegistrySnapshot, transport: Transport, scratch: ResponseScratch
    ) -> ResponderOutcome {
        var writer = ReplyWriter(output: scratch.output)
        scratch.lastParsed = nil
        switch QueryParser.parse(packet, nameBuffer: scratch.name) {
        case .drop:
            return .drop
        case .reject(let rcode, let id, let flags):
            writer.header(id: id, requestFlags: flags, rcode: rcode, authoritative: false,
                          recursionAvailable: options.recursionAvailable, counts: (0, 0, 0, 0))
            return .reply(length: writer.count, rcode: rcode)
        case .query(let query):
            scratch.lastParsed = (packet, query)
            let name = UnsafeRawBufferPointer(rebasing: scratch.lowercasedName.prefix(query.nameLength))
            var context = ReplyContext(
                frame: ReplyFrame(query: query, packet: packet, options: options), name: name, snapshot: snapshot,
                limit: sizeLimit(query, transport))
            return context.answer(&writer)
        }
    }

    /// A reply carrying only `rcode` (and the question when the request has a usable one):
    /// REFUSED when nobody can forward, SERVFAIL when the upstreams failed.
    public func reject(request: UnsafeRawBufferPointer, rcode: ResponseCode, scratch: ResponseScratch) -> Int {
        var writer = ReplyWriter(output: scratch.output)
        switch QueryParser.parse(request, nameBuffer: scratch.name) {
        case .drop:
            return 0
        case .reject(_, let id, let flags):
            writer.header(id: id, requestFlags: flags, rcode: rcode, authoritative: false,
                          recursionAvailable: options.recursionAvailable, counts: (0, 0, 0, 0))
            return writer.count
        case .query(let query):
            _ = ReplyFrame(query: query, packet: request, options: options).simple(&writer, rcode)
            return writer.count
        }
    }

    /// 512 without EDNS; the client's advertised size (at least 512, at most our own) with it;
    /// a whole TCP message otherwise (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
    public func sizeLimit(_ query: QueryView, _ transport: Transport) -> Int {
        switch transport {
        case .tcp: return ResponseScratch.outputCapacity
        case .udp:
            guard let edns = query.edns else { return 512 }
            return max(512, min(Int(edns.udpPayloadSize), options.maxUDPPayload))
        }
    }
}

/// Everything known about one query while its reply is written.
struct ReplyContext {
    let frame: ReplyFrame
    /// Lower-cased question name in wire form.
    let name: UnsafeRawBufferPointer
    let snapshot: RegistrySnapshot
    let limit: Int

    var query: QueryView { frame.query }

    func startReply(_ writer: inout ReplyWriter, _ rcode: ResponseCode, counts: (UInt16, UInt16, UInt16)) {
        frame.startReply(&writer, rcode, counts: counts)
    }

    func finishReply(_ writer: inout ReplyWriter, _ rcode: ResponseCode) { frame.finishReply(&writer, rcode) }

    func simple(_ writer: inout ReplyWriter, _ rcode: ResponseCode) -> ResponderOutcome { frame.simple(&writer, rcode) }

    mutating func answer(_ writer: inout ReplyWriter) -> ResponderOutcome {
        if let edns = query.edns, edns.version > 0 { return simple(&writer, .badVers) }  // RFC 6891 §6.1.3
        guard query.recordClass == .in else { return simple(&writer, .refused) }
        if query.type == .axfr || query.type == .ixfr { return simple(&writer, .refused) }
        // Every name we hold lies in one of our zones (a zone file's names are checked against
        // its apex on load): a name outside them all, as most forwarded and cached names are,
        // is forwarded without probing the name table.
        guard let zoneIndex = snapshot.zoneIndex(containing: name) else { return .forward(sizeLimit: limit) }
        if !snapshot.clusterSynced, [.cluster, .multicluster].contains(snapshot.zones[zoneIndex].kind) {
            return frame.options.forwardsUnsyncedClusterNames ? .forward(sizeLimit: limit) : simple(&writer, .servFail)
        }
        if let found = snapshot.lookup(name) { return answer(found, &writer) }
        let zone = snapshot.zones[zoneIndex]
        switch zone.kind {
        case .reverse, .alias:
            return .forward(sizeLimit: limit)
        case .cluster:
            if let outcome = synthesizePod(&writer) { return outcome }
            return negative(&writer, .nxDomain, zone: zone)
        case .file, .multicluster:
            return negative(&writer, .nxDomain, zone: zone)
        }
    }

    private func answer(_ found: SegmentEntry, _ writer: inout ReplyWriter) -> ResponderOutcome {
        let (segment, entry) = (found.segment, found.entry)
        let zone = snapshot.zones[entry.zone]
        if let prepared = segment.answer(in: entry, type: query.type) {
            return positive(&writer, prepared, from: segment)
        }
        if query.type == .any, !entry.answers.isEmpty { return minimalAny(&writer) }
        if let alias = segment.answer(in: entry, type: .cname) { return positive(&writer, alias, from: segment) }
        return negative(&writer, .noError, zone: zone)
    }

    /// Header + question + prepared sections, trimmed to the size limit: additional records go
    /// first, then whole RRsets with TC set (RFC 2181 §9).
    private func positive(_ writer: inout ReplyWriter, _ prepared: PreparedAnswer, from segment: CompiledSegment) -> ResponderOutcome {
        let fixed = query.questionEnd + (query.edns == nil ? 0 : ReplyWriter.optLength)
        var sections = SectionSizes(prepared)
        let shuffles = frame.options.shuffle && (query.type == .a || query.type == .aaaa || query.type == .srv)
        if fixed + sections.total > limit { sections.dropAdditional() }
        if fixed + sections.total > limit {
            if shuffles, let outcome = shuffledSubset(&writer, prepared, from: segment, fixed: fixed) { return outcome }
            sections.truncateAnswer(toFit: limit - fixed, boundaries: segment.rrsetBoundaries(of: prepared))
        }
        // A chain ending at a missing name keeps its NXDOMAIN (RFC 6604 §2.1), unless truncation
        // dropped the end of the chain.
        let rcode: ResponseCode = prepared.nameError && !sections.truncated ? .nxDomain : .noError
        startReply(&writer, rcode, counts: (sections.answerCount, sections.authorityCount, sections.additionalCount))
        if sections.truncated { writer.setTruncated() }
        let answerOffset = writer.count
        segment.answerBytes.withUnsafeBytes { arena in
            let start = prepared.start
            writer.bytes(UnsafeRawBufferPointer(rebasing: arena[start..<start + sections.answerLength]))
            let authorityStart = start + prepared.answerLength
            writer.bytes(UnsafeRawBufferPointer(rebasing: arena[authorityStart..<authorityStart + sections.authorityLength]))
            let additionalStart = authorityStart + prepared.authorityLength
            writer.bytes(UnsafeRawBufferPointer(rebasing: arena[additionalStart..<additionalStart + sections.additionalLength]))
        }
        if shuffles, !sections.truncated {
            if query.type == .srv {
                rotateRecords(&writer, answerOffset: answerOffset, prepared, from: segment, additional: sections.additionalCount)
            } else {
                rotateAddresses(&writer, answerOffset: answerOffset, prepared, from: segment)
            }
        }
        finishReply(&writer, rcode)
        if let target = prepared.externalTarget, !sections.truncated, query.type != .cname {
            return .chase(length: writer.count, target: segment.externalTargets[target], type: query.type, sizeLimit: limit)
        }
        return .reply(length: writer.count, rcode: rcode)
    }

    /// NXDOMAIN or NODATA: the zone's SOA in authority, owned by the apex as the client spelled
    /// it (a pointer into the question), so resolvers can cache the negative answer (RFC 2308).
    func negative(_ writer: inout ReplyWriter, _ rcode: ResponseCode, zone: CompiledZone) -> ResponderOutcome {
        startReply(&writer, rcode, counts: (0, 1, 0))
        writer.uint16(0xC000 | UInt16(query.questionEnd - 4 - zone.apexWire.count))
        zone.soaTail.withUnsafeBytes { writer.bytes($0) }
        finishReply(&writer, rcode)
        return .reply(length: writer.count, rcode: rcode)
    }

    /// RFC 8482 §4.2: answer ANY with one synthesized HINFO instead of every RRset.
    func minimalAny(_ writer: inout ReplyWriter) -> ResponderOutcome {
        startReply(&writer, .noError, counts: (1, 0, 0))
        let cpu: StaticString = "RFC8482"
        writer.recordHeader(ownerOffset: DNSHeader.byteCount, type: .hinfo, ttl: snapshot.configuration.ttl,
                            rdataLength: cpu.utf8CodeUnitCount + 2)
        writer.characterString(cpu)
        writer.characterString("")
        finishReply(&writer, .noError)
        return .reply(length: writer.count, rcode: .noError)
    }
}

/// The parts of a reply every outcome shares: header, echoed question, OPT.
struct ReplyFrame {
    let query: QueryView
    let packet: UnsafeRawBufferPointer
    let options: ResponderOptions

    /// A reply with only the header (and question): REFUSED, BADVERS and the like.
    func simple(_ writer: inout ReplyWriter, _ rcode: ResponseCode) -> ResponderOutcome {
        startReply(&writer, rcode, counts: (0, 0, 0), authoritative: false)
        finishReply(&writer, rcode)
        return .reply(length: writer.count, rcode: rcode)
    }

    func startReply(
        _ writer: inout ReplyWriter, _ rcode: ResponseCode, counts: (UInt16, UInt16, UInt16), authoritative: Bool = true
    ) {
        let additional = counts.2 + (query.edns == nil ? 0 : 1)
        writer.header(id: query.id, requestFlags: query.flags, rcode: rcode, authoritative: authoritative,
                      recursionAvailable: options.recursionAvailable, counts: (1, counts.0, counts.1, additional))
        writer.bytes(UnsafeRawBufferPointer(rebasing: packet[DNSHeader.byteCount..<query.questionEnd]))
    }

    func finishReply(_ writer: inout ReplyWriter, _ rcode: ResponseCode) {
        guard let edns = query.edns else { return }
        writer.opt(payload: options.maxUDPPayload, rcode: rcode, dnssecOK: edns.dnssecOK)
    }
}
