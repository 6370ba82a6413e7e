#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Builds a DNS message with name compression (RFC 1035 §4.1.4). Used wherever speed does not
/// matter much: preparing snapshot answers, tests, forwarding. The per-query path copies
/// prepared bytes instead. Snapshot builds still write hundreds of thousands of names, so the
/// compression table avoids allocating per suffix.
public struct WireWriter: Sendable {
    public private(set) var bytes: [UInt8]
    /// Lower-cased wire form of every name suffix written so far → its offset.
    private var suffixes = SuffixTable()

    public init(capacity: Int = 512) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    /// Continues a message whose first `prefix` bytes are already fixed (e.g. header +
    /// question): names written later may point into it after `registerName(at:)`.
    public init(prefix: [UInt8]) {
        bytes = prefix
    }

    /// Off for bytes that will be placed at an offset not known yet (e.g. a SOA template):
    /// names are then written in full and never become pointer targets.
    public var compresses = true

    public var count: Int { bytes.count }

    /// Starts a new message of `prefixLength` zero bytes, keeping allocated storage so one
    /// writer can prepare many answers.
    public mutating func reset(prefixLength: Int) {
        bytes.removeAll(keepingCapacity: true)
        bytes.append(contentsOf: repeatElement(0, count: prefixLength))
        suffixes.removeAll()
    }

    public mutating func writeUInt8(_ value: UInt8) { bytes.append(value) }

    public mutating func writeUInt16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    public mutating func writeUInt32(_ value: UInt32) {
        writeUInt16(UInt16(value >> 16))
        writeUInt16(UInt16(truncatingIfNeeded: value))
    }

    public mutating func writeBytes(_ value: some Sequence<UInt8>) { bytes.append(contentsOf: value) }

    public mutating func setUInt16(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Makes the uncompressed name already present at `offset` available as a pointer target.
    public mutating func registerName(_ name: DomainName, at offset: Int) {
        let labels = suffixes.store(name)
        for label in 0..<labels {
            let index = suffixes.suffixPosition(label)
            guard offset + index < 0x4000 else { break }
            suffixes.insert(suffix: label, offset: offset + index)
        }
    }

    /// Writes `name`, replacing its longest already-written suffix with a pointer when
    /// `compress` is set. Suffixes written here become targets either way, but a suffix
    /// already written keeps its first copy (an uncompressed SRV target, RFC 2782, repeats
    /// one): later names then point at the question rather than into another record, so the
    /// records of an RRset stay independent and can be moved as blocks (`ClosingRRset`).
    public mutating func writeName(_ name: DomainName, compress: Bool = true) {
        guard compresses else {
            bytes.append(contentsOf: name.wire)
            return
        }
        let labels = suffixes.store(name)
        for label in 0..<labels {
            if compress, let target = suffixes.offset(ofSuffix: label) {
                writeUInt16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x4000 { suffixes.insert(suffix: label, offset: bytes.count) }
            let index = suffixes.suffixPosition(label)
            let length = Int(name.wire[index])
            bytes.append(contentsOf: name.wire[index...index + length])  // keep original spelling
        }
        bytes.append(0)
    }

    public mutating func writeQuestion(_ question: DNSQuestion) {
        writeName(question.name)
        writeUInt16(question.type.rawValue)
        writeUInt16(question.recordClass.rawValue)
    }

    public mutating func writeRecord(_ record: ResourceRecord) {
        writeName(record.name)
        writeUInt16(record.type.rawValue)
        writeUInt16(record.recordClass.rawValue)
        writeUInt32(record.ttl)
        let lengthOffset = bytes.count
        writeUInt16(0)
        writeRData(record.data)
        setUInt16(UInt16(bytes.count - lengthOffset - 2), at: lengthOffset)
    }

    public mutating func writeRData(_ data: RData) {
        switch data {
        // From the address's own words: `bytes` made an array per address record.
        case .a(let address), .aaaa(let address): address.withRDataBytes { writeBytes($0) }
        case .ns(let name), .cname(let name), .ptr(let name): writeName(name)
        case .mx(let preference, let exchange):
            writeUInt16(preference)
            writeName(exchange)
        case .soa(let soa):
            writeName(soa.mname)
            writeName(soa.rname)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writeUInt32(value) }
        case .srv(let srv):
            writeUInt16(srv.priority)
            writeUInt16(srv.weight)
            writeUInt16(srv.port)
            // RFC 2782: the SRV target is never compressed (receivers need not decompress it).
            writeName(srv.target, compress: false)
        case .txt(let strings):
            for string in strings {
                writeUInt8(UInt8(min(string.count, 255)))
                writeBytes(string.prefix(255))
            }
        case .hinfo(let cpu, let os):
            for string in [cpu, os] {
                writeUInt8(UInt8(min(string.count, 255)))
                writeBytes(string.prefix(255))
            }
        case .unknown(let raw): writeBytes(raw)
        }
    }
}

/// The compression table of one message: lower-cased name suffixes → the offset where they
/// were written. Names are copied once into `names`; a suffix is just a position in it, and
/// the table is open-addressed over a hash of its bytes, so neither lookups nor inserts
/// allocate per suffix (a `[[UInt8]: Int]` dictionary dominated snapshot builds).
struct SuffixTable {
    private struct Entry {
        var hash: UInt64
        /// Where the suffix starts in `names`; it runs to the next root label.
        var start: Int32
        var offset: Int32
    }

    /// Lower-cased wire forms of the names written so far, back to back.
    private var names: [UInt8] = []
    private var entries: [Entry] = []
    /// Index into `entries`, or -1 for a free slot. The count is a power of two.
    private var slots: [Int32] = Array(repeating: -1, count: 16)

    mutating func removeAll() {
        names.removeAll(keepingCapacity: true)
        storedStart = 0
        suffixStarts.removeAll(keepingCapacity: true)
        entries.removeAll(keepingCapacity: true)
        // A huge table (a headless service's answer) is not worth clearing for every small one.
        if slots.count > 1024 {
            slots = Array(repeating: -1, count: 16)
        } else {
            for index in slots.indices { slots[index] = -1 }
        }
    }

    /// Where each suffix of the name stored last starts (relative to it) and its hash.
    private var storedStart = 0
    private var suffixStarts: [Int] = []
    private var suffixHashes: [UInt64] = []

    /// Copies `name` in lower case and hashes all its suffixes in one pass; returns its label
    /// count. Suffix `k` (the name without its first `k` labels) is then addressed by `k`.
    mutating func store(_ name: DomainName) -> Int {
        // A record's owner is nearly always the name stored last (the question's, registered
        // first, then each record of the RRset): its copy and hashes are still there. Storing
        // it again was a third of this table's time in a full build (issue #9).
        if !suffixStarts.isEmpty, isStoredLast(name) { return suffixStarts.count }
        storedStart = names.count
        suffixStarts.removeAll(keepingCapacity: true)
        var index = 0
        name.wire.withUnsafeBufferPointer { wire in
            while wire[index] != 0 {
                suffixStarts.append(index)
                index += 1 + Int(wire[index])
            }
            // One copy, then folded in place: appending byte by byte checked the array's
            // uniqueness and capacity for every byte.
            names.append(contentsOf: UnsafeBufferPointer(rebasing: wire[0...index]))
        }
        let stored = storedStart
        names.withUnsafeMutableBufferPointer { names in
            for position in stored..<names.count { names[position] = DomainName.lowercase(names[position]) }
        }
        // Right to left: a suffix's hash continues its parent's, so every suffix costs its
        // first label only (hashing each suffix from scratch was quadratic in the labels).
        suffixHashes.removeAll(keepingCapacity: true)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        names.withUnsafeBufferPointer { names in
            for start in suffixStarts.reversed() {
                let from = storedStart + start
                for byte in names[from...from + Int(names[from])] { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
                suffixHashes.append(hash)
            }
        }
        suffixHashes.reverse()
        return suffixStarts.count
    }

    /// Whether `name`, folded to lower case, is the name stored last.
    private func isStoredLast(_ name: DomainName) -> Bool {
        let length = names.count - storedStart
        guard name.wire.count == length else { return false }
        return name.wire.withUnsafeBufferPointer { wire in
            names.withUnsafeBufferPointer { names in
                for offset in 0..<length where DomainName.lowercase(wire[offset]) != names[storedStart + offset] { return false }
                return true
            }
        }
    }

    /// Offset of suffix `label` within the name stored last.
    func suffixPosition(_ label: Int) -> Int { suffixStarts[label] }

    func offset(ofSuffix label: Int) -> Int? {
        let start = storedStart + suffixStarts[label]
        guard case .found(let entry) = find(start: start, hash: suffixHashes[label]) else { return nil }
        return Int(entries[entry].offset)
    }

    /// Records that suffix `label` of the name stored last was written at `offset`; an existing
    /// entry for the same suffix is kept (the first copy stays the target).
    mutating func insert(suffix label: Int, offset: Int) {
        let start = storedStart + suffixStarts[label]
        let hash = suffixHashes[label]
        switch find(start: start, hash: hash) {
        case .found:
            break
        case .free(let slot):
            slots[slot] = Int32(entries.count)
            entries.append(Entry(hash: hash, start: Int32(start), offset: Int32(offset)))
            if entries.count * 2 > slots.count { grow() }
        }
    }

    private enum Probe {
        case found(Int)
        case free(Int)
    }

    /// Linear probing from the hash's home slot until the suffix or a free slot.
    private func find(start: Int, hash: UInt64) -> Probe {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { return .free(slot) }
            if entries[entry].hash == hash, suffixesEqual(Int(entries[entry].start), start) { return .found(entry) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        let mask = slots.count - 1
        for (index, entry) in entries.enumerated() {
            var slot = Int(truncatingIfNeeded: entry.hash) & mask
            while slots[slot] >= 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(index)
        }
    }

    /// Label by label, so a zero byte inside a label is not taken for the root.
    private func suffixesEqual(_ left: Int, _ right: Int) -> Bool {
        names.withUnsafeBufferPointer { names in
            var left = left, right = right
            while true {
                let length = Int(names[left])
                guard names[right] == names[left] else { return false }
                if length == 0 { return true }
                guard memcmp(names.baseAddress! + left + 1, names.baseAddress! + right + 1, length) == 0 else { return false }
                left += 1 + length
                right += 1 + length
            }
        }
    }
}
