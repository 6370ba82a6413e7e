import DNSWire

/// One independently built part of a snapshot: names with their prepared answers, looked up
/// without allocation (DESIGN.md §3, §4). Immutable; a change builds a new segment from the old
/// one's untouched entries plus the recompiled names, and every other segment is shared.
public final class CompiledSegment: Sendable {
    public let names: NameTable
    public let entries: [NameEntry]
    let answers: [StoredAnswer]
    let extras: [AnswerExtras]
    public let boundaries: [RRsetBoundary]
    public let answerBytes: [UInt8]
    public let externalTargets: [DomainName]

    init(
        names: NameTable, entries: [NameEntry], answers: [StoredAnswer], extras: [AnswerExtras], boundaries: [RRsetBoundary],
        answerBytes: [UInt8], externalTargets: [DomainName]
    ) {
        self.names = names
        self.entries = entries
        self.answers = answers
        self.extras = extras
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
        for index in entry.answers where answers[index].type == type { return prepared(at: index) }
        return nil
    }

    /// The RRset boundaries of `answer`'s answer section, for truncating it (a rare path).
    public func rrsetBoundaries(of answer: PreparedAnswer) -> [RRsetBoundary] {
        answer.rrsetBoundaries.isEmpty
            ? [RRsetBoundary(byteEnd: answer.answerLength, recordEnd: answer.answerCount)]
            : Array(boundaries[answer.rrsetBoundaries])
    }

    /// The last RRset of `answer`'s answer section (where a CNAME chain ends) and the end of
    /// the one before it, if any: what rotating addresses needs, without allocating.
    @inline(__always)
    public func lastRRset(of answer: PreparedAnswer) -> (previous: RRsetBoundary?, last: RRsetBoundary) {
        guard let last = answer.rrsetBoundaries.last else {
            return (nil, RRsetBoundary(byteEnd: answer.answerLength, recordEnd: answer.answerCount))
        }
        return (answer.rrsetBoundaries.count > 1 ? boundaries[last - 1] : nil, boundaries[last])
    }

    /// The index of `name` (lower-cased wire form), for builders.
    func index(of name: [UInt8]) -> Int? {
        name.withUnsafeBytes { names.lookup($0, hash: NameTable.hash($0)) }
    }
}

/// Collects entries — copied from other segments or from a compiler's output — into a new
/// segment, rebasing each answer's offsets into the new arena.
struct SegmentBuilder: AnswerStorage {
    private(set) var keys = KeyArena()
    private(set) var entries: [NameEntry] = []
    private(set) var answers: [StoredAnswer] = []
    private(set) var extras: [AnswerExtras] = []
    private(set) var boundaries: [RRsetBoundary] = []
    private(set) var answerBytes: [UInt8] = []
    private var targets = ExternalTargets()

    var isEmpty: Bool { entries.isEmpty }

    mutating func reserve(names: Int, bytes: Int) {
        keys.reserve(keys: names, bytes: names * 48)
        entries.reserveCapacity(names)
        answers.reserveCapacity(names * 2)
        answerBytes.reserveCapacity(bytes)
    }

    /// What a set of entries takes in a segment, counted before it is filled.
    struct Size {
        var names = 0, keyBytes = 0, answers = 0, extras = 0, boundaries = 0, bytes = 0

        /// Every entry of `part`, whose arrays hold its entries and nothing else.
        mutating func add(all part: SegmentBuilder) {
            names += part.entries.count
            keyBytes += part.keys.bytes.count
            answers += part.answers.count
            extras += part.extras.count
            boundaries += part.boundaries.count
            bytes += part.answerBytes.count
        }

        mutating func add(entry index: Int, of source: some AnswerStorage) {
            names += 1
            keyBytes += source.key(index).count
            for answerIndex in source.entries[index].answers {
                let answer = source.prepared(at: answerIndex)
                answers += 1
                if source.answers[answerIndex].extras != StoredAnswer.noExtras { extras += 1 }
                boundaries += answer.rrsetBoundaries.count
                bytes += answer.answerLength + answer.authorityLength + answer.additionalLength
            }
        }
    }

    mutating func reserve(_ size: Size) {
        keys.reserve(keys: size.names, bytes: size.keyBytes)
        entries.reserveCapacity(size.names)
        answers.reserveCapacity(size.answers)
        extras.reserveCapacity(size.extras)
        boundaries.reserveCapacity(size.boundaries)
        answerBytes.reserveCapacity(size.bytes)
    }

    /// Copies entry `index` of `source` under its own key.
    mutating func append(entry index: Int, of source: some AnswerStorage) {
        append(source.key(index), entry: index, of: source)
    }

    /// Copies entry `index` of `source` under `key`.
    mutating func append(_ key: some Collection<UInt8>, entry index: Int, of source: some AnswerStorage) {
        // The source's arrays are read once per entry, not through its properties per answer:
        // those retained and released each array every time, about 2 % of a full build's
        // samples (issue #9).
        let sourceAnswers = source.answers, sourceExtras = source.extras, sourceBoundaries = source.boundaries
        source.answerBytes.withUnsafeBufferPointer { sourceBytes in
            append(
                key, source.entries[index], of: source, answers: sourceAnswers, extras: sourceExtras,
                boundaries: sourceBoundaries, bytes: sourceBytes)
        }
    }

    /// `append(entry:of:)` for each of `indices`, in order, with the source's arrays read once
    /// for all of them: the full build hands a chunk's names to their shards this way, a run
    /// of names per shard (`ShardPieces.take`), and reading them per name retained and released
    /// six arrays each time (issue #9: start-up).
    mutating func append(entries indices: ArraySlice<Int>, of source: some AnswerStorage, keys sourceKeys: KeyArena) {
        let sourceEntries = source.entries, sourceAnswers = source.answers, sourceExtras = source.extras
        let sourceBoundaries = source.boundaries
        entries.reserveGently(indices.count)
        sourceKeys.withUnsafeKeys { keyBytes, keyStarts in
            source.answerBytes.withUnsafeBufferPointer { sourceBytes in
                for index in indices {
                    append(
                        UnsafeBufferPointer(rebasing: keyBytes[Int(keyStarts[index])..<Int(keyStarts[index + 1])]),
                        sourceEntries[index], of: source, answers: sourceAnswers, extras: sourceExtras,
                        boundaries: sourceBoundaries, bytes: sourceBytes)
                }
            }
        }
    }

    /// Appends `entry` of `source` under `key`, its answers copied from the source's arrays
    /// (read by the caller).
    private mutating func append(
        _ key: some Collection<UInt8>, _ entry: NameEntry, of source: some AnswerStorage, answers sourceAnswers: [StoredAnswer],
        extras sourceExtras: [AnswerExtras], boundaries sourceBoundaries: [RRsetBoundary], bytes sourceBytes: UnsafeBufferPointer<UInt8>
    ) {
        var entry = entry
        let first = answers.count
        entries.reserveGently(1)
        answers.reserveGently(entry.answers.count)
        for answerIndex in entry.answers {
            var stored = sourceAnswers[answerIndex]
            let start = Int(stored.start)
            var length = Int(stored.answerLength) + Int(stored.additionalLength)
            var extra: AnswerExtras?
            if stored.extras != StoredAnswer.noExtras {
                extra = sourceExtras[Int(stored.extras)]
                length += Int(extra!.authorityLength)
            }
            stored.start = UInt32(answerBytes.count)
            answerBytes.reserveGently(length)
            // From an unsafe view of the source's bytes: appending an array's slice retained
            // and released the source's storage per answer, 3 % of a full build.
            answerBytes.append(contentsOf: UnsafeBufferPointer(rebasing: sourceBytes[start..<start + length]))
            if var extra {
                let boundaryStart = boundaries.count
                boundaries.append(contentsOf: sourceBoundaries[extra.boundaries.range])
                extra.boundaries = CompactRange(boundaryStart..<boundaries.count)
                if extra.externalTarget >= 0 {
                    extra.externalTarget = Int32(targets.intern(source.externalTargets[Int(extra.externalTarget)]))
                }
                stored.extras = UInt32(extras.count)
                extras.append(extra)
            }
            answers.append(stored)
        }
        entry.answers = first..<answers.count
        keys.append(key)
        entries.append(entry)
    }

    /// Appends every entry of `part`, in order, in bulk: the arrays are concatenated and the
    /// indexes into them shifted, which gives what `append(entry:of:)` for each entry gives
    /// (a builder's answers, extras, boundaries and bytes lie in entry order without gaps),
    /// without copying answer by answer. The full build's merge of each shard's pieces copied
    /// every answer a second time (issue #9: build time).
    mutating func append(contentsOf part: SegmentBuilder) {
        let answerBase = answers.count, extraBase = UInt32(extras.count), boundaryBase = boundaries.count
        let byteBase = UInt32(answerBytes.count)
        keys.append(contentsOf: part.keys)
        entries.reserveCapacity(entries.count + part.entries.count)
        for var entry in part.entries {
            entry.answers = (entry.answers.lowerBound + answerBase)..<(entry.answers.upperBound + answerBase)
            entries.append(entry)
        }
        answers.reserveCapacity(answers.count + part.answers.count)
        for var stored in part.answers {
            stored.start += byteBase
            if stored.extras != StoredAnswer.noExtras { stored.extras += extraBase }
            answers.append(stored)
        }
        extras.reserveCapacity(extras.count + part.extras.count)
        for var extra in part.extras {
            let range = extra.boundaries.range
            extra.boundaries = CompactRange((range.lowerBound + boundaryBase)..<(range.upperBound + boundaryBase))
            if extra.externalTarget >= 0 { extra.externalTarget = Int32(targets.intern(part.targets.names[Int(extra.externalTarget)])) }
            extras.append(extra)
        }
        boundaries.append(contentsOf: part.boundaries)
        answerBytes.append(contentsOf: part.answerBytes)
    }

    /// The segment, every array at its exact size: arrays grown by appending keep up to half
    /// their capacity unused, and a snapshot is thousands of these.
    func finish() -> CompiledSegment {
        CompiledSegment(
            names: NameTable(keys.trimmed()), entries: Self.exact(entries), answers: Self.exact(answers),
            extras: Self.exact(extras), boundaries: Self.exact(boundaries), answerBytes: Self.exact(answerBytes), externalTargets: targets.names)
    }

    private static func exact<Element>(_ array: [Element]) -> [Element] {
        // Reserved arrays are the allocator's size class above their size: close enough.
        array.capacity - array.count <= max(8, array.count / 16) ? array : array.withUnsafeBufferPointer { Array($0) }
    }
}

/// Where prepared answers are read from when entries are copied: a segment or a compiler.
protocol AnswerStorage {
    /// The lower-cased wire name of entry `index`.
    func key(_ index: Int) -> ArraySlice<UInt8>
    var entries: [NameEntry] { get }
    var answers: [StoredAnswer] { get }
    var extras: [AnswerExtras] { get }
    var boundaries: [RRsetBoundary] { get }
    var answerBytes: [UInt8] { get }
    var externalTargets: [DomainName] { get }
}

extension CompiledSegment: AnswerStorage {
    func key(_ index: Int) -> ArraySlice<UInt8> { names.key(index) }
}

extension SegmentBuilder {
    func key(_ index: Int) -> ArraySlice<UInt8> { keys.key(index) }

    var externalTargets: [DomainName] { targets.names }
}

/// The out-of-zone CNAME targets of a segment or compiler, each kept once: answers refer to
/// them by index.
struct ExternalTargets: Sendable {
    private(set) var names: [DomainName] = []
    private var indexes: [DomainName: Int] = [:]

    /// The index of `name`, added when new.
    mutating func intern(_ name: DomainName) -> Int {
        if let index = indexes[name] { return index }
        names.append(name)
        indexes[name] = names.count - 1
        return names.count - 1
    }

    mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        indexes.removeAll(keepingCapacity: true)
    }
}

extension AnswerStorage {
    /// Answer `index` in the form the responder reads.
    @inline(__always)
    func prepared(at index: Int) -> PreparedAnswer {
        let stored = answers[index]
        var answer = PreparedAnswer(
            type: stored.type, answerCount: stored.answerCount, authorityCount: 0, additionalCount: stored.additionalCount,
            start: Int(stored.start), answerLength: Int(stored.answerLength), authorityLength: 0,
            additionalLength: Int(stored.additionalLength), rrsetBoundaries: 0..<0, externalTarget: nil)
        if stored.extras != StoredAnswer.noExtras {
            let extra = extras[Int(stored.extras)]
            answer.authorityLength = Int(extra.authorityLength)
            answer.authorityCount = extra.authorityCount
            answer.rrsetBoundaries = extra.boundaries.range
            answer.externalTarget = extra.externalTarget < 0 ? nil : Int(extra.externalTarget)
            answer.nameError = extra.nameError
        }
        return answer
    }
}

extension CompiledSegment {
    /// Answer `index` of the segment (tests compare snapshots answer by answer).
    public func preparedAnswer(at index: Int) -> PreparedAnswer { prepared(at: index) }
}

extension Array {
    /// Room for `extra` more elements, growing by a quarter rather than doubling: a full build
    /// fills 4,096 shard builders per thread by appending, and doubling would leave a quarter of
    /// the whole snapshot's size unused on average while they fill.
    mutating func reserveGently(_ extra: Int) {
        let needed = count + extra
        if needed > capacity { reserveCapacity(Swift.max(needed, count + count / 4 + 8)) }
    }
}
