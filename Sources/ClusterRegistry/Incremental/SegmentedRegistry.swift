import DNSWire

/// The registry as the builder thread keeps it: the objects (the one copy), the compiled
/// segments of the snapshot now served, and the small indexes that let one change rebuild
/// only what it touches (DESIGN.md §4). `snapshot()` publishes an immutable root sharing every
/// segment; `apply` updates it in place, and `init` builds it whole. Both give the same answers
/// byte for byte (the equivalence property test holds them to it).
///
/// Not thread-safe: one reload thread owns it.
public struct SegmentedRegistry: Sendable {
    /// Cluster and reverse names are spread over this many shards: at 100k Services about 180
    /// names each, so patching one costs microseconds, and an empty shard is one pointer.
    public static let shardCount = 4096
    /// Names from which a full build is split over two threads: below it, starting them costs more.
    static let parallelThreshold = 20_000

    public internal(set) var objects: ClusterObjects
    public var configuration: RegistryConfiguration { objects.configuration }
    public private(set) var staticZones: [ZoneModel]
    var layout: ZoneLayout
    var shards: [CompiledSegment]
    var staticSegment: CompiledSegment
    var pods = PodDirectory()
    public internal(set) var serial: UInt32
    public var clusterSynced: Bool
    /// Kinds that loaded but mean nothing to DNS, for the statistics (manifests only).
    public var skippedKinds: [String: Int] = [:]
    var dependencies = UnitDependencies()
    var warnings: [RegistryUnit: [String]] = [:]
    var counts = RegistryCounts()
    /// With `--single-ptr`: the whole PTR RRset of every reverse name that has more than one
    /// PTR, since its compiled answer holds only the one chosen (`SinglePointer`), and an
    /// incremental update needs the others (`updatePointers`). Addresses shared by several
    /// names are few; empty without the flag.
    var pointerSets: [DomainName: [ResourceRecord]] = [:]

    static let shardShift = UInt64(64 - shardCount.trailingZeroBitCount)
    /// Splits full builds over two threads (true) or not (false) whatever their size; nil
    /// decides by size. Tests force both ways.
    var parallelBuild: Bool?
    /// How a full build makes its records: tests compare the two.
    var buildMethod = FullBuildMethod.unitByUnit
    /// Names a full build's thread compiles before handing them to the shards: enough to
    /// amortize the hand-over, few enough to be a small part of the snapshot. Tests make it tiny.
    var fullBuildChunkNames = 16_384

    /// Builds everything from `changes` applied to an empty store.
    public init(
        configuration: RegistryConfiguration, staticZones: [ZoneModel] = [], changes: [ObjectChange] = [],
        serial: UInt32, clusterSynced: Bool = true
    ) {
        self.init(configuration: configuration, staticZones: staticZones, changes: changes, serial: serial,
                  clusterSynced: clusterSynced, parallel: nil)
    }

    init(
        configuration: RegistryConfiguration, staticZones: [ZoneModel], changes: [ObjectChange], serial: UInt32,
        clusterSynced: Bool, parallel: Bool?, method: FullBuildMethod = .unitByUnit, chunkNames: Int = 16_384
    ) {
        parallelBuild = parallel
        buildMethod = method
        fullBuildChunkNames = chunkNames
        objects = ClusterObjects(configuration: configuration)
        self.staticZones = staticZones
        self.serial = serial
        self.clusterSynced = clusterSynced
        layout = ZoneLayout([])
        shards = []
        staticSegment = .empty
        objects.reserveCapacity(changes.count)
        for change in changes { objects.apply(change) }
        rebuildAll()
    }

    /// How the summary line counts ServiceImports and their slices left out without `--multicluster`.
    static let ignoredMulticlusterNote = "ServiceImport or multicluster EndpointSlice (no --multicluster)"

    /// The root readers take: every segment shared, nothing copied.
    public func snapshot(buildSeconds: Double = 0) -> RegistrySnapshot {
        var statistics = counts.statistics(warnings: warnings)
        statistics.skippedKinds = skippedKinds
        if !objects.ignoredMulticluster.isEmpty {
            statistics.skippedKinds[Self.ignoredMulticlusterNote, default: 0] += objects.ignoredMulticluster.count
        }
        statistics.buildSeconds = buildSeconds
        statistics.names = shards.reduce(staticSegment.count) { $0 + $1.count }
        return RegistrySnapshot(
            zones: compiledZones(), shards: shards, staticSegment: staticSegment, configuration: configuration,
            statistics: statistics, podNamespaces: pods, clusterSynced: clusterSynced, serial: serial)
    }

    /// Every zone with every record, for `clusterdns records` and tests (built on demand: the
    /// registry keeps no record model).
    public func zoneModels() -> [ZoneModel] {
        ClusterRecordsBuilder.build(objects, serial: serial, parallel: nil).zones + staticZones
    }

    /// Replaces the zone files and builds everything again (they may touch any cluster answer
    /// through CNAME chains and SRV targets; they change rarely).
    public mutating func replaceStaticZones(_ zones: [ZoneModel], serial: UInt32) {
        staticZones = zones
        self.serial = serial
        rebuildAll()
    }

    /// Stores changes without compiling anything: while an API source has not finished its
    /// first lists nothing is served from the cluster zone, and one full build follows them.
    public mutating func store(_ changes: [ObjectChange]) {
        for change in changes {
            let replacement = objects.apply(change)
            counts.count(replacing: replacement.previous, with: replacement.stored)
        }
        counts.namespaces = objects.namespaceCount
    }

    /// The next SOA serial: the clock's seconds, or one more than the last when changes come
    /// faster than once a second (the serial must grow with every published change).
    public static func nextSerial(after serial: UInt32, now: UInt32 = SnapshotBuilder.wallClockSerial()) -> UInt32 {
        Int32(bitPattern: now &- serial) > 0 ? now : serial &+ 1  // RFC 1982 serial arithmetic
    }

    /// Builds every segment from the objects, unit by unit (`compileUnits`), or, for the
    /// equivalence tests' reference, from one record model of the whole cluster.
    mutating func rebuildAll() {
        let pieces = buildMethod == .wholeModel ? compileWholeModel() : compileUnits()
        let names = pieces.reduce(0) { $0 + $1.builders.reduce(0) { $0 + $1.entries.count } }
        let parts = buildParts(names, threshold: Self.parallelThreshold)
        shards = ShardPieces.segments(from: consume pieces, layout: layout, parts: parts, trimsWhileMerging: handsBackMemory)
        var podChanges: [IPAddress: String?] = [:]
        for address in objects.podAddresses { podChanges[address] = objects.podNamespace(of: address) }
        pods = PodDirectory()
        pods.update(podChanges)
    }

    static func segment(from compiler: SnapshotCompiler) -> CompiledSegment {
        var builder = SegmentBuilder()
        for index in compiler.entries.indices { builder.append(entry: index, of: compiler) }
        return builder.isEmpty ? .empty : builder.finish()
    }

    /// The zones as the responder sees them. The layout's SOAs carry the current serial: a full
    /// build makes them with it, and `apply` sets it.
    private func compiledZones() -> [CompiledZone] {
        layout.apexes.indices.map { index in
            let soa = layout.soas[index]
            var tail = WireWriter(capacity: 64)
            tail.compresses = false
            tail.writeUInt16(RecordType.soa.rawValue)
            tail.writeUInt16(RecordClass.in.rawValue)
            tail.writeUInt32(soa.ttl)
            tail.writeUInt16(0)
            tail.writeRData(soa.data)
            tail.setUInt16(UInt16(tail.count - 10), at: 8)
            return CompiledZone(
                apex: layout.apexes[index], apexWire: layout.apexes[index].lowercasedWire, kind: layout.kinds[index],
                soaTail: tail.bytes, ttl: configuration.ttl)
        }
    }
}
