import DNSWire

/// Turns zone models into prepared wire answers (one per name and type), the name table and
/// the per-zone negative-answer templates.
struct SnapshotCompiler: Sendable {
    let zones: [ZoneModel]
    let configuration: RegistryConfiguration
    private(set) var keys: [[UInt8]] = []
    private var entries: [NameEntry] = []
    private var answers: [PreparedAnswer] = []
    private var boundaries: [RRsetBoundary] = []
    private var answerBytes: [UInt8] = []
    private var externalTargets: [DomainName] = []
    private var externalIndex: [DomainName: Int] = [:]
    /// One writer for every answer: `reset` keeps its buffers, sparing allocations per answer.
    private var writer = WireWriter()

    /// How many CNAMEs an in-zone chase follows before giving up (loops, long chains).
    static let maxChain = 8

    init(zones: [ZoneModel], configuration: RegistryConfiguration) {
        self.zones = zones
        self.configuration = configuration
    }

    /// Names below this are compiled on one thread: starting workers would cost more.
    static let parallelThreshold = 20_000

    /// `parallel` nil decides by size; tests force either way.
    mutating func compile(parallel: Bool? = nil) {
        // A name can sit in two zones only when one zone nests in another (a zone file for a
        // subdomain of the cluster domain); the first zone holding it wins. Without nesting,
        // every name is compiled once and the set (hashing 400k names at 100k services) is spared.
        let nested = zones.indices.contains { outer in
            zones.indices.contains { inner in inner != outer && zones[inner].apex.isSubdomain(of: zones[outer].apex) }
        }
        let names = zones.reduce(0) { $0 + $1.nodes.count }
        if nested || !(parallel ?? (names >= Self.parallelThreshold)) {
            var seen: Set<DomainName> = []
            if nested { seen.reserveCapacity(names) }
            for (zoneIndex, zone) in zones.enumerated() {
                // Order does not matter for lookups; canonical sorting would dominate the build.
                for (name, records) in zone.nodes where !nested || seen.insert(name).inserted {
                    compileNode(name, records: records, zone: zoneIndex)
                }
            }
            return
        }
        compileInParallel(parts: 2)
    }

    /// Each worker compiles its share of every zone's names into its own arena; the arenas are
    /// then appended in order, with offsets and indexes moved by what came before. Answers are
    /// independent of one another, so the result is the sequential one but for name order.
    private mutating func compileInParallel(parts: Int) {
        let (zones, configuration) = (zones, configuration)
        let workers = concurrentMap(count: parts) { part in
            var worker = SnapshotCompiler(zones: zones, configuration: configuration)
            worker.compileShare(part, of: parts)
            return worker
        }
        for worker in workers { append(worker) }
    }

    /// Names `[count * part / parts, count * (part + 1) / parts)` of every zone.
    private mutating func compileShare(_ part: Int, of parts: Int) {
        for (zoneIndex, zone) in zones.enumerated() {
            let count = zone.nodes.count
            let lower = count * part / parts, upper = count * (part + 1) / parts
            var index = zone.nodes.index(zone.nodes.startIndex, offsetBy: lower)
            for _ in lower..<upper {
                let (name, records) = zone.nodes[index]
                compileNode(name, records: records, zone: zoneIndex)
                zone.nodes.formIndex(after: &index)
            }
        }
    }

    /// Appends another compiler's names and answers to this one's.
    private mutating func append(_ other: SnapshotCompiler) {
        let answerBase = answers.count, boundaryBase = boundaries.count, byteBase = answerBytes.count
        keys.append(contentsOf: other.keys)
        for var entry in other.entries {
            entry.answers = (entry.answers.lowerBound + answerBase)..<(entry.answers.upperBound + answerBase)
            entries.append(entry)
        }
        for var answer in other.answers {
            answer.start += byteBase
            answer.rrsetBoundaries =
                (answer.rrsetBoundaries.lowerBound + boundaryBase)..<(answer.rrsetBoundaries.upperBound + boundaryBase)
            answer.externalTarget = answer.externalTarget.map { externalTargetIndex(other.externalTargets[$0]) }
            answers.append(answer)
        }
        boundaries.append(contentsOf: other.boundaries)
        answerBytes.append(contentsOf: other.answerBytes)
    }

    private mutating func compileNode(_ name: DomainName, records: [ResourceRecord], zone: Int) {
        let first = answers.count
        let byType = Self.groupedByType(records)
        if let cname = byType.first(where: { $0.type == .cname })?.records {
            // A CNAME owner holds nothing else (RFC 1034 §3.6.2): one generic answer plus A and
            // AAAA with the target's records chased through our own zones.
            let target = cname[0]
            prepare(name, type: .cname, chain: [[target]], additional: [], external: nil)
            for type in [RecordType.a, .aaaa] {
                let (chain, end) = chase(from: target, type: type)
                switch end {
                case .external(let index):
                    prepare(name, type: type, chain: [[target]] + chain, additional: [], external: index)
                case .answered:
                    prepare(name, type: type, chain: [[target]] + chain, additional: [], external: nil)
                case .noData(let soa):
                    prepare(name, type: type, chain: [[target]] + chain, authority: [soa], additional: [], external: nil)
                }
            }
            answers[first].externalTarget = answers[first + 1].externalTarget
        } else {
            for (type, rrset) in byType.sorted(by: { $0.type.rawValue < $1.type.rawValue }) {
                prepare(name, type: type, chain: [rrset], additional: additionalRecords(for: rrset), external: nil)
            }
        }
        keys.append(name.lowercased().wire)  // shares the node name's storage (already lower case)
        let synthesizes = zones[zone].podNamespaces.contains(name)
        entries.append(NameEntry(zone: zone, answers: first..<answers.count, synthesizesPods: synthesizes))
    }

    /// The RRsets of one node, records in their original order. A node has few types, so a
    /// small array beats a Dictionary (which cost an allocation per node).
    private static func groupedByType(_ records: [ResourceRecord]) -> [(type: RecordType, records: [ResourceRecord])] {
        var groups: [(type: RecordType, records: [ResourceRecord])] = []
        for record in records {
            if let group = groups.firstIndex(where: { $0.type == record.type }) {
                groups[group].records.append(record)
            } else {
                groups.append((record.type, [record]))
            }
        }
        return groups
    }

    /// How an in-zone CNAME chase ended.
    private enum ChaseEnd {
        case answered
        /// The chain ends in our zones without the asked type: that zone's SOA goes in authority.
        case noData(ResourceRecord)
        /// The chain leaves our zones: index of the name the server resolves upstream.
        case external(Int)
    }

    /// Follows a CNAME through our authoritative zones, collecting the RRsets on the way.
    private mutating func chase(from cname: ResourceRecord, type: RecordType) -> ([[ResourceRecord]], ChaseEnd) {
        var chain: [[ResourceRecord]] = []
        var current = cname
        for _ in 0..<Self.maxChain {
            guard case .cname(let target) = current.data else { break }
            guard let zone = authoritativeZone(for: target) else { return (chain, .external(externalTargetIndex(target))) }
            let records = zone.records(at: target) ?? []
            if let next = records.first(where: { $0.type == .cname }) {
                chain.append([next])
                current = next
                continue
            }
            let rrset = records.filter { $0.type == type }
            guard !rrset.isEmpty else { return (chain, .noData(zone.soa)) }
            chain.append(rrset)
            return (chain, .answered)
        }
        return (chain, .answered)  // a loop or an over-long chain: answer what we have
    }

    private mutating func externalTargetIndex(_ name: DomainName) -> Int {
        if let index = externalIndex[name] { return index }
        externalTargets.append(name)
        externalIndex[name] = externalTargets.count - 1
        return externalTargets.count - 1
    }

    /// The cluster or file zone holding `name`; reverse zones are not authoritative for misses.
    /// The deepest matching apex wins. A plain loop: this runs for every SRV target.
    private func authoritativeZone(for name: DomainName) -> ZoneModel? {
        var best: ZoneModel?
        for zone in zones where zone.kind != .reverse && name.isSubdomain(of: zone.apex) {
            if best.map({ $0.apex.wire.count < zone.apex.wire.count }) ?? true { best = zone }
        }
        return best
    }

    /// A/AAAA of the names SRV, MX and NS records point at, when we hold them (RFC 2782,
    /// RFC 1035 §3.3.9).
    private func additionalRecords(for rrset: [ResourceRecord]) -> [ResourceRecord] {
        var result: [ResourceRecord] = []
        for record in rrset {
            let target: DomainName
            switch record.data {
            case .srv(let srv): target = srv.target
            case .mx(_, let exchange): target = exchange
            case .ns(let host): target = host
            default: continue
            }
            guard let zone = authoritativeZone(for: target) else { continue }
            // A linear check: an RRset has a handful of targets (hashing records cost more).
            for address in zone.records(at: target) ?? [] where address.type == .a || address.type == .aaaa {
                if !result.contains(address) { result.append(address) }
            }
        }
        return result
    }

    private mutating func prepare(
        _ owner: DomainName, type: RecordType, chain: [[ResourceRecord]], authority: [ResourceRecord] = [],
        additional: [ResourceRecord], external: Int?
    ) {
        let questionEnd = DNSHeader.byteCount + owner.wire.count + 4
        writer.reset(prefixLength: questionEnd)
        writer.registerName(owner, at: DNSHeader.byteCount)
        let firstBoundary = boundaries.count
        var recordCount: UInt16 = 0
        for rrset in chain {
            for record in rrset { writer.writeRecord(record) }
            recordCount += UInt16(rrset.count)
            boundaries.append(RRsetBoundary(byteEnd: writer.count - questionEnd, recordEnd: recordCount))
        }
        let answerLength = writer.count - questionEnd
        for record in authority { writer.writeRecord(record) }
        let authorityLength = writer.count - questionEnd - answerLength
        for record in additional { writer.writeRecord(record) }
        let start = answerBytes.count
        answerBytes.append(contentsOf: writer.bytes[questionEnd...])
        answers.append(PreparedAnswer(
            type: type, start: start, answerLength: answerLength, authorityLength: authorityLength,
            additionalLength: answerBytes.count - start - answerLength - authorityLength, answerCount: recordCount,
            authorityCount: UInt16(authority.count), additionalCount: UInt16(additional.count),
            rrsetBoundaries: firstBoundary..<boundaries.count, externalTarget: external))
    }

    func makeSnapshot(
        statistics: RegistryStatistics, podNamespaces: [IPAddress: String], clusterSynced: Bool
    ) -> RegistrySnapshot {
        let compiledZones = zones.map { zone in
            var tail = WireWriter(capacity: 64)
            tail.compresses = false
            tail.writeUInt16(RecordType.soa.rawValue)
            tail.writeUInt16(RecordClass.in.rawValue)
            tail.writeUInt32(zone.soa.ttl)
            tail.writeUInt16(0)
            tail.writeRData(zone.soa.data)
            tail.setUInt16(UInt16(tail.count - 10), at: 8)
            return CompiledZone(
                apex: zone.apex, apexWire: zone.apex.lowercasedWire, kind: zone.kind, soaTail: tail.bytes,
                ttl: configuration.ttl)
        }
        return RegistrySnapshot(
            zones: compiledZones, names: NameTable(keys: keys), entries: entries, answers: answers,
            boundaries: boundaries, answerBytes: answerBytes, externalTargets: externalTargets,
            configuration: configuration, statistics: statistics, podNamespaces: podNamespaces,
            clusterSynced: clusterSynced)
    }
}
