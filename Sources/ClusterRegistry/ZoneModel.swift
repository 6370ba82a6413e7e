#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DNSWire

/// The records of one zone before they are compiled into wire form: what `clusterdns records`
/// prints and what `SnapshotCompiler` prepares answers from.
public struct ZoneModel: Sendable {
    public enum Kind: Sendable, Hashable {
        /// The cluster domain: every name below the apex that we do not hold is NXDOMAIN.
        case cluster
        /// `in-addr.arpa` / `ip6.arpa`: we answer the PTR names we hold and forward the rest,
        /// as CoreDNS does with `fallthrough in-addr.arpa ip6.arpa`.
        case reverse
        /// A zone file from `--zones`: authoritative, like the cluster zone.
        case file
        /// An `--alias-domains` domain: we answer the Services' aliases below it and forward
        /// the rest, like the reverse zones.
        case alias
        /// The clusterset zone of `--multicluster` (KEP-1645): ours throughout, like the cluster
        /// zone.
        case multicluster

        /// Whether every name below the apex is ours: a name we do not hold is NXDOMAIN and the
        /// names between a record and the apex exist (RFC 8020). Reverse and alias zones hold
        /// single names and forward the rest.
        public var ownsEveryName: Bool { self == .cluster || self == .file || self == .multicluster }
    }

    public var apex: DomainName
    public var kind: Kind
    /// Negative answers carry this in the authority section (RFC 2308).
    public var soa: ResourceRecord
    /// Lower-cased owner → its records. Names without records are empty non-terminals.
    public private(set) var nodes: [DomainName: [ResourceRecord]] = [:]
    /// The records of nodes with many (a headless service has thousands at one name), for O(1)
    /// de-duplication there; small nodes are checked by a linear scan, which is cheaper than
    /// hashing each of 500k records (and keeping a second copy of each).
    private var largeNodes: [DomainName: Set<ResourceRecord>] = [:]
    static let largeNode = 16
    /// Namespaces under `pod.<zone>` whose pod names are synthesized on demand (`--pods insecure`).
    public var podNamespaces: Set<DomainName> = []
    /// Set while one Service's names are added (lower-cased): its namespace's node, where the
    /// walk up to the apex stops. That node and the ones above it belong to the namespace's and
    /// the apex's units, which add and compile them; a Service's model never needs them
    /// (`RegistryUnit.holds`), and adding them hashed and allocated three names per Service for
    /// nothing (issue #9: build time).
    var ancestorCeiling: DomainName?
    /// The names `addName` last made sure exist (lower case), the latest first. Nodes are
    /// never removed, so they go on existing. Two, because a Service's names alternate between
    /// two parents: its own name (endpoint hosts) and `_tcp.<name>` (ports).
    private var lastEnsured: DomainName?
    private var earlierEnsured: DomainName?

    /// Whether `owner`'s parent is known to exist, or to be the ceiling, without making its name.
    private func parentIsSettled(_ owner: DomainName) -> Bool {
        Self.isParent(lastEnsured, of: owner) || Self.isParent(earlierEnsured, of: owner) || Self.isParent(ancestorCeiling, of: owner)
    }

    public init(apex: DomainName, kind: Kind, soa: ResourceRecord) {
        self.apex = apex.lowercased()
        self.kind = kind
        self.soa = soa
    }

    /// Adds a record (deduplicated) and, for authoritative zones, the empty non-terminals
    /// between it and the apex so they answer NODATA rather than NXDOMAIN (RFC 8020).
    public mutating func add(_ record: ResourceRecord) {
        let owner = record.name.lowercased()
        var record = record
        record.name = owner
        // One lookup whether the node is new or not: finding it, then inserting it, hashed
        // every new name twice (issue #9: build time).
        var isNew = false
        let added = Self.append(record, to: &nodes[owner, default: { isNew = true; return [] }()], owner: owner, largeNodes: &largeNodes)
        // An existing node already has its ancestors (`addName` and this method keep that
        // invariant), so only a new one walks: the walk costs several hashes per record.
        // Siblings follow each other (a Service's endpoint hosts, its ports under `_tcp`):
        // their parent was the name made sure of last, known without making its name.
        // A Service's own name sits right below the ceiling, which its unit never adds.
        if added, isNew, kind.ownsEveryName, !parentIsSettled(owner) { addName(owner.parent) }
    }

    /// Appends `record` to its node's records unless it is there already: a linear scan for
    /// small nodes, a set (kept in `largeNodes`) from `largeNode` records on.
    private static func append(
        _ record: ResourceRecord, to records: inout [ResourceRecord], owner: DomainName,
        largeNodes: inout [DomainName: Set<ResourceRecord>]
    ) -> Bool {
        let count = records.count
        if count < largeNode {
            guard !records.contains(record) else { return false }
        } else {
            if count == largeNode { largeNodes[owner] = Set(records) }
            guard largeNodes[owner, default: []].insert(record).inserted else { return false }
        }
        records.append(record)
        return true
    }

    /// Whether `candidate` is `owner`'s parent, both lower case, compared in place.
    private static func isParent(_ candidate: DomainName?, of owner: DomainName) -> Bool {
        guard let candidate, !owner.isRoot else { return false }
        let start = 1 + Int(owner.wire[0])
        guard owner.wire.count - start == candidate.wire.count else { return false }
        return owner.wire.withUnsafeBufferPointer { owner in
            candidate.wire.withUnsafeBufferPointer { candidate in
                memcmp(owner.baseAddress! + start, candidate.baseAddress!, candidate.count) == 0
            }
        }
    }

    /// Sizes the tables for about `records` records up front: growing them rehashes every entry.
    public mutating func reserveCapacity(records: Int) {
        nodes.reserveCapacity(records)
    }

    /// Adds every node of `other` (the same zone, built from other objects) as if its records
    /// had been added here: the ancestors of its names are among its nodes already.
    mutating func merge(_ other: ZoneModel) {
        podNamespaces.formUnion(other.podNamespaces)
        for (name, records) in other.nodes {
            if nodes.index(forKey: name) != nil {
                for record in records { add(record) }
            } else {
                nodes[name] = records
                if records.count >= Self.largeNode { largeNodes[name] = Set(records) }
            }
        }
    }

    /// Makes `name` (and its ancestors up to the apex) exist without records.
    public mutating func addName(_ name: DomainName) {
        var current = name.lowercased()
        guard kind.ownsEveryName else {
            if current.isSubdomain(of: apex), nodes[current] == nil { nodes[current] = [] }
            return
        }
        let requested = current
        // Stops at the first name that exists, `name` itself included: a node exists only with
        // its ancestors (`add` walks from a new node's parent), so the walk ends there. Going one
        // step past an existing `name` made a parent name per endpoint host for nothing.
        while current.isSubdomain(of: apex), nodes[current] == nil {
            if let ancestorCeiling, current == ancestorCeiling { break }
            nodes[current] = []
            if current == apex || parentIsSettled(current) { break }
            current = current.parent
        }
        // It exists now, unless it is the ceiling, which the walk leaves to another unit.
        if requested != ancestorCeiling, requested != lastEnsured, requested.isSubdomain(of: apex) {
            earlierEnsured = lastEnsured
            lastEnsured = requested
        }
    }

    public func records(at name: DomainName) -> [ResourceRecord]? { nodes[name.lowercased()] }

    /// Every record of every node.
    var recordCount: Int { nodes.values.reduce(0) { $0 + $1.count } }

    /// Every record, in canonical name order then type, for `clusterdns records`.
    public var sortedRecords: [ResourceRecord] { Self.canonicalOrder(nodes) }

    /// Names in canonical order (RFC 4034 §6.1), each name's records by type then data: the
    /// order of `clusterdns records` and of a zone transfer.
    public static func canonicalOrder(_ records: [ResourceRecord]) -> [ResourceRecord] {
        canonicalOrder(Dictionary(grouping: records, by: \.name))
    }

    private static func canonicalOrder(_ nodes: [DomainName: [ResourceRecord]]) -> [ResourceRecord] {
        nodes.keys.sorted().flatMap { name in
            nodes[name, default: []].sorted { ($0.type.rawValue, "\($0.data)") < ($1.type.rawValue, "\($1.data)") }
        }
    }
}
