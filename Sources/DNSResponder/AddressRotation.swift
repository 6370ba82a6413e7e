import ClusterRegistry
import DNSWire

extension ReplyContext {
    /// Rotates the address RRset that ends the answer section (after any CNAME chain) by the
    /// query ID modulo its size, so successive queries, whose IDs are random (RFC 5452 §9.2),
    /// see each address first about equally often. An RRset's order carries no meaning
    /// (RFC 2181 §5). A prepared A or AAAA record is fixed-size: a pointer owner, the same
    /// type, class and TTL, then 4 or 16 bytes of data, so rotating it is moving those bytes in
    /// place, without allocating or re-encoding. Anything else is left as it is.
    func rotateAddresses(_ writer: inout ReplyWriter, answerOffset: Int, _ prepared: PreparedAnswer, from segment: CompiledSegment) {
        let (previous, end) = segment.lastRRset(of: prepared)
        let count = Int(end.recordEnd) - Int(previous?.recordEnd ?? 0)
        guard count > 1 else { return }
        let dataLength = query.type == .a ? 4 : 16
        let recordLength = 12 + dataLength  // pointer 2, type 2, class 2, TTL 4, RDLENGTH 2
        let first = answerOffset + (previous?.byteEnd ?? 0)
        guard end.byteEnd - (previous?.byteEnd ?? 0) == count * recordLength else { return }
        let output = writer.output
        for record in 0..<count {
            let base = first + record * recordLength
            guard output[base] & 0xC0 == 0xC0,
                  output[base + 2] == UInt8(query.type.rawValue >> 8), output[base + 3] == UInt8(truncatingIfNeeded: query.type.rawValue),
                  output[base + 11] == UInt8(dataLength), output[base + 10] == 0
            else { return }
        }
        RecordRotation.rotateData(
            writer.output, firstData: first + 12, stride: recordLength, dataLength: dataLength, count: count, shift: Int(query.id))
    }

    /// Rotates a set of variable-size records (SRV) by the query ID, as `rotateAddresses` does
    /// addresses: the records move as byte blocks, and the additional owners that point at
    /// their targets follow them. Left as compiled when `ClosingRRset` finds it unsafe.
    func rotateRecords(
        _ writer: inout ReplyWriter, answerOffset: Int, _ prepared: PreparedAnswer, from segment: CompiledSegment, additional: UInt16
    ) {
        guard let closing = segment.answerBytes.withUnsafeBytes({ arena in
            ClosingRRset(prepared, in: segment, answer: Self.bytes(of: prepared, in: arena), answerOffset: answerOffset,
                         type: query.type, shift: Int(query.id))
        }) else { return }
        closing.rotate(writer.output, answerOffset: answerOffset)
        closing.remapPointers(writer.output, answerOffset: answerOffset, additionalAt: answerOffset + prepared.answerLength, records: Int(additional))
    }

    /// A set too large for the reply, shuffled: the subset this query's rotation starts with.
    /// nil (whole RRsets are truncated instead) when the set cannot be moved in blocks or the
    /// chain before it does not fit.
    func shuffledSubset(_ writer: inout ReplyWriter, _ prepared: PreparedAnswer, from segment: CompiledSegment, fixed: Int) -> ResponderOutcome? {
        segment.answerBytes.withUnsafeBytes { arena in
            let answer = Self.bytes(of: prepared, in: arena)
            guard let closing = ClosingRRset(
                prepared, in: segment, answer: answer, answerOffset: query.questionEnd, type: query.type, shift: Int(query.id)),
                fixed + closing.start <= limit
            else { return nil }
            return subset(&writer, closing, answer: answer, fixed: fixed)
        }
    }

    /// Every section of `prepared`, in its segment's arena.
    static func bytes(of prepared: PreparedAnswer, in arena: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        let total = prepared.answerLength + prepared.authorityLength + prepared.additionalLength
        return UnsafeRawBufferPointer(rebasing: arena[prepared.start..<prepared.start + total])
    }
}
