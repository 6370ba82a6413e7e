import DNSWire

/// One independently built part of a snapshot: names with their prepared answers, looked up
/// without allocation (DESIGN.md §3, §4). Immutable; a change builds a new segment from the old
/// one's untouched entries plus the recompiled names, and every other segment is shared.
public final class CompiledSegment: Sendable {
    public let names: NameTable
    public let entries: [NameEntry]
    public let answers: [PreparedAnswer]
    public let boundaries: [RRsetBoundary]
    public let answerBytes: [UInt8]
    public let externalTargets: [DomainName]

    init(
        names: NameTable, entries: [NameEntry], answers: [PreparedAnswer], boundaries: [RRsetBoundary],
        answerBytes: [UInt8], externalTargets: [DomainName]
    ) {
        self.names = names
        self.entries = entries
        self.answers = answers
        self.boundaries = boundaries
        self.answerBytes = answerBytes
        self.externalTargets = externalTargets
    }

    /// Shared by every shard that holds no name, so an empty shard costs one pointer.
    public static let empty = SegmentBuilder().finish()

    public var count: Int { entries.count }

    /// The entry for a lower-cased wire name whose `NameTable.hash` is `hash`.
    @inline(__always)
    public func entry(for name: UnsafeRawBufferPointer, hash: UInt64) -> NameEntry? {
        names.lookup(name, hash: hash).map { entries[$0] }
    }

    /// The prepared answer of `entry` for `type`, if it has one.
    @inline(__always)
    public func answer(in entry: NameEntry, type: RecordType) -> PreparedAnswer? {
        for index in entry.answers where answers[index].type == type { return answers[index] }
        return nil
    }

    /// The index of `name` (lower-cased wire form), for builders.
    func index(of name: [UInt8]) -> Int? {
        name.withUnsafeBytes { names.lookup($0, hash: NameTable.hash($0)) }
    }
}

/// Collects entries — copied from other segments or from a compiler's output — into a new
/// segment, rebasing each answer's offsets into the new arena.
struct SegmentBuilder {
    private var keys: [[UInt8]] = []
    private var entries: [NameEntry] = []
    private var answers: [PreparedAnswer] = []
    private var boundaries: [RRsetBoundary] = []
    private var answerBytes: [UInt8] = []
    private var externalTargets: [DomainName] = []
    private var externalIndex: [DomainName: Int] = [:]

    var isEmpty: Bool { entries.isEmpty }

    mutating func reserve(names: Int, bytes: Int) {
        keys.reserveCapacity(names)
        entries.reserveCapacity(names)
        answers.reserveCapacity(names * 2)
        answerBytes.reserveCapacity(bytes)
    }

    /// What a set of entries takes in a segment, counted before it is filled.
    struct Size {
        var names = 0, answers = 0, boundaries = 0, bytes = 0

        mutating func add(entry index: Int, of source: some AnswerStorage) {
            names += 1
            for answerIndex in source.entries[index].answers {
                let answer = source.answers[answerIndex]
                answers += 1
                boundaries += answer.rrsetBoundaries.count
                bytes += answer.answerLength + answer.authorityLength + answer.additionalLength
            }
        }
    }

    mutating func reserve(_ size: Size) {
        keys.reserveCapacity(size.names)
        entries.reserveCapacity(size.names)
        answers.reserveCapacity(size.answers)
        boundaries.reserveCapacity(size.boundaries)
        answerBytes.reserveCapacity(size.bytes)
    }

    /// Copies entry `index` of `source` under `key`.
    mutating func append(_ key: [UInt8], entry index: Int, of source: some AnswerStorage) {
        var entry = source.entries[index]
        let first = answers.count
        for answerIndex in entry.answers {
            var answer = source.answers[answerIndex]
            let length = answer.answerLength + answer.authorityLength + answer.additionalLength
            let byteStart = answerBytes.count
            answerBytes.append(contentsOf: source.answerBytes[answer.start..<answer.start + length])
            answer.start = byteStart
            let boundaryStart = boundaries.count
            boundaries.append(contentsOf: source.boundaries[answer.rrsetBoundaries])
            answer.rrsetBoundaries = boundaryStart..<boundaries.count
            answer.externalTarget = answer.externalTarget.map { intern(source.externalTargets[$0]) }
            answers.append(answer)
        }
        entry.answers = first..<answers.count
        keys.append(key)
        entries.append(entry)
    }

    private mutating func intern(_ name: DomainName) -> Int {
        if let index = externalIndex[name] { return index }
        externalTargets.append(name)
        externalIndex[name] = externalTargets.count - 1
        return externalTargets.count - 1
    }

    /// The segment, every array at its exact size: arrays grown by appending keep up to half
    /// their capacity unused, and a snapshot is thousands of these.
    func finish() -> CompiledSegment {
        CompiledSegment(
            names: NameTable(keys: keys), entries: Self.exact(entries), answers: Self.exact(answers),
            boundaries: Self.exact(boundaries), answerBytes: Self.exact(answerBytes), externalTargets: externalTargets)
    }

    private static func exact<Element>(_ array: [Element]) -> [Element] {
        // Reserved arrays are the allocator's size class above their size: close enough.
        array.capacity - array.count <= max(8, array.count / 16) ? array : array.withUnsafeBufferPointer { Array($0) }
    }
}

/// Where prepared answers are read from when entries are copied: a segment or a compiler.
protocol AnswerStorage {
    var entries: [NameEntry] { get }
    var answers: [PreparedAnswer] { get }
    var boundaries: [RRsetBoundary] { get }
    var answerBytes: [UInt8] { get }
    var externalTargets: [DomainName] { get }
}

extension CompiledSegment: AnswerStorage {}
