import DNSWire

/// Everything needed to answer from the registry, immutable once published: readers take one
/// reference and never lock (DESIGN.md §4). The root is segmented: the cluster and reverse
/// names are spread over `shards` by the hash of the name, the zone files form one segment of
/// their own, and a change publishes a new root that shares every untouched segment.
public final class RegistrySnapshot: Sendable {
    public let zones: [CompiledZone]
    /// Cluster-zone and reverse names, shard `hash >> shardShift` holding those whose
    /// `NameTable.hash` lands there.
    public let shards: [CompiledSegment]
    let shardShift: UInt64
    /// The zone files of `--zones`.
    public let staticSegment: CompiledSegment
    public let configuration: RegistryConfiguration
    public let statistics: RegistryStatistics
    /// Pod IP → its namespace, for search-path relief (`--autopath`): a query from a known pod
    /// is completed along that pod's search list.
    public let podNamespaces: PodDirectory
    /// False while a Kubernetes API source has not finished its first list: names in the
    /// cluster zone are answered SERVFAIL rather than a wrong NXDOMAIN (CoreDNS does the same).
    public let clusterSynced: Bool
    /// The SOA serial this root's answers carry; it grows with every published change.
    public let serial: UInt32
    /// Every zone's lower-cased apex back to back, zone `i` ending at `apexEnds[i]`: what
    /// `zoneIndex(containing:)` reads for every query. Walking the `CompiledZone`s retained and
    /// released three arrays per zone per query, 2 % of a cache hit's CPU (issue #10).
    private let apexBytes: [UInt8]
    private let apexEnds: [Int]

    init(
        zones: [CompiledZone], shards: [CompiledSegment], staticSegment: CompiledSegment,
        configuration: RegistryConfiguration, statistics: RegistryStatistics, podNamespaces: PodDirectory,
        clusterSynced: Bool, serial: UInt32
    ) {
        precondition(shards.count.nonzeroBitCount == 1, "a power of two")
        self.zones = zones
        self.shards = shards
        shardShift = UInt64(64 - shards.count.trailingZeroBitCount)
        self.staticSegment = staticSegment
        self.configuration = configuration
        self.statistics = statistics
        self.podNamespaces = podNamespaces
        self.clusterSynced = clusterSynced
        self.serial = serial
        apexBytes = zones.flatMap(\.apexWire)
        apexEnds = zones.reduce(into: []) { ends, zone in ends.append((ends.last ?? 0) + zone.apexWire.count) }
    }

    /// An empty snapshot for the configuration: the apex records only.
    public static func empty(configuration: RegistryConfiguration) -> RegistrySnapshot {
        SnapshotBuilder.build(objects: [], staticZones: [], configuration: configuration).snapshot
    }

    /// The segment and entry for a lower-cased wire name, or nil when we hold no such name.
    /// One hash picks the shard and the slot in it: the lookup stays one probe sequence.
    @inline(__always)
    public func lookup(_ name: UnsafeRawBufferPointer) -> SegmentEntry? {
        let hash = NameTable.hash(name)
        let shard = shards[Self.shardIndex(hash: hash, shardShift: shardShift)]
        if let entry = shard.entry(for: name, hash: hash) { return SegmentEntry(segment: shard, entry: entry) }
        if staticSegment.count > 0, let entry = staticSegment.entry(for: name, hash: hash) {
            return SegmentEntry(segment: staticSegment, entry: entry)
        }
        return nil
    }

    /// Whether we hold `name`: the benchmarks' and tests' shorthand for `lookup`.
    public func contains(_ name: UnsafeRawBufferPointer) -> Bool { lookup(name) != nil }

    /// The shard of a name whose `NameTable.hash` is `hash`: its top bits (the slot in the
    /// shard comes from the low ones).
    @inline(__always)
    static func shardIndex(hash: UInt64, shardShift: UInt64) -> Int {
        shardShift == 64 ? 0 : Int(truncatingIfNeeded: hash >> shardShift)
    }

    /// The innermost zone containing the lower-cased wire name, or nil when we hold none.
    public func zoneIndex(containing name: UnsafeRawBufferPointer) -> Int? {
        apexBytes.withUnsafeBytes { apexes in
            apexEnds.withUnsafeBufferPointer { ends in
                var best: Int? = nil
                var bestLength = -1, start = 0
                for index in 0..<ends.count {
                    let end = ends[index], length = end - start
                    defer { start = end }
                    guard length > bestLength, length <= name.count,
                          WireName.hasSuffix(name, UnsafeRawBufferPointer(rebasing: apexes[start..<end]))
                    else { continue }
                    best = index
                    bestLength = length
                }
                return best
            }
        }
    }
}

/// A name found in a snapshot: its entry and the segment whose arrays the entry indexes.
public struct SegmentEntry {
    public let segment: CompiledSegment
    public let entry: NameEntry
}

/// Pod IP → namespace, in shards so that a pod change copies one small table, not all of them.
public struct PodDirectory: Sendable {
    final class Shard: Sendable {
        let namespaces: [IPAddress: String]
        init(_ namespaces: [IPAddress: String]) { self.namespaces = namespaces }
        static let empty = Shard([:])
    }

    static let shardCount = 64
    private(set) var shards = [Shard](repeating: .empty, count: shardCount)

    public init() {}

    public subscript(address: IPAddress) -> String? {
        shards[Self.shard(of: address)].namespaces[address]
    }

    public var isEmpty: Bool { shards.allSatisfy { $0.namespaces.isEmpty } }

    /// Replaces the namespace of each address (nil removes it), copying only the shards touched.
    mutating func update(_ changes: [IPAddress: String?]) {
        var touched: [Int: [IPAddress: String]] = [:]
        for (address, namespace) in changes {
            let index = Self.shard(of: address)
            var table = touched[index] ?? shards[index].namespaces
            table[address] = namespace
            touched[index] = table
        }
        for (index, table) in touched { shards[index] = Shard(table) }
    }

    private static func shard(of address: IPAddress) -> Int {
        var hasher = Hasher()
        hasher.combine(address)
        return Int(UInt(bitPattern: hasher.finalize()) % UInt(shardCount))
    }
}

/// What was loaded, for the start-up line, `check` and metrics.
public struct RegistryStatistics: Sendable, Hashable {
    public var objectsByKind: [String: Int] = [:]
    public var skippedKinds: [String: Int] = [:]
    public var namespaces = 0
    public var names = 0
    public var records = 0
    public var warnings: [String] = []
    public var buildSeconds = 0.0

    public init() {}
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
