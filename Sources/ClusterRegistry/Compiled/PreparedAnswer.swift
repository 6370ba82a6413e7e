import DNSWire

/// One ready-made answer: the answer and additional sections in wire form, compressed against
/// the question at offset 12, so replying is a copy (DESIGN.md §3 step 4). Its bytes live in
/// the snapshot's arena.
public struct PreparedAnswer: Sendable {
    public var type: RecordType
    /// Offset of this answer's bytes in `RegistrySnapshot.answerBytes`.
    public var start: Int
    public var answerLength: Int
    /// A SOA when an in-zone CNAME chain ends without the asked type (RFC 2308 §2.2); it
    /// follows the answer section in the arena.
    public var authorityLength: Int
    public var additionalLength: Int
    public var answerCount: UInt16
    public var authorityCount: UInt16
    public var additionalCount: UInt16
    /// RRset boundaries in the answer section, for truncating whole RRsets (RFC 2181 §9).
    public var rrsetBoundaries: Range<Int>
    /// Out-of-zone CNAME target whose records the server must fetch and append; index into
    /// `RegistrySnapshot.externalTargets`.
    public var externalTarget: Int?
}

public struct RRsetBoundary: Sendable, Hashable {
    /// Answer-section bytes up to and including this RRset.
    public var byteEnd: Int
    /// Records up to and including this RRset.
    public var recordEnd: UInt16
}

/// A name we hold: which zone it is in and which prepared answers it has.
public struct NameEntry: Sendable {
    public var zone: Int
    public var answers: Range<Int>
    /// `<ns>.pod.<zone>` with `--pods insecure`: children are synthesized from their label.
    public var synthesizesPods: Bool
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
