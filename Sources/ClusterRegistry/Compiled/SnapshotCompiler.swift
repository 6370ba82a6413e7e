import DNSWire

/// What the compiler needs to know about every zone: its apex, kind and SOA, by zone index
/// (the cluster zone first, then the reverse zones, then the zone files).
struct ZoneLayout: Sendable {
    var apexes: [DomainName]
    var kinds: [ZoneModel.Kind]
    var soas: [ResourceRecord]
    /// `--single-ptr`: reverse names keep one PTR (`SinglePointer`).
    var singlePointer = false

    init(_ zones: [ZoneModel]) {
        apexes = zones.map(\.apex)
        kinds = zones.map(\.kind)
        soas = zones.map(\.soa)
    }

    /// The clusterset zone's index and apex (`--multicluster`), when there is one.
    var multiclusterZone: (zone: Int, apex: DomainName)? {
        kinds.firstIndex(of: .multicluster).map { ($0, apexes[$0]) }
    }

    /// The cluster zone's apex, when there is one.
    var clusterDomain: DomainName? { kinds.firstIndex(of: .cluster).map { apexes[$0] } }

    /// The cluster or file zone holding `name`; reverse and alias zones are not authoritative
    /// for misses.
    /// The deepest matching apex wins. A plain loop: this runs for every SRV target.
    func authoritativeZone(for name: DomainName) -> Int? {
        var best: Int?
        for index in apexes.indices where kinds[index].ownsEveryName && name.isSubdomain(of: apexes[index]) {
            if best.map({ apexes[$0].wire.count < apexes[index].wire.count }) ?? true { best = index }
        }
        return best
    }
}

/// Where the compiler reads the records of names other than the one it compiles: CNAME chain
/// links and the targets of SRV, MX and NS records. A full build reads its zone models; an
/// incremental one builds the owning unit's records on demand and remembers that it asked.
protocol RecordLookup {
    /// The records at `name`: empty when it exists without records (an empty non-terminal),
    /// nil when it does not exist.
    mutating func records(at name: DomainName, zone: Int) -> [ResourceRecord]?
    /// Whether the responder makes up `name`'s children at query time (`<ns>.pod.<zone>` with
    /// `--pods insecure`): they exist without prepared records.
    mutating func synthesizesChildren(of name: DomainName, zone: Int) -> Bool
    /// The answer being compiled carries zone `zone`'s SOA (an in-zone CNAME chain ending in
    /// NODATA), so it changes with the serial.
    mutating func embedsSOA(of zone: Int)
}

/// Turns the records of names into prepared wire answers (one per name and type): the arrays
/// a `CompiledSegment` is made of (DESIGN.md §3 step 4).
struct SnapshotCompiler: Sendable, AnswerStorage {
    let layout: ZoneLayout
    private(set) var keys = KeyArena()
    private(set) var entries: [NameEntry] = []
    private(set) var answers: [StoredAnswer] = []
    private(set) var extras: [AnswerExtras] = []
    private(set) var boundaries: [RRsetBoundary] = []
    private(set) var answerBytes: [UInt8] = []
    private var targets = ExternalTargets()
    /// One writer for every answer: `reset` keeps its buffers, sparing allocations per answer.
    private var writer = WireWriter()
    /// Answers cut to fit a DNS message since the last `takeCappedAnswers`, one line each.
    private var cappedAnswers: [String] = []

    /// The most bytes of answer and authority sections a prepared answer holds: a reply must
    /// fit one DNS message (65,535 bytes over TCP, RFC 1035 §4.2.2) with its header, the
    /// longest question (255 + 4 bytes, RFC 1035 §2.3.4) and an OPT record. Record counts stay
    /// below 2¹⁶ too, since the smallest record takes 11 bytes.
    static let sectionByteLimit = 65_535 - DNSHeader.byteCount - 259 - 11

    /// How many CNAMEs an in-zone chase follows before giving up (loops, long chains).
    static let maxChain = 8

    init(layout: ZoneLayout) {
        self.layout = layout
    }

    /// Room for about `names` names (a full build knows how many): arrays grown by doubling
    /// fault in fresh pages again and again.
    mutating func reserve(names: Int) {
        keys.reserve(keys: names, bytes: names * 40)
        entries.reserveCapacity(names)
        answers.reserveCapacity(names + names / 4)
        extras.reserveCapacity(names / 64)
        answerBytes.reserveCapacity(names * 64)
    }

    /// Compiles one node: every RRset it holds, and for a CNAME owner the A and AAAA answers
    /// with the chain chased through our zones.
    mutating func compileNode(
        _ name: DomainName, records: [ResourceRecord], zone: Int, synthesizesPods: Bool, lookup: inout some RecordLookup
    ) {
        let first = answers.count
        // One PTR per address: chosen here, where every build path (a unit's own names, the
        // shards' merge of names several units make, the reference whole-model build) passes.
        var records = records
        if layout.kinds[zone] == .reverse {
            // A clusterset name gets a PTR only where the address has no other (KEP-1645 §2.3.3
            // as first written): a local Service's or endpoint's name wins.
            if let multicluster = layout.multiclusterZone?.apex {
                let local = records.filter { record in
                    guard case .ptr(let target) = record.data else { return true }
                    return !target.lowercased().isSubdomain(of: multicluster)
                }
                if !local.isEmpty { records = local }
            }
            if layout.singlePointer { records = SinglePointer.choose(for: name, among: records, clusterDomain: layout.clusterDomain) }
        }
        if let type = records.first?.type, type != .cname, records.allSatisfy({ $0.type == type }) {
            // Most nodes hold one RRset (an address, a PTR, a port's SRV): answered as it is,
            // without the grouping's array or a chain's (two allocations per name, issue #9).
            prepare(
                name, type: type, chain: CollectionOfOne(records),
                additional: additionalRecords(for: records, of: (name, zone, records), lookup: &lookup), external: nil)
        } else if !records.isEmpty {
            compileRRsets(name, records: records, zone: zone, lookup: &lookup)
        }
        keys.append(name.lowercased().wire)  // no copy when already lower case, the usual case
        entries.append(NameEntry(zone: zone, answers: first..<answers.count, synthesizesPods: synthesizesPods))
    }

    /// Adds an answer of one RRset, with an optional additional section, whose records the
    /// caller writes itself, in the form `write` would give them: a ClusterIP Service's few
    /// fixed shapes (`ServiceAnswers`). `answer` and `additional` append their sections'
    /// bytes, as they follow the question.
    mutating func appendAnswer(
        type: RecordType, answerCount: Int, additionalCount: Int,
        answer: (inout [UInt8]) -> Void, additional: (inout [UInt8]) -> Void
    ) {
        let start = answerBytes.count
        answer(&answerBytes)
        let answerEnd = answerBytes.count
        additional(&answerBytes)
        // Sections of a few records each, far below `sectionByteLimit`.
        answers.append(StoredAnswer(
            type: type, answerCount: UInt16(clamping: answerCount), additionalCount: UInt16(clamping: additionalCount),
            answerLength: UInt16(clamping: answerEnd - start), additionalLength: UInt16(clamping: answerBytes.count - answerEnd),
            start: UInt32(start), extras: StoredAnswer.noExtras))
    }

    /// Adds the name whose lower-case wire form is `key`, of `zone`, answered by the answers
    /// appended since `first` (`appendAnswer`): what `compileNode` ends with.
    mutating func appendName(key: some Collection<UInt8>, zone: Int, answersFrom first: Int) {
        keys.append(key)
        entries.append(NameEntry(zone: zone, answers: first..<answers.count, synthesizesPods: false))
    }

    /// Prepares the answers of a node with several types, or a CNAME: one per type, and for a
    /// CNAME owner the A and AAAA answers with the chain chased through our zones.
    private mutating func compileRRsets(_ name: DomainName, records: [ResourceRecord], zone: Int, lookup: inout some RecordLookup) {
        if Self.isInTypeRuns(records) {
            // Each type's records follow each other, types ascending (a Service's addresses,
            // then its SRV records): each run is answered in place, with no groups to allocate
            // (two or three arrays per Service name, issue #9: build time).
            var start = 0
            for index in 1...records.count where index == records.count || records[index].type != records[start].type {
                let rrset = records[start..<index]
                prepare(
                    name, type: rrset[start].type, chain: CollectionOfOne(rrset),
                    additional: additionalRecords(for: rrset, of: (name, zone, records), lookup: &lookup), external: nil)
                start = index
            }
            return
        }
        let byType = Self.groupedByType(records)
        if let cname = byType.first(where: { $0.type == .cname })?.records {
            // A CNAME owner holds nothing else (RFC 1034 §3.6.2): one generic answer plus A and
            // AAAA with the target's records chased through our own zones.
            let target = cname[0]
            var chased: [(type: RecordType, chain: [[ResourceRecord]], end: ChaseEnd)] = []
            for type in [RecordType.a, .aaaa] {
                let (chain, end) = chase(from: target, type: type, lookup: &lookup)
                chased.append((type, chain, end))
            }
            // When the chain leaves our zones, the CNAME answer itself leads out too: the
            // server appends the target's records to it as to the A and AAAA answers.
            var external: Int?
            if case .external(let index) = chased[0].end { external = index }
            prepare(name, type: .cname, chain: [[target]], additional: [], external: external)
            for (type, chain, end) in chased {
                switch end {
                case .external(let index):
                    prepare(name, type: type, chain: [[target]] + chain, additional: [], external: index)
                case .answered:
                    prepare(name, type: type, chain: [[target]] + chain, additional: [], external: nil)
                case .noData(let soa):
                    prepare(name, type: type, chain: [[target]] + chain, authority: [soa], additional: [], external: nil)
                case .nameError(let soa):
                    prepare(
                        name, type: type, chain: [[target]] + chain, authority: [soa], additional: [], external: nil,
                        nameError: true)
                }
            }
        } else {
            for (type, rrset) in byType.count == 1 ? byType : byType.sorted(by: { $0.type.rawValue < $1.type.rawValue }) {
                prepare(
                    name, type: type, chain: [rrset], additional: additionalRecords(for: rrset, of: (name, zone, records), lookup: &lookup),
                    external: nil)
            }
        }
    }

    /// Whether `records` (not empty) hold no CNAME and each type's records follow each other,
    /// types in ascending order: the order `compileRRsets` answers types in.
    private static func isInTypeRuns(_ records: [ResourceRecord]) -> Bool {
        var previous = records[0].type
        guard previous != .cname else { return false }
        for record in records.dropFirst() where record.type != previous {
            guard record.type.rawValue > previous.rawValue, record.type != .cname else { return false }
            previous = record.type
        }
        return true
    }

    /// The RRsets of one node, records in their original order. A node has few types, so a
    /// small array beats a Dictionary (which cost an allocation per node).
    private static func groupedByType(_ records: [ResourceRecord]) -> [(type: RecordType, records: [ResourceRecord])] {
        // Most nodes hold one type (an address, a PTR, a port's SRV): their records are the
        // one group, shared rather than copied record by record.
        if let type = records.first?.type, records.allSatisfy({ $0.type == type }) { return [(type, records)] }
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
        /// The chain ends in our zones at a name that does not exist: NXDOMAIN with that zone's
        /// SOA (RFC 6604 §2.1; RFC 2308 §2.1).
        case nameError(ResourceRecord)
        /// The chain leaves our zones: index of the name the server resolves upstream.
        case external(Int)
    }

    /// Follows a CNAME through our authoritative zones, collecting the RRsets on the way.
    private mutating func chase(
        from cname: ResourceRecord, type: RecordType, lookup: inout some RecordLookup
    ) -> ([[ResourceRecord]], ChaseEnd) {
        var chain: [[ResourceRecord]] = []
        var current = cname
        for _ in 0..<Self.maxChain {
            guard case .cname(let target) = current.data else { break }
            guard let zone = layout.authoritativeZone(for: target) else {
                return (chain, .external(targets.intern(target)))
            }
            guard let records = lookup.records(at: target, zone: zone)
                ?? (lookup.synthesizesChildren(of: target.parent, zone: zone) ? [] : nil)
            else {
                lookup.embedsSOA(of: zone)
                return (chain, .nameError(layout.soas[zone]))
            }
            if let next = records.first(where: { $0.type == .cname }) {
                chain.append([next])
                current = next
                continue
            }
            let rrset = records.filter { $0.type == type }
            guard !rrset.isEmpty else {
                lookup.embedsSOA(of: zone)
                return (chain, .noData(layout.soas[zone]))
            }
            chain.append(rrset)
            return (chain, .answered)
        }
        return (chain, .answered)  // a loop or an over-long chain: answer what we have
    }

    /// A/AAAA of the names SRV, MX and NS records point at, when we hold them (RFC 2782,
    /// RFC 1035 §3.3.9).
    /// `node` is the name being compiled, its zone and its records: a Service's SRV records at
    /// its own name point at that name, whose addresses are then at hand without a lookup.
    private func additionalRecords(
        for rrset: some RandomAccessCollection<ResourceRecord>, of node: (name: DomainName, zone: Int, records: [ResourceRecord]),
        lookup: inout some RecordLookup
    ) -> [ResourceRecord] {
        /// The records at `target` in `zone`. In the cluster zone the node's own name is read
        /// from its records: the lookup would return the same array, and notes nothing for a
        /// name of the unit being compiled (`TrackingLookup`).
        func records(at target: DomainName, zone: Int) -> [ResourceRecord] {
            if zone == 0, node.zone == 0, target == node.name { return node.records }  // == ignores case
            return lookup.records(at: target, zone: zone) ?? []
        }
        var result: [ResourceRecord] = []
        guard rrset.count > Self.fewRecords else {
            // A handful of records (a port's SRV, a Service's ports): the earlier records and
            // the result are scanned, with no sets to allocate (two per SRV RRset, issue #9).
            for (offset, record) in rrset.enumerated() {
                guard let target = Self.target(of: record),
                      !rrset.prefix(offset).contains(where: { Self.target(of: $0) == target }),  // == ignores case
                      let zone = layout.authoritativeZone(for: target) else { continue }
                for address in records(at: target, zone: zone)
                where (address.type == .a || address.type == .aaaa) && !result.contains(address) {
                    result.append(address)
                }
            }
            return result
        }
        // Each target is read once and each address kept once: a Service with 20,000 ports
        // points 20,000 SRV records at one name (a linear scan alone was quadratic).
        var targets = SeenSet<DomainName>()
        var kept = SeenSet<ResourceRecord>()
        for record in rrset {
            guard let target = Self.target(of: record), targets.insert(target.lowercased()),
                  let zone = layout.authoritativeZone(for: target) else { continue }
            for address in records(at: target, zone: zone) where address.type == .a || address.type == .aaaa {
                if kept.insert(address) { result.append(address) }
            }
        }
        return result
    }

    /// Up to this many records, `additionalRecords` scans instead of keeping sets.
    private static var fewRecords: Int { 8 }

    /// The name an SRV, MX or NS record points at.
    private static func target(of record: ResourceRecord) -> DomainName? {
        switch record.data {
        case .srv(let srv): return srv.target
        case .mx(_, let exchange): return exchange
        case .ns(let host): return host
        default: return nil
        }
    }

    private mutating func prepare<Chain: RandomAccessCollection>(
        _ owner: DomainName, type: RecordType, chain: Chain, authority: [ResourceRecord] = [],
        additional: [ResourceRecord], external: Int?, nameError: Bool = false
    ) where Chain.Element: RandomAccessCollection<ResourceRecord> {
        let sectionEnds = write(owner, chain: chain, authority: authority, additional: additional)
        if sectionEnds.authority > Self.sectionByteLimit, !chain.isEmpty {
            // Too large for any message: keep as many leading records of the last RRset (in the
            // stable order the registry built) as fit, and say so. The additional section is
            // optional (RFC 2181 §9): it goes first. A record takes at least 11 bytes, which
            // bounds the search.
            var chain = chain.map { Array($0) }
            let last = chain.count - 1
            let total = chain.reduce(0) { $0 + $1.count }
            let full = chain[last]
            var fits = 0, tooMany = min(full.count, Self.sectionByteLimit / 11 + 1)
            while tooMany - fits > 1 {
                let middle = (fits + tooMany) / 2
                chain[last] = Array(full.prefix(middle))
                if write(owner, chain: chain, authority: authority, additional: []).authority <= Self.sectionByteLimit {
                    fits = middle
                } else {
                    tooMany = middle
                }
            }
            chain[last] = Array(full.prefix(fits))
            let capped = write(owner, chain: chain, authority: authority, additional: [])
            cappedAnswers.append(
                "\(owner) \(type): \(total) records do not fit a DNS message; serving the first \(chain.reduce(0) { $0 + $1.count })")
            store(owner, type: type, chain: chain, sectionEnds: capped, authority: authority, additional: additional, external: external, nameError: nameError)
            return
        }
        let fitting = sectionEnds.additional > Self.sectionByteLimit
            ? write(owner, chain: chain, authority: authority, additional: []) : sectionEnds
        store(owner, type: type, chain: chain, sectionEnds: fitting, authority: authority, additional: additional, external: external, nameError: nameError)
    }

    /// Keeps what `write` wrote last as the answer to `owner` and `type`.
    private mutating func store(
        _ owner: DomainName, type: RecordType, chain: some RandomAccessCollection<some RandomAccessCollection<ResourceRecord>>,
        sectionEnds: (answer: Int, authority: Int, additional: Int), authority: [ResourceRecord],
        additional: [ResourceRecord], external: Int?, nameError: Bool
    ) {
        let questionEnd = DNSHeader.byteCount + owner.wire.count + 4
        let firstBoundary = boundaries.count
        var recordCount = 0
        if chain.count > 1 {
            for (rrset, byteEnd) in zip(chain, rrsetByteEnds) {
                recordCount += rrset.count
                boundaries.append(RRsetBoundary(byteEnd: byteEnd, recordEnd: UInt16(clamping: recordCount)))
            }
        } else {
            recordCount = chain.first?.count ?? 0
        }
        let start = answerBytes.count
        answerBytes.append(contentsOf: writer.bytes[questionEnd...])
        let additionalCount = sectionEnds.additional > sectionEnds.authority ? additional.count : 0
        // Every section fits `sectionByteLimit` (< 2¹⁶) by now: the UInt16 conversions cannot trap.
        var stored = StoredAnswer(
            type: type, answerCount: UInt16(clamping: recordCount), additionalCount: UInt16(clamping: additionalCount),
            answerLength: UInt16(sectionEnds.answer), additionalLength: UInt16(sectionEnds.additional - sectionEnds.authority),
            start: UInt32(start), extras: StoredAnswer.noExtras)
        if chain.count > 1 || !authority.isEmpty || external != nil || nameError {
            stored.extras = UInt32(extras.count)
            extras.append(AnswerExtras(
                authorityLength: UInt16(sectionEnds.authority - sectionEnds.answer), authorityCount: UInt16(clamping: authority.count),
                boundaries: CompactRange(firstBoundary..<boundaries.count), externalTarget: external.map(Int32.init) ?? -1,
                nameError: nameError))
        }
        answers.append(stored)
    }

    /// Byte ends of the RRsets `write` last wrote, relative to the end of the question.
    private var rrsetByteEnds: [Int] = []

    /// Writes the sections after a question for `owner`; returns where each ends, relative to
    /// the end of the question.
    private mutating func write(
        _ owner: DomainName, chain: some Collection<some Collection<ResourceRecord>>, authority: [ResourceRecord], additional: [ResourceRecord]
    ) -> (answer: Int, authority: Int, additional: Int) {
        let questionEnd = DNSHeader.byteCount + owner.wire.count + 4
        writer.reset(prefixLength: questionEnd)
        writer.registerName(owner, at: DNSHeader.byteCount)
        rrsetByteEnds.removeAll(keepingCapacity: true)
        for rrset in chain {
            for record in rrset { writer.writeRecord(record) }
            rrsetByteEnds.append(writer.count - questionEnd)
        }
        let answer = writer.count - questionEnd
        for record in authority { writer.writeRecord(record) }
        let authorityEnd = writer.count - questionEnd
        for record in additional { writer.writeRecord(record) }
        return (answer, authorityEnd, writer.count - questionEnd)
    }

    func key(_ index: Int) -> ArraySlice<UInt8> { keys.key(index) }

    var externalTargets: [DomainName] { targets.names }

    /// Forgets every compiled name, keeping the storage: a full build compiles in chunks,
    /// handing each to the shards before the next.
    mutating func removeAll() {
        keys.removeAll()
        entries.removeAll(keepingCapacity: true)
        answers.removeAll(keepingCapacity: true)
        extras.removeAll(keepingCapacity: true)
        boundaries.removeAll(keepingCapacity: true)
        answerBytes.removeAll(keepingCapacity: true)
        targets.removeAll()
    }

    /// The answers cut since the last call, forgotten once taken.
    mutating func takeCappedAnswers() -> [String] {
        defer { cappedAnswers.removeAll() }
        return cappedAnswers
    }
}

/// Values met so far: a linear scan while there are few (an SRV RRset has one target per
/// port or endpoint, usually a handful), a hash set once there are many. Two hash sets per
/// SRV RRset were 4 % of a 100k-Service build (issue #9).
private struct SeenSet<Element: Hashable> {
    private var few: [Element] = []
    private var many: Set<Element> = []
    private static var linearLimit: Int { 16 }

    /// Whether `element` is new (and now seen).
    mutating func insert(_ element: Element) -> Bool {
        if many.isEmpty {
            if few.contains(element) { return false }
            if few.count < Self.linearLimit {
                few.append(element)
                return true
            }
            many = Set(few)
        }
        return many.insert(element).inserted
    }
}

/// Reads records straight from zone models: what a full build consults.
struct ModelLookup: RecordLookup {
    let zones: [ZoneModel]

    func records(at name: DomainName, zone: Int) -> [ResourceRecord]? { zones[zone].records(at: name) }

    func synthesizesChildren(of name: DomainName, zone: Int) -> Bool {
        zone < zones.count && zones[zone].podNamespaces.contains(name.lowercased())
    }

    func embedsSOA(of zone: Int) {}
}
