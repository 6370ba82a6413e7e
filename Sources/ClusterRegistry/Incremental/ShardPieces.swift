/// The shards' builders as one thread of a full build fills them, chunk by chunk: compiled
/// names go to their shard's builder as soon as a chunk is done, so the build never holds
/// more than one chunk of names outside the shards (issue #9: peak memory). Pieces of the same
/// shard from several threads are merged into its segment at the end.
struct ShardPieces: Sendable {
    private(set) var builders: [SegmentBuilder]

    init() {
        builders = Array(repeating: SegmentBuilder(), count: SegmentedRegistry.shardCount)
    }

    /// Moves every name of `compiler` to its shard's builder and empties the compiler, which
    /// keeps its storage for the next chunk.
    mutating func take(_ compiler: inout SnapshotCompiler) {
        for index in compiler.entries.indices {
            let shard = RegistrySnapshot.shardIndex(hash: compiler.keys.hash(index), shardShift: SegmentedRegistry.shardShift)
            builders[shard].append(entry: index, of: compiler)
        }
        compiler.removeAll()
    }

    /// Hands over shard `shard`'s builder, leaving an empty one: merging frees each piece as
    /// soon as its segment exists.
    mutating func takeBuilder(_ shard: Int) -> SegmentBuilder {
        defer { builders[shard] = SegmentBuilder() }
        return builders[shard]
    }

    /// The segments of every shard from the pieces of every thread, each piece freed once
    /// merged. Names in `replacements` replace the pieces' entries under the same key (PTR
    /// names several units point into, compiled once all of them were known).
    static func segments(from pieces: inout [ShardPieces], replacements: SnapshotCompiler) -> [CompiledSegment] {
        var replacing: [Int: [Int]] = [:]  // shard → replacement entries
        for index in replacements.entries.indices {
            let shard = RegistrySnapshot.shardIndex(hash: replacements.keys.hash(index), shardShift: SegmentedRegistry.shardShift)
            replacing[shard, default: []].append(index)
        }
        return (0..<SegmentedRegistry.shardCount).map { shard in
            var parts = pieces.indices.map { pieces[$0].takeBuilder(shard) }.filter { !$0.isEmpty }
            if let replaced = replacing[shard] {
                let keys = Set(replaced.map { replacements.key($0) })
                var kept = SegmentBuilder()
                for part in parts {
                    for index in part.entries.indices where !keys.contains(part.key(index)) { kept.append(entry: index, of: part) }
                }
                for index in replaced { kept.append(entry: index, of: replacements) }
                parts = [kept]
            }
            let merged = SegmentBuilder.merged(parts)
            return merged.isEmpty ? .empty : merged.finish()
        }
    }
}

/// Which units a full build's PTR names came from, by the hash of the name: a PTR name is
/// normally made by one unit and compiled at once; when several units point into it (one
/// address behind Services of two namespaces), its RRset must list them all in unit order, so
/// it is compiled again at the end from every contributing unit.
struct PointerOwners: Sendable {
    /// Name hash → the first unit (by index) that made a PTR name with it.
    private var first: [UInt64: Int32] = [:]
    /// Name hashes several units made → those units. A hash collision lands a name here too,
    /// which costs a recompilation and changes nothing.
    private(set) var shared: [UInt64: [Int32]] = [:]

    mutating func note(_ hash: UInt64, unit: Int32) {
        if let earlier = first[hash] {
            if earlier != unit { shared[hash, default: [earlier]].append(unit) }
        } else {
            first[hash] = unit
        }
    }

    /// The names several units made, across threads whose units come in this order.
    static func shared(_ parts: [PointerOwners]) -> [UInt64: [Int32]] {
        var result: [UInt64: [Int32]] = [:]
        var seen: [UInt64: Int32] = [:]
        for part in parts {
            for (hash, units) in part.shared { result[hash, default: seen[hash].map { [$0] } ?? []] += units }
            for (hash, unit) in part.first {
                if let earlier = seen[hash] {
                    if part.shared[hash] == nil { result[hash, default: [earlier]].append(unit) }
                } else {
                    seen[hash] = unit
                }
            }
        }
        return result.mapValues { Array(Set($0)).sorted() }
    }
}
