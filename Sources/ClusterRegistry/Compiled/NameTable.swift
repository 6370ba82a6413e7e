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
    private let mask: Int

    public var count: Int { keyStarts.count - 1 }

    /// `keys[i]` becomes entry `i`; keys must be distinct lower-cased wire names.
    public init(keys: [[UInt8]]) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keys.reduce(0) { $0 + $1.count })
        var starts: [UInt32] = [0]
        starts.reserveCapacity(keys.count + 1)
        for key in keys {
            bytes.append(contentsOf: key)
            starts.append(UInt32(bytes.count))
        }
        // Load factor ≤ 0.5 keeps probe sequences short on misses, the common case (ndots:5).
        // An empty table has one empty slot: most shards of a small cluster are empty.
        var capacity = keys.isEmpty ? 1 : 4
        while capacity < keys.count * 2 { capacity <<= 1 }
        var slots = [UInt64](repeating: 0, count: capacity)
        for (entry, key) in keys.enumerated() {
            let hash = key.withUnsafeBytes { Self.hash($0) }
            var slot = Int(truncatingIfNeeded: hash) & (capacity - 1)
            while slots[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            slots[slot] = Self.fingerprint(hash) | UInt64(entry + 1)
        }
        self.keyBytes = bytes
        self.keyStarts = starts
        self.slots = slots
        self.mask = capacity - 1
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
        var slot = Int(truncatingIfNeeded: hash) & mask
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
                        slot = (slot + 1) & mask
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

    /// FNV-1a over the bytes, folded: names are short, so a simple byte loop is enough.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash ^ (hash >> 29)
    }

    /// The hash's high half, where the slot number (low bits) does not come from.
    @inline(__always)
    static func fingerprint(_ hash: UInt64) -> UInt64 { hash & 0xFFFF_FFFF_0000_0000 }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
