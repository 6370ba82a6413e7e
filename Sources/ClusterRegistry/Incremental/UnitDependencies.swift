import DNSWire

/// Which units' answers read another unit's records (an ExternalName's CNAME chased into the
/// cluster zone, an SRV target's addresses), so that a change to the one recompiles the other.
/// Almost every unit reads only itself, so these tables stay small (DESIGN.md §4: facts that
/// span parts live in a small index updated incrementally).
struct UnitDependencies: Sendable {
    /// Consulted unit → the units whose answers read it.
    private(set) var consultedBy: [RegistryUnit: Set<RegistryUnit>] = [:]
    /// Dependent unit → the units it read, to forget them when it is compiled again.
    private(set) var consults: [RegistryUnit: Set<RegistryUnit>] = [:]
    /// Units with an answer that carries the cluster SOA (a chain ending in NODATA): they are
    /// compiled again whenever the serial changes, like the apex.
    private(set) var serialDependents: Set<RegistryUnit> = []
    /// Cluster units the zone files' answers read (an MX or CNAME into the cluster zone).
    var staticZoneConsults: Set<RegistryUnit> = []

    mutating func record(_ lookup: TrackingLookup<some RecordLookup>, for unit: RegistryUnit) {
        if lookup.embedsClusterSOA { serialDependents.insert(unit) }
        guard !lookup.consulted.isEmpty else { return }
        consults[unit, default: []].formUnion(lookup.consulted)
        for consulted in lookup.consulted { consultedBy[consulted, default: []].insert(unit) }
    }

    /// Drops what `unit` read: it is about to be compiled again (and record anew).
    mutating func forget(_ unit: RegistryUnit) {
        serialDependents.remove(unit)
        guard let consulted = consults.removeValue(forKey: unit) else { return }
        for other in consulted {
            consultedBy[other]?.remove(unit)
            if consultedBy[other]?.isEmpty == true { consultedBy[other] = nil }
        }
    }

    func dependents(of unit: RegistryUnit) -> Set<RegistryUnit> { consultedBy[unit] ?? [] }

    mutating func merge(_ other: UnitDependencies) {
        serialDependents.formUnion(other.serialDependents)
        staticZoneConsults.formUnion(other.staticZoneConsults)
        consults.merge(other.consults) { $0.union($1) }
        consultedBy.merge(other.consultedBy) { $0.union($1) }
    }
}

/// A lookup that notes which other units it was asked about and whether an answer embeds the
/// cluster zone's SOA.
struct TrackingLookup<Base: RecordLookup>: RecordLookup {
    var base: Base
    let domain: DomainName
    /// The clusterset zone's index and apex (`--multicluster`): its names belong to units too.
    let multicluster: (zone: Int, apex: DomainName)?
    /// The unit being compiled (nil for reverse and zone-file names).
    var compiling: RegistryUnit?
    private(set) var consulted: Set<RegistryUnit> = []
    private(set) var embedsClusterSOA = false

    init(base: Base, domain: DomainName, multicluster: (zone: Int, apex: DomainName)?, compiling: RegistryUnit? = nil) {
        self.base = base
        self.domain = domain
        self.multicluster = multicluster
        self.compiling = compiling
    }

    /// The unit holding `name` of zone `zone`, when that zone is made of units.
    private func unit(of name: DomainName, zone: Int) -> RegistryUnit? {
        if zone == 0 { return RegistryUnit.of(name.lowercased(), domain: domain) }
        if let multicluster, zone == multicluster.zone { return RegistryUnit.of(name.lowercased(), domain: multicluster.apex) }
        return nil
    }

    mutating func records(at name: DomainName, zone: Int) -> [ResourceRecord]? {
        noteConsulted(name, zone: zone)
        return base.records(at: name, zone: zone)
    }

    mutating func synthesizesChildren(of name: DomainName, zone: Int) -> Bool {
        noteConsulted(name, zone: zone)
        return base.synthesizesChildren(of: name, zone: zone)
    }

    /// Notes the unit holding `name` unless it is the one being compiled: most lookups are of
    /// the unit's own names (its SRV targets), which `holds` settles without allocating.
    private mutating func noteConsulted(_ name: DomainName, zone: Int) {
        if zone == 0, let compiling, compiling.holds(name, domain: domain) { return }
        if let unit = unit(of: name, zone: zone), unit != compiling { consulted.insert(unit) }
    }

    mutating func embedsSOA(of zone: Int) {
        if zone == 0 { embedsClusterSOA = true }
        base.embedsSOA(of: zone)
    }

    /// Starts on another unit, forgetting what was noted.
    mutating func reset(compiling unit: RegistryUnit?) {
        compiling = unit
        consulted = []
        embedsClusterSOA = false
    }
}

/// Reads records during an incremental change: a unit's records are built from the objects
/// the first time any answer asks for them, then kept for the rest of the change.
struct UnitLookup: RecordLookup {
    let objects: ClusterObjects
    let staticZones: [ZoneModel]
    let clusterZones: Int
    let serial: UInt32
    var built: [RegistryUnit: ClusterRecordsBuilder]
    private let empty: ClusterRecordsBuilder

    init(objects: ClusterObjects, staticZones: [ZoneModel], clusterZones: Int, serial: UInt32, built: [RegistryUnit: ClusterRecordsBuilder]) {
        self.objects = objects
        self.staticZones = staticZones
        self.clusterZones = clusterZones
        self.serial = serial
        self.built = built
        var empty = ClusterRecordsBuilder.empty(configuration: objects.configuration, serial: serial)
        // A Service's model holds about ten names and a PTR per address. Each unit's model is
        // a copy of this one, and its tables start at this size rather than growing three or
        // four times, rehashing each time (issue #9: build time).
        empty.cluster.reserveCapacity(records: 12)
        for zone in empty.reverse.indices { empty.reverse[zone].reserveCapacity(records: 4) }
        self.empty = empty
    }

    mutating func records(at name: DomainName, zone: Int) -> [ResourceRecord]? {
        guard zone < clusterZones else { return staticZones[zone - clusterZones].records(at: name) }
        // The unit asked last, usually the one being compiled: no unit to make, no table to hash.
        if zone == 0, recent?.unit.holds(name, domain: objects.configuration.domain) == true {
            return recent?.model.cluster.records(at: name)
        }
        if zone == empty.multiclusterZoneIndex, let apex = empty.multicluster?.apex {
            return model(of: RegistryUnit.of(name.lowercased(), domain: apex) ?? .apex).multicluster?.records(at: name)
        }
        guard let unit = RegistryUnit.of(name.lowercased(), domain: objects.configuration.domain) else {
            // The apex and its children outside any unit (`svc.`, `pod.`, `ns.dns.`): the apex
            // unit's model holds them.
            return model(of: .apex).cluster.records(at: name)
        }
        return model(of: unit).cluster.records(at: name)
    }

    mutating func synthesizesChildren(of name: DomainName, zone: Int) -> Bool {
        guard zone < clusterZones, let unit = RegistryUnit.of(name.lowercased(), domain: objects.configuration.domain) else {
            return false
        }
        return model(of: unit).cluster.podNamespaces.contains(name.lowercased())
    }

    func embedsSOA(of zone: Int) {}

    mutating func model(of unit: RegistryUnit) -> ClusterRecordsBuilder {
        if let recent, recent.unit == unit { return recent.model }
        let model = built[unit] ?? ClusterRecordsBuilder.records(of: unit, from: objects, startingFrom: empty)
        // The unit asked before joins `built` only when another is asked: a full build asks
        // for one unit at a time, and putting each in the table (hashing its two strings) and
        // taking it out again was for nothing (issue #9: build time).
        if let recent { built[recent.unit] = recent.model }
        recent = (unit, model)
        return model
    }

    /// The unit whose model was asked for last, and that model (in `built` once another is asked).
    private var recent: (unit: RegistryUnit, model: ClusterRecordsBuilder)?

    /// Forgets the units built so far: a full build asks for each unit once, and keeping
    /// them all would hold the whole cluster's records at once.
    mutating func forgetBuilt() {
        built.removeAll(keepingCapacity: true)
        recent = nil
    }
}
