import DNSWire

/// Everything needed to answer from the registry, immutable once built: readers take one
/// reference and never lock (DESIGN.md §4).
public final class RegistrySnapshot: Sendable {
    public let zones: [CompiledZone]
    public let names: NameTable
    public let entries: [NameEntry]
    public let answers: [PreparedAnswer]
    public let boundaries: [RRsetBoundary]
    public let answerBytes: [UInt8]
    public let externalTargets: [DomainName]
    public let configuration: RegistryConfiguration
    public let statistics: RegistryStatistics
    /// Pod IP → its namespace, for search-path relief (`--autopath`): a query from a known pod
    /// is completed along that pod's search list.
    public let podNamespaces: [IPAddress: String]
    /// False while a Kubernetes API source has not finished its first list: names in the
    /// cluster zone are answered SERVFAIL rather than a wrong NXDOMAIN (CoreDNS does the same).
    public let clusterSynced: Bool

    init(
        zones: [CompiledZone], names: NameTable, entries: [NameEntry], answers: [PreparedAnswer],
        boundaries: [RRsetBoundary], answerBytes: [UInt8], externalTargets: [DomainName],
        configuration: RegistryConfiguration, statistics: RegistryStatistics, podNamespaces: [IPAddress: String] = [:],
        clusterSynced: Bool = true
    ) {
        self.podNamespaces = podNamespaces
        self.clusterSynced = clusterSynced
        self.zones = zones
        self.names = names
        self.entries = entries
        self.answers = answers
        self.boundaries = boundaries
        self.answerBytes = answerBytes
        self.externalTargets = externalTargets
        self.configuration = configuration
        self.statistics = statistics
    }

    /// An empty snapshot for the configuration: the apex records only.
    public static func empty(configuration: RegistryConfiguration) -> RegistrySnapshot {
        SnapshotBuilder.build(objects: [], staticZones: [], configuration: configuration).snapshot
    }

    /// The entry for a lower-cased wire name.
    @inline(__always)
    public func entry(for name: UnsafeRawBufferPointer) -> NameEntry? {
        names.lookup(name).map { entries[$0] }
    }

    /// The prepared answer of `entry` for `type`, if it has one.
    @inline(__always)
    public func answer(in entry: NameEntry, type: RecordType) -> PreparedAnswer? {
        for index in entry.answers where answers[index].type == type { return answers[index] }
        return nil
    }

    /// The innermost zone containing the lower-cased wire name, or nil when we hold none.
    public func zoneIndex(containing name: UnsafeRawBufferPointer) -> Int? {
        var best: Int? = nil
        var bestLength = -1
        for (index, zone) in zones.enumerated() where zone.apexWire.count > bestLength && zone.apexWire.count <= name.count {
            let offset = name.count - zone.apexWire.count
            guard Self.isLabelBoundary(name, offset),
                  zone.apexWire.withUnsafeBytes({ memcmp($0.baseAddress!, name.baseAddress! + offset, $0.count) == 0 })
            else { continue }
            best = index
            bestLength = zone.apexWire.count
        }
        return best
    }

    private static func isLabelBoundary(_ name: UnsafeRawBufferPointer, _ offset: Int) -> Bool {
        var position = 0
        while position < offset { position += 1 + Int(name[position]) }
        return position == offset
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
