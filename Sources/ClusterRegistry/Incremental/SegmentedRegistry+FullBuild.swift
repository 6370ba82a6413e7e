import DNSWire

/// How a full build makes the records it compiles.
enum FullBuildMethod: Sendable {
    /// One unit at a time, as `apply` does, each unit's records dropped once compiled: the
    /// build never holds more than one unit's records (and the PTR records, which span units).
    case unitByUnit
    /// One record model of the whole cluster: the reference the equivalence tests compare with.
    case wholeModel
}

extension SegmentedRegistry {
    /// Compiles every unit (its cluster names and the PTR names it makes) into the shards'
    /// pieces, one contiguous run of units per thread, then the zone files, whose answers may
    /// read any unit. Returns the pieces, in unit order.
    mutating func compileUnits() -> [ShardPieces] {
        let shells = ClusterRecordsBuilder.empty(configuration: configuration, serial: serial).zones
        layout = ZoneLayout(shells + staticZones)
        layout.singlePointer = configuration.singlePointer
        let units = [RegistryUnit.apex] + objects.namespaceNames.map(RegistryUnit.namespace)
            + objects.serviceUnits.map(RegistryUnit.service)
        let parts = buildParts(units.count, threshold: Self.parallelUnitThreshold)
        // What decoding the objects left freed goes back to the system before the build
        // allocates the snapshot: the first API sync's peak RSS is the two together otherwise.
        if handsBackMemory { FreeMemory.returnToSystem() }
        let work = UnitBuildWork(
            objects: objects, staticZones: staticZones, clusterZones: shells.count, serial: serial, layout: layout, units: units,
            chunkNames: fullBuildChunkNames, trims: handsBackMemory, collectsPointers: configuration.keepsPointerSets)
        var compiled = concurrentMap(count: parts) { part in
            work.compile(units: (units.count * part / parts)..<(units.count * (part + 1) / parts))
        }
        dependencies = UnitDependencies()
        warnings = [:]
        var records = 0
        var pointers: [DomainName: [ResourceRecord]] = [:]
        for part in compiled {
            dependencies.merge(part.dependencies)
            warnings.merge(part.warnings) { $0 + $1 }
            records += part.records
            pointers.merge(part.pointers) { $0 + $1 }
        }
        pointerSets = pointers.filter { $0.value.count > 1 }.mapValues { Self.ordered($0, configuration: configuration) }
        var pieces: [ShardPieces] = []
        for index in compiled.indices {
            pieces.append(compiled[index].pieces)
            compiled[index].pieces = ShardPieces()  // the pieces are only referenced once
        }
        compileStaticZones(UnitLookup(
            objects: objects, staticZones: staticZones, clusterZones: shells.count, serial: serial, built: [:]))
        counts = RegistryCounts(objects: objects, records: records + staticZones.reduce(0) { $0 + $1.recordCount })
        return pieces
    }

    /// Whether a full build hands freed memory back to the system as it goes: from about 10k
    /// Services with their slices, where its temporaries are tens of MiB.
    var handsBackMemory: Bool { objects.count >= 20_000 }

    /// From this many units a full build is split over two threads.
    static var parallelUnitThreshold: Int { 2_000 }

    /// The threads a build of `size` items uses: two from `threshold` on, unless the process
    /// may run on one CPU only (a server pinned to a core), where a second part only adds the
    /// merge of its pieces; `parallelBuild` decides when set (tests).
    func buildParts(_ size: Int, threshold: Int) -> Int {
        if let parallelBuild { return parallelBuild ? 2 : 1 }
        return size >= threshold && usableCPUCount > 1 ? 2 : 1
    }

    /// Compiles the zone files again: their answers may read any cluster unit.
    mutating func compileStaticZones(_ base: UnitLookup) {
        var lookup = TrackingLookup(base: base, domain: configuration.domain, multicluster: layout.multiclusterZone)
        var compiler = SnapshotCompiler(layout: layout)
        for (offset, zone) in staticZones.enumerated() {
            for (name, records) in zone.nodes {
                compiler.compileNode(name, records: records, zone: clusterZoneCount + offset, synthesizesPods: false, lookup: &lookup)
            }
        }
        dependencies.staticZoneConsults = lookup.consulted
        staticSegment = Self.segment(from: compiler)
    }

    /// The reference build: every record of the cluster in one model, then every name compiled
    /// from it. Simple and slow (the model is the largest temporary of all), it is what the
    /// equivalence tests hold the unit-by-unit build to.
    mutating func compileWholeModel() -> [ShardPieces] {
        let built = ClusterRecordsBuilder.build(objects, serial: serial, parallel: parallelBuild)
        let models = built.zones + staticZones
        layout = ZoneLayout(models)
        layout.singlePointer = configuration.singlePointer
        warnings = built.warnings
        dependencies = UnitDependencies()
        pointerSets = [:]
        if configuration.keepsPointerSets {
            for zone in built.zones where zone.kind == .reverse {
                for (owner, records) in zone.nodes where records.count > 1 { pointerSets[owner] = records }
            }
        }
        counts = RegistryCounts(objects: objects, records: (models).reduce(0) { $0 + $1.recordCount })
        let compiled = Self.compileInParallel(
            models, clusterZones: built.zones.count, layout: layout, domain: configuration.domain, parallel: parallelBuild)
        for part in compiled {
            dependencies.merge(part.dependencies)
            warnings.merge(part.cappedAnswers) { $0 + $1 }
        }
        var staticLookup = TrackingLookup(base: ModelLookup(zones: models), domain: configuration.domain, multicluster: layout.multiclusterZone)
        var staticCompiler = SnapshotCompiler(layout: layout)
        for zone in built.zones.count..<models.count {
            for (name, records) in models[zone].nodes {
                staticCompiler.compileNode(name, records: records, zone: zone, synthesizesPods: false, lookup: &staticLookup)
            }
        }
        dependencies.staticZoneConsults = staticLookup.consulted
        staticSegment = Self.segment(from: staticCompiler)
        var pieces = ShardPieces()
        for part in compiled {
            var compiler = part.compiler
            pieces.take(&compiler)
        }
        return [pieces]
    }

    /// Compiles every node of the cluster and reverse zones, split over two threads when large.
    private static func compileInParallel(
        _ models: [ZoneModel], clusterZones: Int, layout: ZoneLayout, domain: DomainName, parallel: Bool?
    ) -> [(compiler: SnapshotCompiler, dependencies: UnitDependencies, cappedAnswers: [RegistryUnit: [String]])] {
        let total = models.prefix(clusterZones).reduce(0) { $0 + $1.nodes.count }
        let parts = parallel ?? (total >= parallelThreshold) ? 2 : 1
        return concurrentMap(count: parts) { part in
            var compiler = SnapshotCompiler(layout: layout)
            compiler.reserve(names: total / parts + 16)
            var dependencies = UnitDependencies()
            var cappedAnswers: [RegistryUnit: [String]] = [:]
            for zone in 0..<clusterZones {
                let nodes = models[zone].nodes
                let lower = nodes.count * part / parts, upper = nodes.count * (part + 1) / parts
                var index = nodes.index(nodes.startIndex, offsetBy: lower)
                for _ in lower..<upper {
                    let (name, records) = nodes[index]
                    let unit = layout.kinds[zone] == .cluster ? RegistryUnit.of(name, domain: domain) : nil
                    var lookup = TrackingLookup(base: ModelLookup(zones: models), domain: domain, multicluster: layout.multiclusterZone, compiling: unit)
                    compiler.compileNode(
                        name, records: records, zone: zone, synthesizesPods: models[zone].podNamespaces.contains(name),
                        lookup: &lookup)
                    if let unit {
                        dependencies.record(lookup, for: unit)
                        let capped = compiler.takeCappedAnswers()
                        if !capped.isEmpty { cappedAnswers[unit, default: []] += capped }
                    }
                    nodes.formIndex(after: &index)
                }
            }
            return (compiler, dependencies, cappedAnswers)
        }
    }

}

/// What each thread of a unit-by-unit build reads: immutable, shared.
private struct UnitBuildWork: Sendable {
    let objects: ClusterObjects
    let staticZones: [ZoneModel]
    let clusterZones: Int
    let serial: UInt32
    let layout: ZoneLayout
    let units: [RegistryUnit]
    /// Names compiled before they are handed to the shards.
    let chunkNames: Int
    /// Whether to hand freed memory back to the system every few chunks (large builds).
    let trims: Bool
    /// `--single-ptr`: keep every unit's PTR records by name (`SegmentedRegistry.pointerSets`).
    let collectsPointers: Bool

    struct Part: Sendable {
        var pieces = ShardPieces()
        var dependencies = UnitDependencies()
        var warnings: [RegistryUnit: [String]] = [:]
        var records = 0
        /// With `collectsPointers`: every PTR record made, by name.
        var pointers: [DomainName: [ResourceRecord]] = [:]
    }

    /// Compiles `range` of the units in order, each unit's names as `apply` compiles them, and
    /// the PTR names each unit makes as if it made them alone: the usual case. A PTR name that
    /// several units point into is compiled once per unit, and the shards merge them
    /// (`SegmentBuilder.merged`).
    func compile(units range: Range<Int>) -> Part {
        let domain = objects.configuration.domain
        var part = Part()
        var compiler = SnapshotCompiler(layout: layout)
        compiler.reserve(names: min(chunkNames, range.count * 10) + 64)
        var lookup = TrackingLookup(
            base: UnitLookup(objects: objects, staticZones: staticZones, clusterZones: clusterZones, serial: serial, built: [:]),
            domain: domain, multicluster: layout.multiclusterZone)
        var pointerLookup = ModelLookup(zones: [])  // PTR answers have no additional section to look up
        var chunks = 0
        // Names the Service units compiled so far, and how many there were: the first chunk
        // projects the whole run's names from them, to size the shards' builders once.
        var serviceUnits = 0, serviceNames = 0
        let serviceUnitsInRange = range.count(where: { if case .service = units[$0] { true } else { false } })
        var serviceNodes = ServiceUnitNodes(configuration: objects.configuration)
        var serviceAnswers = ServiceAnswers.applies(to: layout, collectsPointers: collectsPointers)
            ? ServiceAnswers(
                ttl: objects.configuration.ttl, reverse: objects.configuration.reverse,
                endpointPodNames: objects.configuration.endpointPodNames) : nil
        /// Compiles the PTR names a unit makes, each as if the unit made it alone.
        func compilePointers(_ owner: DomainName, _ records: [ResourceRecord], reverseZone: Int) {
            compiler.compileNode(owner, records: records, zone: 1 + reverseZone, synthesizesPods: false, lookup: &pointerLookup)
            if collectsPointers { part.pointers[owner, default: []] += records }
            part.records += records.count
        }
        for unitIndex in range {
            let unit = units[unitIndex]
            let namesBefore = compiler.entries.count
            lookup.reset(compiling: unit)
            /// What the unit's cluster names read and what they could not serve, before its PTR
            /// names are compiled.
            func finishClusterNames(skipped: [String]) {
                part.dependencies.record(lookup, for: unit)
                let warnings = skipped + compiler.takeCappedAnswers()
                if !warnings.isEmpty { part.warnings[unit] = warnings }
            }
            let plain: ServiceUnitNodes.PlainService?
            if case .service(let service) = unit { plain = ServiceUnitNodes.plainService(service, from: objects) } else { plain = nil }
            if let plain, let records = serviceAnswers?.write(plain, into: &compiler) {
                // Most Services: their answers written out (`ServiceAnswers`).
                part.records += records
                finishClusterNames(skipped: [])
            } else if let plain {
                // The plain Services the writer declines: their records straight from the
                // objects, without a model.
                serviceNodes.fill(plain)
                var own = ServiceNodesLookup(nodes: serviceNodes, unit: unit, fallback: lookup)
                for (name, records) in serviceNodes.cluster {
                    compiler.compileNode(name, records: records, zone: 0, synthesizesPods: false, lookup: &own)
                    part.records += records.count
                }
                lookup = own.fallback
                finishClusterNames(skipped: [])
                for (zone, owner, records) in serviceNodes.reverse { compilePointers(owner, records, reverseZone: zone) }
            } else {
                let model = lookup.base.model(of: unit)
                for (name, records) in model.cluster.nodes where unit.holds(name, domain: domain) {
                    compiler.compileNode(
                        name, records: records, zone: 0, synthesizesPods: model.cluster.podNamespaces.contains(name), lookup: &lookup)
                    part.records += records.count
                }
                part.records += model.compileZonesBeyondReverse(of: unit, into: &compiler, lookup: &lookup)
                finishClusterNames(skipped: model.skipped[unit] ?? [])
                if objects.configuration.reverse {
                    for (offset, zone) in model.reverse.enumerated() {
                        for (owner, records) in zone.nodes { compilePointers(owner, records, reverseZone: offset) }
                    }
                }
            }
            lookup.base.forgetBuilt()
            if case .service = unit {
                serviceUnits += 1
                serviceNames += compiler.entries.count - namesBefore
            }
            if compiler.entries.count >= chunkNames {
                if chunks == 0, serviceUnits > 0 {
                    // The rest of the run is Service units; this chunk holds some of every kind.
                    let rest = Double(serviceUnitsInRange - serviceUnits) * Double(serviceNames) / Double(serviceUnits)
                    part.pieces.reserve(projecting: compiler, scale: 1 + rest / Double(compiler.entries.count))
                }
                part.pieces.take(&compiler)
                chunks += 1
                // What the units' models and the pieces' regrowth freed goes back to the
                // system as the build goes: RSS peaks here otherwise (issue #9).
                if trims, chunks % 4 == 0 { FreeMemory.returnToSystem() }
            }
        }
        part.pieces.take(&compiler)
        return part
    }
}
