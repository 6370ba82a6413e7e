import DNSWire

extension RegistrySnapshot {
    /// Every record of zone `zone` as this snapshot serves it, in the order `clusterdns records`
    /// prints them: what a zone transfer sends (RFC 5936). Read back from the prepared answers
    /// rather than rebuilt from the objects, so the records are exactly the ones served, under
    /// the serial of this root. A rare, allocating path.
    public func records(ofZone zone: Int) -> [ResourceRecord] {
        var records: [ResourceRecord] = []
        for segment in shards + [staticSegment] {
            for index in segment.entries.indices where segment.entries[index].zone == zone {
                records += segment.ownRecords(ofEntry: index)
            }
        }
        return ZoneModel.canonicalOrder(records)
    }

    /// The index of the zone whose apex is `name` (lower-cased wire form), if we serve one.
    public func zoneIndex(apex name: [UInt8]) -> Int? {
        zones.firstIndex { $0.apexWire == name }
    }
}

extension CompiledSegment {
    /// The records owned by entry `index`: each prepared answer's answer section, less what a
    /// CNAME chase or an SRV target added from other names. A CNAME owner's A and AAAA answers
    /// start with its CNAME, which its own CNAME answer holds too, so keeping only records of
    /// the answer's type at the owner's name yields each record once.
    func ownRecords(ofEntry index: Int) -> [ResourceRecord] {
        guard let owner = try? DomainName(wire: Array(names.key(index))) else { return [] }
        var records: [ResourceRecord] = []
        for answerIndex in entries[index].answers {
            let answer = prepared(at: answerIndex)
            guard answer.answerCount > 0 else { continue }
            records += decodeAnswerSection(answer, owner: owner).filter { $0.type == answer.type && $0.name == owner }
        }
        return records
    }
}
