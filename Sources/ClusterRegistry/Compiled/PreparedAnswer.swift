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
/// its segment's arena. This is the form the responder reads, made on lookup from a
/// `StoredAnswer` (and its `AnswerExtras`, when it has some): never stored itself.
public struct PreparedAnswer: Sendable {
    public var type: RecordType
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16
    /// Offset of this answer's bytes in its segment's `answerBytes`.
    public var start: Int
    public var answerLength: Int
    /// A SOA when an in-zone CNAME chain ends without the asked type (RFC 2308 §2.2); it
    /// follows the answer section in the arena.
    public var authorityLength: Int
    public var additionalLength: Int
    /// RRset boundaries in the answer section (indexes into the segment's `boundaries`), for
    /// truncating whole RRsets (RFC 2181 §9). Empty when the answer section is one RRset, the
    /// common case: `CompiledSegment.rrsetBoundaries(of:)` gives that one.
    public var rrsetBoundaries: Range<Int>
    /// Out-of-zone CNAME target whose records the server must fetch and append; index into
    /// the segment's `externalTargets`.
    public var externalTarget: Int?
    /// The in-zone CNAME chain ends at a name that does not exist: the reply's RCODE is
    /// NXDOMAIN, as the last name's would be (RFC 6604 §2.1), with the chain in the answer.
    public var nameError = false
}

/// A prepared answer as a segment stores it: 20 bytes. A snapshot holds over a million of
/// these at 100k Services, so every byte here is a megabyte there, and what only CNAME answers
/// have (an authority SOA, several RRsets, an external target) lives in `AnswerExtras`.
struct StoredAnswer: Sendable {
    var type: RecordType
    var answerCount: UInt16
    var additionalCount: UInt16
    /// Sections are at most `SnapshotCompiler.sectionByteLimit` bytes, below 2¹⁶.
    var answerLength: UInt16
    var additionalLength: UInt16
    var start: UInt32
    /// Index into the segment's `extras`, or `noExtras`.
    var extras: UInt32

    static let noExtras = UInt32.max
}

/// The parts of a prepared answer that only a CNAME chain has.
struct AnswerExtras: Sendable {
    var authorityLength: UInt16
    var authorityCount: UInt16
    /// Empty when the answer section is one RRset.
    var boundaries: CompactRange
    /// -1 for none.
    var externalTarget: Int32
    /// The chain ends at a name that does not exist (RFC 6604 §2.1).
    var nameError = false
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
