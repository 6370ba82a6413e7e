/// An open-addressing hash table from lower-cased wire names to entry numbers, with all keys in
/// one byte arena: lookups take the bytes straight from the query buffer and never allocate.
public struct NameTable: Sendable {
    private let keyBytes: [UInt8]
    /// Start of key `i` is `keyStarts[i]`, its end `keyStarts[i + 1]`.
    private let keyStarts: [UInt32]
    /// 0 = empty, otherwise the key hash's high 32 bits (a fingerprint) above entry number + 1:
    /// a probe that meets another name is rejected here, without touching the key arena (at
    /// 100k services each avoided visit is a cache miss, and most probes of misses would be).
    private let slots: [UInt64]
    /// Number of slots: any size, not a power of two, so that the load factor stays near its
    /// bound in every shard (a power of two left most 100k-Service shards half empty).
    private let capacity: Int

    public var count: Int { keyStarts.count - 1 }

    /// `keys[i]` becomes entry `i`; keys must be distinct lower-cased wire names.
    public init(keys: [[UInt8]]) {
        var arena = KeyArena()
        arena.reserve(keys: keys.count, bytes: keys.reduce(0) { $0 + $1.count })
        for key in keys { arena.append(key) }
        self.init(arena)
    }

    /// Key `i` of `arena` becomes entry `i`; its arrays are kept, not copied.
    init(_ arena: KeyArena) {
        // Load factor ≤ 0.75. Misses are the common case (ndots:5), and a miss probes until an
        // empty slot: about 8 slots at 0.75 with linear probing (Knuth, TAOCP §6.4), one or two
        // cache lines, whose fingerprints reject other names without touching the key arena.
        // Slots at ≤ 0.5 in power-of-two tables took 16 of the 132 MiB of a 100k-Service
        // snapshot. There is always an empty slot, so every probe sequence ends; an empty table
        // has just that one (most shards of a small cluster are empty).
        let capacity = arena.count + arena.count / 3 + 1
        var slots = [UInt64](repeating: 0, count: capacity)
        arena.bytes.withUnsafeBytes { bytes in
            for entry in 0..<arena.count {
                let start = Int(arena.starts[entry]), end = Int(arena.starts[entry + 1])
                let hash = Self.hash(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                var slot = Self.slot(of: hash, capacity: capacity)
                while slots[slot] != 0 { slot = slot + 1 == capacity ? 0 : slot + 1 }
                slots[slot] = Self.fingerprint(hash) | UInt64(entry + 1)
            }
        }
        self.keyBytes = arena.bytes
        self.keyStarts = arena.starts
        self.slots = slots
        self.capacity = capacity
    }

    /// The entry number for `name` (lower-cased wire form), or nil.
    @inline(__always)
    public func lookup(_ name: UnsafeRawBufferPointer) -> Int? {
        lookup(name, hash: Self.hash(name))
    }

    /// `lookup` with the name's `hash` already computed (the snapshot picks a shard with it).
    @inline(__always)
    public func lookup(_ name: UnsafeRawBufferPointer, hash: UInt64) -> Int? {
        let fingerprint = Self.fingerprint(hash)
        var slot = Self.slot(of: hash, capacity: capacity)
        return keyBytes.withUnsafeBytes { arena in
            slots.withUnsafeBufferPointer { slots in
                keyStarts.withUnsafeBufferPointer { starts in
                    while true {
                        let value = slots[slot]
                        if value == 0 { return nil }
                        if value & 0xFFFF_FFFF_0000_0000 == fingerprint {
                            let entry = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) - 1
                            let start = Int(starts[entry]), end = Int(starts[entry + 1])
                            if end - start == name.count,
                               memcmp(arena.baseAddress! + start, name.baseAddress!, name.count) == 0 {
                                return entry
                            }
                        }
                        slot = slot + 1 == capacity ? 0 : slot + 1
                    }
                }
            }
        }
    }

    public func key(_ entry: Int) -> ArraySlice<UInt8> {
        keyBytes[Int(keyStarts[entry])..<Int(keyStarts[entry + 1])]
    }

    /// Key `entry` as its own array, for builders copying it into a new table.
    func keyArray(_ entry: Int) -> [UInt8] {
        Array(key(entry))
    }

    /// The hash of key `entry`, as `lookup` computes it for a query name.
    func hash(ofKey entry: Int) -> UInt64 {
        keyBytes.withUnsafeBytes { Self.hash(UnsafeRawBufferPointer(rebasing: $0[Int(keyStarts[entry])..<Int(keyStarts[entry + 1])])) }
    }

    /// FNV-1a over the bytes, folded: names are short, so a simple byte loop is enough.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash ^ (hash >> 29)
    }

    /// The first slot to probe for `hash`: its low 32 bits scaled to the table (Lemire's
    /// multiply-shift range reduction, no division). The high half is the fingerprint, the top
    /// bits also pick the shard: the three stay independent.
    @inline(__always)
    static func slot(of hash: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: ((hash & 0xFFFF_FFFF) &* UInt64(truncatingIfNeeded: capacity)) >> 32)
    }

    /// The hash's high half, where the slot number (low bits) does not come from.
    @inline(__always)
    static func fingerprint(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }
}

/// Names in one byte array, key `i` at `bytes[starts[i]..<starts[i + 1]]`: a builder collects
/// hundreds of thousands of names, and an array each would cost a heap block each (at 100k
/// Services, 70 MiB for the duration of a full build).
struct KeyArena: Sendable {
    private(set) var bytes: [UInt8] = []
    private(set) var starts: [UInt32] = [0]

    var count: Int { starts.count - 1 }

    mutating func reserve(keys: Int, bytes byteCount: Int) {
        bytes.reserveCapacity(byteCount)
        starts.reserveCapacity(keys + 1)
    }

    mutating func append(_ key: some Collection<UInt8>) {
        bytes.reserveGently(key.count)
        starts.reserveGently(1)
        // From a view of the key's storage: appending a slice itself retained and released its
        // array, per name handed to a shard (3.9 % of a first sync's build samples, issue #9).
        if key.withContiguousStorageIfAvailable({ bytes.append(contentsOf: $0) }) == nil { bytes.append(contentsOf: key) }
        // Keys of one segment or compiler: far below 4 GiB (UInt32 cannot overflow here).
        starts.append(UInt32(bytes.count))
    }

    /// Appends every key of `other`, in order.
    mutating func append(contentsOf other: KeyArena) {
        // Keys of one segment: far below 4 GiB (UInt32 cannot overflow here).
        let base = UInt32(bytes.count)
        bytes.append(contentsOf: other.bytes)
        starts.reserveCapacity(starts.count + other.count)
        for start in other.starts.dropFirst() { starts.append(base + start) }
    }

    func key(_ index: Int) -> ArraySlice<UInt8> {
        bytes[Int(starts[index])..<Int(starts[index + 1])]
    }

    /// The key bytes and the starts (key `i` is `bytes[starts[i]..<starts[i + 1]]`), for
    /// reading many keys without touching the arrays per key.
    func withUnsafeKeys<Result>(_ body: (UnsafeBufferPointer<UInt8>, UnsafeBufferPointer<UInt32>) -> Result) -> Result {
        bytes.withUnsafeBufferPointer { bytes in starts.withUnsafeBufferPointer { starts in body(bytes, starts) } }
    }

    func hash(_ index: Int) -> UInt64 {
        bytes.withUnsafeBytes { NameTable.hash(UnsafeRawBufferPointer(rebasing: $0[Int(starts[index])..<Int(starts[index + 1])])) }
    }

    /// Forgets every key, keeping the storage for the next ones.
    mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
    }

    /// The arena with both arrays at their exact size, for a table that lives on.
    func trimmed() -> KeyArena {
        var copy = KeyArena()
        copy.bytes = bytes.capacity - bytes.count <= max(8, bytes.count / 16) ? bytes : bytes.withUnsafeBufferPointer { Array($0) }
        copy.starts = starts.capacity - starts.count <= max(8, starts.count / 16) ? starts : starts.withUnsafeBufferPointer { Array($0) }
        return copy
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
