import DNSWire

extension SegmentedRegistry {
    /// Applies a burst of changes and recompiles only what they touch: the units of the changed
    /// objects, the units whose answers read those, the apex and other answers carrying the
    /// serial, and the PTR names of the addresses involved. Every other segment is kept as it
    /// is. Returns what changed, for the reload line.
    @discardableResult
    public mutating func apply(_ changes: [ObjectChange], serial newSerial: UInt32) -> RegistryDiff {
        var diff = RegistryDiff()
        // One burst may change a key more than once (a file read while it had an error, then
        // deleted, arrive together): the last change is what holds. Compared one by one with
        // the stored objects, the deletion of a key the burst itself adds would be dropped.
        var last: [ObjectKey: Int] = [:]
        for (index, change) in changes.enumerated() { last[change.key] = index }
        let latest = last.count == changes.count ? changes : changes.indices.filter { last[changes[$0].key] == $0 }.map { changes[$0] }
        // A MODIFIED event that touches no DNS field (status, annotations) changes nothing.
        let changes = latest.filter { objects[$0.key] != $0.object.map(configuration.forDNS) }
        guard !changes.isEmpty else { return diff }
        diff.objectChanges = changes.count
        let changed = affectedUnits(of: changes)
        let serviceUnits = changed.compactMap { unit -> ServiceUnit? in
            if case .service(let service) = unit { return service } else { return nil }
        }
        let servicesBefore = serviceUnits.map(objects.serviceContent)
        // The lookup holds a reference to the objects' tables: it must be gone before they
        // change, or changing them would copy every table (copy on write).
        let beforeModels = { [objects, staticZones, clusterZoneCount, serial] in
            var before = UnitLookup(objects: objects, staticZones: staticZones, clusterZones: clusterZoneCount, serial: serial, built: [:])
            return changed.sorted().map { ($0, before.model(of: $0)) }
        }()
        var podAddresses: Set<IPAddress> = []
        for change in changes {
            let replacement = objects.apply(change)
            counts.count(replacing: replacement.previous, with: replacement.stored)
            for case .pod(let pod)? in [replacement.previous, replacement.stored] { podAddresses.formUnion(pod.ips) }
        }
        if !podAddresses.isEmpty {
            pods.update(Dictionary(uniqueKeysWithValues: podAddresses.map { ($0, objects.podNamespace(of: $0)) }))
        }
        counts.namespaces = objects.namespaceCount
        for (before, unit) in zip(servicesBefore, serviceUnits) { diff.count(before, objects.serviceContent(unit)) }
        serial = newSerial
        layout.setSerial(newSerial)

        var recompile = changed
        for unit in changed { recompile.formUnion(dependencies.dependents(of: unit)) }
        recompile.formUnion(dependencies.serialDependents)
        recompile.insert(.apex)

        var lookup = TrackingLookup(
            base: UnitLookup(objects: objects, staticZones: staticZones, clusterZones: clusterZoneCount, serial: serial, built: [:]),
            domain: configuration.domain, multicluster: layout.multiclusterZone)
        var compiler = SnapshotCompiler(layout: layout)
        var removed: Set<[UInt8]> = []
        for unit in recompile.sorted() {
            let model = lookup.base.model(of: unit)
            dependencies.forget(unit)
            lookup.reset(compiling: unit)
            for (name, records) in model.cluster.nodes where unit.holds(name, domain: configuration.domain) {
                compiler.compileNode(
                    name, records: records, zone: 0, synthesizesPods: model.cluster.podNamespaces.contains(name), lookup: &lookup)
            }
            model.compileZonesBeyondReverse(of: unit, into: &compiler, lookup: &lookup)
            dependencies.record(lookup, for: unit)
            let unitWarnings = (model.skipped[unit] ?? []) + compiler.takeCappedAnswers()
            warnings[unit] = unitWarnings.isEmpty ? nil : unitWarnings
        }
        for (unit, old) in beforeModels {
            let new = lookup.base.model(of: unit)
            for name in old.cluster.nodes.keys where new.cluster.nodes[name] == nil
                && unit.holds(name, domain: configuration.domain) {
                removed.insert(name.wire)
            }
            let (added, dropped) = Self.recordChanges(old.cluster, new.cluster, unit: unit, domain: configuration.domain)
            counts.records += added.count - dropped.count
            diff.records.added += added.count
            diff.records.removed += dropped.count
            if let oldZone = old.multicluster, let newZone = new.multicluster {
                for name in oldZone.nodes.keys where newZone.nodes[name] == nil && unit.holds(name, domain: oldZone.apex) {
                    removed.insert(name.wire)
                }
                let (added, dropped) = Self.recordChanges(oldZone, newZone, unit: unit, domain: oldZone.apex)
                counts.records += added.count - dropped.count
                diff.records.added += added.count
                diff.records.removed += dropped.count
            }
            // Aliases are the unit's alone: one Service serves each (`aliasOwner`).
            for (oldZone, newZone) in zip(old.aliasZones, new.aliasZones) {
                for name in oldZone.nodes.keys where newZone.nodes[name] == nil { removed.insert(name.wire) }
                let (added, dropped) = Self.recordChanges(oldZone, newZone, unit: nil, domain: configuration.domain)
                counts.records += added.count - dropped.count
                diff.records.added += added.count
                diff.records.removed += dropped.count
            }
        }
        updatePointers(beforeModels, after: &lookup.base, changedUnits: changed, compiler: &compiler, removed: &removed, diff: &diff)
        patchShards(with: compiler, removing: removed)
        // Zone-file answers that read the cluster may carry its SOA (a chain ending in NODATA),
        // and the zone files are small: compile them again whenever they read it at all.
        if !dependencies.staticZoneConsults.isEmpty { compileStaticZones(lookup.base) }
        diff.totalRecords = counts.records
        return diff
    }

    var clusterZoneCount: Int { layout.kinds.count - staticZones.count }

    /// Units whose records may change: those of every object the changes replace or bring,
    /// the namespaces they live in (existence, pod names), and Services deriving their
    /// endpoints from the pods changed (manifests without EndpointSlices).
    private func affectedUnits(of changes: [ObjectChange]) -> Set<RegistryUnit> {
        var units: Set<RegistryUnit> = []
        for change in changes {
            for object in [objects[change.key], change.object].compactMap({ $0 })
            where configuration.exposes(namespace: object.namespaceName) {
                let namespace = object.namespaceName.dnsLowercased
                units.insert(.namespace(namespace))
                switch object {
                case .namespace: break
                case .service(let service):
                    units.insert(.service(ServiceUnit(namespace: namespace, name: service.name.dnsLowercased)))
                    // Every Service claiming one of its aliases: which of them serves it may change.
                    for alias in objects.acceptedAliases(of: service) {
                        for claimant in objects.aliasClaimants(alias) { units.insert(.service(claimant)) }
                    }
                case .endpoints(let group):
                    units.insert(.service(ServiceUnit(namespace: namespace, name: group.serviceName.dnsLowercased)))
                case .serviceImport(let serviceImport):
                    units.insert(.service(ServiceUnit(namespace: namespace, name: serviceImport.name.dnsLowercased)))
                case .pod:
                    for service in objects.podDerivedServices(in: namespace) { units.insert(.service(service)) }
                }
            }
        }
        return units
    }

    /// Records of `unit`'s own names added and dropped between two builds of it (SOAs aside:
    /// their serial changes every time).
    private static func recordChanges(
        _ old: ZoneModel, _ new: ZoneModel, unit: RegistryUnit?, domain: DomainName
    ) -> (added: [ResourceRecord], dropped: [ResourceRecord]) {
        var added: [ResourceRecord] = [], dropped: [ResourceRecord] = []
        for name in Set(old.nodes.keys).union(new.nodes.keys) where RegistryUnit.of(name, domain: domain) == unit {
            let before = old.nodes[name] ?? [], after = new.nodes[name] ?? []
            guard before != after else { continue }
            added += after.filter { $0.type != .soa && !before.contains($0) }
            dropped += before.filter { $0.type != .soa && !after.contains($0) }
        }
        return (added, dropped)
    }

    /// New shards for the names compiled (replacing what they held) and removed; every other
    /// shard, and every untouched entry's bytes, stay as they were.
    private mutating func patchShards(with compiler: SnapshotCompiler, removing removed: Set<[UInt8]>) {
        var touched: [Int: (replaced: [Int], removed: [[UInt8]])] = [:]
        for index in compiler.entries.indices {
            touched[RegistrySnapshot.shardIndex(hash: compiler.keys.hash(index), shardShift: Self.shardShift), default: ([], [])]
                .replaced.append(index)
        }
        for key in removed { touched[shardIndex(of: key), default: ([], [])].removed.append(key) }
        for (shard, change) in touched {
            let old = shards[shard]
            var dropped = Set(change.removed)
            for index in change.replaced { dropped.insert(Array(compiler.key(index))) }
            var builder = SegmentBuilder()
            builder.reserve(names: old.count + change.replaced.count, bytes: old.answerBytes.count)
            for index in 0..<old.count {
                let key = old.names.keyArray(index)
                if !dropped.contains(key) { builder.append(key, entry: index, of: old) }
            }
            for index in change.replaced { builder.append(entry: index, of: compiler) }
            shards[shard] = builder.isEmpty ? .empty : builder.finish()
        }
    }

    func shardIndex(of key: [UInt8]) -> Int {
        RegistrySnapshot.shardIndex(hash: key.withUnsafeBytes { NameTable.hash($0) }, shardShift: Self.shardShift)
    }
}

extension ZoneLayout {
    /// The cluster and reverse zones' SOAs carry the registry's serial; zone files their own.
    mutating func setSerial(_ serial: UInt32) {
        for index in soas.indices where kinds[index] != .file {
            if case .soa(var data) = soas[index].data {
                data.serial = serial
                soas[index].data = .soa(data)
            }
        }
    }
}

extension RegistryDiff {
    /// Counts one Service name's change: added, removed or changed (where a Service is written
    /// is not what it is), and its endpoints added and removed.
    mutating func count(_ before: ClusterObjects.ServiceContent, _ after: ClusterObjects.ServiceContent) {
        switch (before.services.isEmpty, after.services.isEmpty) {
        case (true, false): services.added += 1
        case (false, true): services.removed += 1
        case (false, false) where before.services != after.services: services.changed += 1
        default: break
        }
        var remaining = before.endpoints
        for endpoint in after.endpoints {
            if let index = remaining.firstIndex(of: endpoint) { remaining.remove(at: index) } else { endpoints.added += 1 }
        }
        endpoints.removed += remaining.count
    }
}
