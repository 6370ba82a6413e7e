import DNSWire
/// The shards' builders as one thread of a full build fills them, chunk by chunk: compiled
/// names go to their shard's builder as soon as a chunk is done, so the build never holds
/// more than one chunk of names outside the shards (issue #9: peak memory). Pieces of the same
/// shard from several threads are merged into its segment at the end.
struct ShardPieces: Sendable {
    private(set) var builders: [SegmentBuilder]

    init() {
        builders = Array(repeating: SegmentBuilder(), count: SegmentedRegistry.shardCount)
    }

    /// Sizes every shard's builder for `scale` times what `compiler` holds, spread evenly
    /// over the shards (names hash evenly), with room for the spread. Builders grown from
    /// empty a quarter at a time were reallocated about 17 times each, 8 allocations per
    /// Service at 4,096 shards and two threads (issue #9: build time).
    mutating func reserve(projecting compiler: SnapshotCompiler, scale: Double) {
        let share = scale * Self.spread / Double(builders.count)
        func projected(_ count: Int) -> Int { Int((Double(count) * share).rounded(.up)) }
        var size = SegmentBuilder.Size()
        size.names = projected(compiler.entries.count)
        size.keyBytes = projected(compiler.keys.bytes.count)
        size.answers = projected(compiler.answers.count)
        size.extras = projected(compiler.extras.count)
        size.boundaries = projected(compiler.boundaries.count)
        size.bytes = projected(compiler.answerBytes.count)
        for shard in builders.indices { builders[shard].reserve(size) }
    }

    /// Room above the mean share: a shard's share of n names varies by about √n, a few
    /// percent of the hundreds a shard gets at 100k Services.
    private static var spread: Double { 1.1 }

    /// Moves every name of `compiler` to its shard's builder and empties the compiler, which
    /// keeps its storage for the next chunk.
    mutating func take(_ compiler: inout SnapshotCompiler) {
        // Shard by shard, each shard's names in the order compiled (a stable counting sort):
        // each builder's arrays are then written in one burst. In compiled order every name
        // went to another of the 4,096 builders, and reaching them was most of the hand-over
        // (issue #9: start-up).
        let shardCount = builders.count
        var ends = [Int](repeating: 0, count: shardCount + 1)
        var shards = [Int](repeating: 0, count: compiler.entries.count)
        for index in compiler.entries.indices {
            let shard = RegistrySnapshot.shardIndex(hash: compiler.keys.hash(index), shardShift: SegmentedRegistry.shardShift)
            shards[index] = shard
            ends[shard + 1] += 1
        }
        for shard in 0..<shardCount { ends[shard + 1] += ends[shard] }
        var order = [Int](repeating: 0, count: compiler.entries.count)
        for index in compiler.entries.indices {
            order[ends[shards[index]]] = index
            ends[shards[index]] += 1
        }
        // `ends[shard]` is now where the shard's run ends in `order` (and the next one starts).
        var start = 0
        for shard in 0..<shardCount where ends[shard] > start {
            builders[shard].append(entries: order[start..<ends[shard]], of: compiler, keys: compiler.keys)
            start = ends[shard]
        }
        compiler.removeAll()
    }

    /// The segments of every shard from the pieces of every thread (in unit order). `parts`
    /// threads merge a run of shards each, owning those shards' pieces outright, so each piece
    /// is freed as soon as it is merged, and mostly where it was allocated (each thread
    /// allocates from its own malloc arena): the pieces and the segments never both exist whole.
    static func segments(
        from pieces: consuming [ShardPieces], layout: ZoneLayout, parts: Int, trimsWhileMerging: Bool
    ) -> [CompiledSegment] {
        let shards = SegmentedRegistry.shardCount
        let runs = (0..<parts).map { part in (shards * part / parts)..<(shards * (part + 1) / parts) }
        let owned = runs.map { run in pieces.map { Array($0.builders[run]) } }  // run → thread → shard
        pieces = []  // the runs hold the only references now, and the workers take them
        let merged = concurrentMap(taking: consume owned) { _, threads -> [CompiledSegment] in
            (0..<(threads.first?.count ?? 0)).map { shard in
                // The freed pieces' pages go back to the system as the merge goes, not after
                // it: otherwise RSS peaks at the pieces and the segments together (issue #9).
                if trimsWhileMerging, shard > 0, shard % 64 == 0 { FreeMemory.returnToSystem() }
                var parts: [SegmentBuilder] = []
                for thread in threads.indices where !threads[thread][shard].isEmpty {
                    parts.append(threads[thread][shard])
                    threads[thread][shard] = SegmentBuilder()
                }
                let merged = SegmentBuilder.merged(parts, layout: layout)
                return merged.isEmpty ? .empty : merged.finish()
            }
        }
        return merged.flatMap { $0 }
    }
}

extension SegmentBuilder {
    /// One builder holding every name of `parts`, sized exactly up front. A name can come more
    /// than once: a PTR name that units of both threads, or two units of one thread, point
    /// into (one address behind Services of two namespaces). Each unit compiled it as if it
    /// made it alone; its RRset is all of their records, in unit order, as one model of the
    /// whole cluster would list them. Parts come in unit order and each lists its names in
    /// unit order, so reading the repeats in order reads the units in order. Each unit's
    /// records are distinct already (every target is the unit's own name): nothing to drop.
    static func merged(_ parts: [SegmentBuilder], layout: ZoneLayout) -> SegmentBuilder {
        var first: [NameKey: (part: Int, entry: Int)] = [:]
        // Sized once: grown from empty, every shard's table was rehashed five or six times.
        first.reserveCapacity(parts.reduce(0) { total, part in total + part.entries.count(where: { layout.kinds[$0.zone] == .reverse }) })
        var repeated: [NameKey: [(part: Int, entry: Int)]] = [:]
        // Only reverse names can repeat: every other name belongs to one unit (`RegistryUnit`),
        // which compiles it once. Indexing just those keeps the merge's table to the PTR
        // names, about a third of a cluster's (issue #9: first-sync time).
        for (partIndex, part) in parts.enumerated() {
            for index in part.entries.indices where layout.kinds[part.entries[index].zone] == .reverse {
                let key = NameKey(part.keys, index)
                if let earlier = first[key] {
                    repeated[key, default: [earlier]].append((partIndex, index))
                } else {
                    first[key] = (partIndex, index)
                }
            }
        }
        if repeated.isEmpty {
            if parts.count == 1 { return parts[0] }
            var merged = SegmentBuilder()
            merged.reserve(parts.reduce(into: Size()) { $0.add(all: $1) })
            for part in parts { merged.append(contentsOf: part) }
            return merged
        }
        var combined = SnapshotCompiler(layout: layout)
        var lookup = ModelLookup(zones: [])  // PTR answers have no additional section to look up
        for (key, occurrences) in repeated {
            // Keys are names the compiler wrote, valid by construction.
            guard let owner = try? DomainName(wire: Array(key.bytes)) else { continue }
            var records: [ResourceRecord] = []
            for (partIndex, index) in occurrences {
                let part = parts[partIndex]
                for answer in part.entries[index].answers {
                    records += part.decodeAnswerSection(part.prepared(at: answer), owner: owner)
                }
            }
            let zone = parts[occurrences[0].part].entries[occurrences[0].entry].zone
            combined.compileNode(owner, records: records, zone: zone, synthesizesPods: false, lookup: &lookup)
        }
        var size = Size()
        for part in parts {
            for index in part.entries.indices where repeated[NameKey(part.keys, index)] == nil {
                size.add(entry: index, of: part)
            }
        }
        for index in combined.entries.indices { size.add(entry: index, of: combined) }
        var merged = SegmentBuilder()
        merged.reserve(size)
        for part in parts {
            for index in part.entries.indices where repeated[NameKey(part.keys, index)] == nil {
                merged.append(entry: index, of: part)
            }
        }
        for index in combined.entries.indices { merged.append(entry: index, of: combined) }
        return merged
    }
}

/// A key of a builder's arena as a dictionary key, hashed once with the table's own hash:
/// hashing an `ArraySlice` feeds the hasher byte by byte.
private struct NameKey: Hashable {
    let hash: UInt64
    let bytes: ArraySlice<UInt8>

    init(_ arena: KeyArena, _ index: Int) {
        hash = arena.hash(index)
        bytes = arena.key(index)
    }

    static func == (lhs: NameKey, rhs: NameKey) -> Bool { lhs.hash == rhs.hash && lhs.bytes == rhs.bytes }

    func hash(into hasher: inout Hasher) { hasher.combine(hash) }
}
