import DNSWire

extension SegmentedRegistry {
    /// Rebuilds the PTR names whose records the changed Services altered. A PTR name may be
    /// shared by Services in several namespaces (one endpoint address behind two Services), so
    /// its new RRset is the old one with the changed Services' targets swapped for their new
    /// ones, ordered by Service as a full build orders them. The old RRset is read back from
    /// the compiled answer: the registry keeps no second copy of the PTR records.
    mutating func updatePointers(
        _ beforeModels: [(RegistryUnit, ClusterRecordsBuilder)], after: inout UnitLookup, changedUnits: Set<RegistryUnit>,
        compiler: inout SnapshotCompiler, removed: inout Set<[UInt8]>, diff: inout RegistryDiff
    ) {
        guard configuration.reverse else { return }
        var owners: [DomainName: Int] = [:]  // PTR owner → its reverse zone's index
        var contributions: [DomainName: [ResourceRecord]] = [:]
        for (unit, old) in beforeModels {
            let new = after.model(of: unit)
            for (offset, zone) in new.reverse.enumerated() {
                let oldZone = old.reverse[offset]
                for name in Set(oldZone.nodes.keys).union(zone.nodes.keys) where oldZone.nodes[name] != zone.nodes[name] {
                    owners[name] = 1 + offset
                }
                for (name, records) in zone.nodes { contributions[name, default: []] += records }
            }
        }
        for (owner, zone) in owners {
            // With --single-ptr a shared name's compiled answer holds one PTR: the others are kept aside.
            let old = pointerSets[owner] ?? pointerRecords(at: owner)
            let kept = old.filter { record in
                guard case .ptr(let target) = record.data, let unit = configuration.unit(ofPointerTarget: target) else { return true }
                return !changedUnits.contains(unit)
            }
            let merged = Self.ordered(kept + (contributions[owner] ?? []), configuration: configuration)
            if configuration.keepsPointerSets { pointerSets[owner] = merged.count > 1 ? merged : nil }
            counts.records += merged.count - old.count
            diff.records.added += merged.filter { !old.contains($0) }.count
            diff.records.removed += old.filter { !merged.contains($0) }.count
            if merged.isEmpty {
                removed.insert(owner.wire)
            } else {
                var lookup = ModelLookup(zones: [])
                compiler.compileNode(owner, records: merged, zone: zone, synthesizesPods: false, lookup: &lookup)
            }
        }
    }

    /// PTR records in a full build's order: by the Service they point at (as Services are built
    /// in order), each Service's records as it made them, duplicates dropped.
    static func ordered(_ records: [ResourceRecord], configuration: RegistryConfiguration) -> [ResourceRecord] {
        let keyed = records.enumerated().map { offset, record -> (unit: RegistryUnit?, offset: Int, record: ResourceRecord) in
            guard case .ptr(let target) = record.data else { return (nil, offset, record) }
            return (configuration.unit(ofPointerTarget: target), offset, record)
        }
        let sorted = keyed.sorted { left, right in
            switch (left.unit, right.unit) {
            case (let l?, let r?) where l != r: return l < r
            default: return left.offset < right.offset
            }
        }
        var result: [ResourceRecord] = []
        for entry in sorted where !result.contains(entry.record) { result.append(entry.record) }
        return result
    }

    /// The PTR records served at `owner` now, decoded from its prepared answer.
    func pointerRecords(at owner: DomainName) -> [ResourceRecord] {
        let key = owner.wire
        let shard = shards[shardIndex(of: key)]
        guard let index = shard.index(of: key),
              let answer = shard.answer(in: shard.entries[index], type: .ptr)
        else { return [] }
        return shard.decodeAnswerSection(answer, owner: owner)
    }
}

extension RegistryConfiguration {
    /// Whether shared PTR names keep every record aside (`SegmentedRegistry.pointerSets`):
    /// when the compiled answer holds only some of them (`--single-ptr`, or a clusterset name
    /// beside a local one with `--multicluster`), a change must know the others.
    var keepsPointerSets: Bool { singlePointer || multicluster != nil }

    /// The unit whose records a PTR to `target` belongs to: a cluster or clusterset name's.
    func unit(ofPointerTarget target: DomainName) -> RegistryUnit? {
        let target = target.lowercased()
        if let unit = RegistryUnit.of(target, domain: domain) { return unit }
        return multicluster.flatMap { RegistryUnit.of(target, domain: $0) }
    }
}

extension AnswerStorage {
    /// The answer section of `answer` as records: its bytes are compressed against a question
    /// for `owner` at offset 12, so they are decoded inside such a message.
    func decodeAnswerSection(_ answer: PreparedAnswer, owner: DomainName) -> [ResourceRecord] {
        var message = WireWriter(capacity: 512)
        message.compresses = false
        message.writeUInt16(0)
        message.writeUInt16(0x8000)
        for count in [1, answer.answerCount, 0, 0] { message.writeUInt16(UInt16(count)) }
        message.writeName(owner, compress: false)
        message.writeUInt16(answer.type.rawValue)
        message.writeUInt16(RecordClass.in.rawValue)
        message.writeBytes(answerBytes[answer.start..<answer.start + answer.answerLength])
        return (try? DNSMessage(decoding: message.bytes))?.answers ?? []
    }
}
