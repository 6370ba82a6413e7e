import ClusterRegistry
import DNSWire

/// The RRset that closes a prepared answer section (after any CNAME chain), seen as whole
/// records that can be moved: what shuffling SRV sets and answering a truncated set with a
/// per-query subset need (issue #10). An RRset's order carries no meaning (RFC 2181 §5), and
/// when a set does not fit, the records that do may be sent with TC set (RFC 2181 §9), so a
/// set rotated before it is cut reaches different clients as different subsets.
///
/// SRV records differ in size (their targets do), so they move as byte blocks. That is safe
/// only when no name inside the set points into the set itself (RFC 1035 §4.1.4 pointers are
/// absolute offsets): `init` checks it. Names after the set may point into it, as additional
/// A/AAAA owners point to SRV targets: `remapPointers` moves those pointers with their target.
struct ClosingRRset {
    /// Offsets from the start of the answer section.
    let start: Int
    let end: Int
    /// Records of the answer section before the set (a CNAME chain).
    let recordsBefore: Int
    let count: Int
    /// Offset from `start` of the record that comes first for this query.
    let pivot: Int

    /// nil when the set cannot be moved in blocks: one record, a name that points into the set
    /// from inside it, an authority section, additional data whose records hold names, or bytes
    /// that do not walk as records of `type`.
    /// - Parameters:
    ///   - answer: the prepared answer's bytes, all sections.
    ///   - answerOffset: where the answer section starts in the reply (pointers are offsets in
    ///     the reply).
    init?(_ prepared: PreparedAnswer, in segment: CompiledSegment, answer: UnsafeRawBufferPointer,
          answerOffset: Int, type: RecordType, shift: Int) {
        guard prepared.authorityCount == 0 else { return nil }
        let (previous, last) = segment.lastRRset(of: prepared)
        start = previous?.byteEnd ?? 0
        end = last.byteEnd
        recordsBefore = Int(previous?.recordEnd ?? 0)
        count = Int(last.recordEnd) - recordsBefore
        guard count > 1, end <= prepared.answerLength else { return nil }
        let firstRecord = shift % count
        let setStart = answerOffset + start
        var position = start
        var pivot = 0
        for record in 0..<count {
            if record == firstRecord { pivot = position - start }
            guard let next = Self.recordEnd(answer, at: position, type: type, pointersBelow: setStart) else { return nil }
            position = next
        }
        guard position == end else { return nil }
        self.pivot = pivot
        // Additional records may point into the set (their owners), which `remapPointers`
        // follows; their data must hold no names, so only addresses are allowed there.
        position = prepared.answerLength
        for _ in 0..<prepared.additionalCount {
            guard let owner = WireName.walk(answer, from: position), owner.end + 10 <= answer.count else { return nil }
            let recordType = RecordType(rawValue: Self.uint16(answer, owner.end))
            guard recordType == .a || recordType == .aaaa else { return nil }
            position = owner.end + 10 + Int(Self.uint16(answer, owner.end + 8))
        }
        guard position == prepared.answerLength + prepared.additionalLength, position <= answer.count else { return nil }
    }

    var length: Int { end - start }

    /// Where an offset inside the set (from `start`) lands once the set is rotated to begin at
    /// `pivot`: records move as blocks, so an offset moves with its record.
    func rotated(_ offset: Int) -> Int { offset >= pivot ? offset - pivot : offset + length - pivot }

    /// The end of the record at `position`, when it is a well-formed record of `type` whose
    /// names (owner, SRV target) point only below `pointersBelow`.
    static func recordEnd(_ bytes: UnsafeRawBufferPointer, at position: Int, type: RecordType, pointersBelow bound: Int) -> Int? {
        guard let owner = WireName.walk(bytes, from: position), owner.end + 10 <= bytes.count,
              (owner.pointer?.target ?? 0) < bound,
              uint16(bytes, owner.end) == type.rawValue
        else { return nil }
        let dataStart = owner.end + 10
        let end = dataStart + Int(uint16(bytes, owner.end + 8))
        guard end <= bytes.count else { return nil }
        switch type {
        case .a: return end - dataStart == 4 ? end : nil
        case .aaaa: return end - dataStart == 16 ? end : nil
        case .srv:
            // RFC 2782: priority, weight, port, then the target, which may be compressed.
            guard end - dataStart > 6, let target = WireName.walk(bytes, from: dataStart + 6), target.end == end,
                  (target.pointer?.target ?? 0) < bound
            else { return nil }
            return end
        default:
            return nil
        }
    }

    /// Rotates the set in `reply` (whose answer section starts at `answerOffset`) to begin with
    /// the record at `pivot`: rotating the bytes rotates the records, since they are
    /// contiguous. Three reversals, in place, without allocating.
    func rotate(_ reply: UnsafeMutableRawBufferPointer, answerOffset: Int) {
        let lower = answerOffset + start, upper = answerOffset + end
        func reverse(_ from: Int, _ to: Int) {
            var (low, high) = (from, to - 1)
            while low < high {
                reply.swapAt(low, high)
                low += 1
                high -= 1
            }
        }
        guard pivot > 0 else { return }
        reverse(lower, lower + pivot)
        reverse(lower + pivot, upper)
        reverse(lower, upper)
    }

    /// After `rotate`: points the owners of the `records` additional records starting at
    /// `position` in `reply` that pointed into the set at where their target moved.
    func remapPointers(_ reply: UnsafeMutableRawBufferPointer, answerOffset: Int, additionalAt position: Int, records: Int) {
        let setStart = answerOffset + start
        var position = position
        for _ in 0..<records {
            guard let owner = WireName.walk(UnsafeRawBufferPointer(reply), from: position), owner.end + 10 <= reply.count else { return }
            if let pointer = owner.pointer, pointer.target >= setStart, pointer.target < setStart + length {
                let target = setStart + rotated(pointer.target - setStart)
                reply[pointer.at] = 0xC0 | UInt8(target >> 8)
                reply[pointer.at + 1] = UInt8(truncatingIfNeeded: target)
            }
            position = owner.end + 10 + Int(Self.uint16(UnsafeRawBufferPointer(reply), owner.end + 8))
        }
    }

    @inline(__always)
    static func uint16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }
}

extension ReplyContext {
    /// A set that does not fit `limit`, shuffled: the chain before it, then its records from
    /// this query's first one onwards, wrapping, for as long as whole records fit; TC set
    /// (RFC 2181 §9), so the client may ask again over TCP, and no authority or additional
    /// data. Clients that keep the partial set see different subsets.
    func subset(_ writer: inout ReplyWriter, _ closing: ClosingRRset, answer: UnsafeRawBufferPointer, fixed: Int) -> ResponderOutcome {
        startReply(&writer, .noError, counts: (0, 0, 0))
        writer.setTruncated()
        let answerOffset = writer.count
        writer.bytes(UnsafeRawBufferPointer(rebasing: answer[0..<closing.start]))
        var room = limit - fixed - closing.start
        var position = closing.start + closing.pivot
        var written = 0
        let setStart = answerOffset + closing.start
        while written < closing.count {
            // `init` walked every record, so this walk cannot fail.
            guard let next = ClosingRRset.recordEnd(answer, at: position, type: query.type, pointersBelow: setStart),
                  next - position <= room
            else { break }
            writer.bytes(UnsafeRawBufferPointer(rebasing: answer[position..<next]))
            room -= next - position
            written += 1
            position = next == closing.end ? closing.start : next
        }
        writer.setUInt16(UInt16(closing.recordsBefore + written), at: 6)  // ANCOUNT
        finishReply(&writer, .noError)
        return .reply(length: writer.count, rcode: .noError)
    }
}
