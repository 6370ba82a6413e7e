#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import DNSWire

/// One ready-made answer: the answer and additional sections in wire form, compressed against
/// the question at offset 12, so replying is a copy (DESIGN.md §3 step 4). Its bytes live in
/// its segment's arena. Stored in 32-bit fields: a snapshot holds over a million of these at
/// 100k Services, and every byte of this struct is a megabyte there.
public struct PreparedAnswer: Sendable {
    public var type: RecordType
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16
    private var storedStart: UInt32
    private var storedAnswerLength: UInt32
    private var storedAuthorityLength: UInt32
    private var storedAdditionalLength: UInt32
    private var boundaries: CompactRange
    /// -1 for none.
    private var storedExternalTarget: Int32

    init(
        type: RecordType, start: Int, answerLength: Int, authorityLength: Int, additionalLength: Int,
        answerCount: UInt16, authorityCount: UInt16, additionalCount: UInt16, rrsetBoundaries: Range<Int>,
        externalTarget: Int?
    ) {
        self.type = type
        self.answerCount = answerCount
        self.authorityCount = authorityCount
        self.additionalCount = additionalCount
        storedStart = UInt32(start)
        storedAnswerLength = UInt32(answerLength)
        storedAuthorityLength = UInt32(authorityLength)
        storedAdditionalLength = UInt32(additionalLength)
        boundaries = CompactRange(rrsetBoundaries)
        storedExternalTarget = externalTarget.map(Int32.init) ?? -1
    }

    /// Offset of this answer's bytes in its segment's `answerBytes`.
    public var start: Int {
        get { Int(storedStart) }
        set { storedStart = UInt32(newValue) }
    }

    public var answerLength: Int { Int(storedAnswerLength) }
    /// A SOA when an in-zone CNAME chain ends without the asked type (RFC 2308 §2.2); it
    /// follows the answer section in the arena.
    public var authorityLength: Int { Int(storedAuthorityLength) }
    public var additionalLength: Int { Int(storedAdditionalLength) }

    /// RRset boundaries in the answer section, for truncating whole RRsets (RFC 2181 §9).
    public var rrsetBoundaries: Range<Int> {
        get { boundaries.range }
        set { boundaries = CompactRange(newValue) }
    }

    /// Out-of-zone CNAME target whose records the server must fetch and append; index into
    /// the segment's `externalTargets`.
    public var externalTarget: Int? {
        get { storedExternalTarget < 0 ? nil : Int(storedExternalTarget) }
        set { storedExternalTarget = newValue.map(Int32.init) ?? -1 }
    }
}

public struct RRsetBoundary: Sendable, Hashable {
    private var storedByteEnd: UInt32
    /// Records up to and including this RRset.
    public var recordEnd: UInt16

    init(byteEnd: Int, recordEnd: UInt16) {
        storedByteEnd = UInt32(byteEnd)
        self.recordEnd = recordEnd
    }

    /// Answer-section bytes up to and including this RRset.
    public var byteEnd: Int { Int(storedByteEnd) }
}

/// A name we hold: which zone it is in and which prepared answers it has.
public struct NameEntry: Sendable {
    private var storedZone: UInt16
    private var storedAnswers: CompactRange
    /// `<ns>.pod.<zone>` with `--pods insecure`: children are synthesized from their label.
    public var synthesizesPods: Bool

    init(zone: Int, answers: Range<Int>, synthesizesPods: Bool) {
        storedZone = UInt16(zone)
        storedAnswers = CompactRange(answers)
        self.synthesizesPods = synthesizesPods
    }

    public var zone: Int { Int(storedZone) }

    public var answers: Range<Int> {
        get { storedAnswers.range }
        set { storedAnswers = CompactRange(newValue) }
    }
}

/// A short run of indexes in six bytes: a segment's arrays hold fewer than 2³² elements, and
/// one name's answers or one answer's RRsets are a handful.
struct CompactRange: Sendable {
    private var start: UInt32
    private var count: UInt16

    init(_ range: Range<Int>) {
        start = UInt32(range.lowerBound)
        count = UInt16(range.count)
    }

    var range: Range<Int> { Int(start)..<Int(start) + Int(count) }
}

/// A zone as the responder sees it.
public struct CompiledZone: Sendable {
    public var apex: DomainName
    /// Lower-cased wire form of the apex, compared against query suffixes.
    public var apexWire: [UInt8]
    public var kind: ZoneModel.Kind
    /// Type, class, TTL, RDLENGTH and RDATA of the SOA; the owner is a pointer written per reply.
    public var soaTail: [UInt8]
    public var ttl: UInt32
}
