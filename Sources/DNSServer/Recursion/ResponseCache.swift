import DNSWire
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Cache of forwarded replies (issue #3): positive and negative (RFC 2308), TTLs capped,
/// bounded in entries with CLOCK (second-chance) eviction, keyed case-insensitively. Hits are
/// served with the client's ID and question spelling and TTLs counted down; popular entries
/// near expiry ask for a prefetch; expired entries may be served stale when upstreams fail
/// (RFC 8767).
public final class ResponseCache: Sendable {
    public struct Settings: Sendable {
        public var capacity: Int
        public var maxTTL: UInt32
        public var maxNegativeTTL: UInt32
        /// How long past expiry an entry may still be served when every upstream fails.
        public var staleWindow: UInt32
        /// Bytes of replies held at most: entries alone bound nothing when each may be 64 KB
        /// (10,000 × 60 KB was 600 MB; issue #11 item 7).
        public var maxBytes: Int
        /// Larger replies are relayed but not cached.
        public var maxEntryBytes: Int
        /// Whether a hit's closing A/AAAA RRset is rotated per query, like the cluster zone's
        /// (`--no-shuffle` turns both off).
        public var shufflesAddresses: Bool
        /// Where entries' ages are read from; tests move a clock of their own forward.
        public var clock = CacheClock.system

        public init(
            capacity: Int = 10_000, maxTTL: UInt32 = 3600, maxNegativeTTL: UInt32 = 30, staleWindow: UInt32 = 3600,
            maxBytes: Int = 32 << 20, maxEntryBytes: Int = 16 << 10, shufflesAddresses: Bool = true
        ) {
            self.shufflesAddresses = shufflesAddresses
            self.capacity = capacity
            self.maxTTL = maxTTL
            self.maxNegativeTTL = maxNegativeTTL
            self.staleWindow = staleWindow
            self.maxBytes = maxBytes
            self.maxEntryBytes = maxEntryBytes
        }
    }

    /// Lower-cased question name, type, class, and the EDNS bits that change the reply.
    public struct Key: Hashable, @unchecked Sendable {
        // @unchecked: a key borrowing the query's bytes (`borrowing`) lives only inside one
        // lookup on the thread that owns those bytes, and is never stored.
        private enum Name {
            case owned([UInt8])
            case borrowed(UnsafeRawBufferPointer)
        }

        private var storedName: Name
        var type: UInt16
        var recordClass: UInt16
        var flags: UInt8

        public init(name: some Collection<UInt8>, type: RecordType, recordClass: RecordClass, edns: Bool, dnssecOK: Bool, checkingDisabled: Bool) {
            storedName = .owned(Array(name))
            self.type = type.rawValue
            self.recordClass = recordClass.rawValue
            flags = Self.flags(edns: edns, dnssecOK: dnssecOK, checkingDisabled: checkingDisabled)
        }

        /// A key over `name` without copying it, for a lookup that allocates nothing.
        init(borrowing name: UnsafeRawBufferPointer, type: RecordType, recordClass: RecordClass, edns: Bool, dnssecOK: Bool, checkingDisabled: Bool) {
            storedName = .borrowed(name)
            self.type = type.rawValue
            self.recordClass = recordClass.rawValue
            flags = Self.flags(edns: edns, dnssecOK: dnssecOK, checkingDisabled: checkingDisabled)
        }

        private static func flags(edns: Bool, dnssecOK: Bool, checkingDisabled: Bool) -> UInt8 {
            (edns ? 1 : 0) | (dnssecOK ? 2 : 0) | (checkingDisabled ? 4 : 0)
        }

        private func withName<Result>(_ body: (UnsafeRawBufferPointer) -> Result) -> Result {
            switch storedName {
            case .owned(let bytes): return bytes.withUnsafeBytes(body)
            case .borrowed(let bytes): return body(bytes)
            }
        }

        /// This key with its own copy of the name, safe to store.
        var owned: Key {
            guard case .borrowed(let bytes) = storedName else { return self }
            var key = self
            key.storedName = .owned(Array(bytes))
            return key
        }

        public static func == (lhs: Key, rhs: Key) -> Bool {
            lhs.type == rhs.type && lhs.recordClass == rhs.recordClass && lhs.flags == rhs.flags
                && lhs.withName { left in
                    rhs.withName { right in
                        left.count == right.count && (left.isEmpty || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
                    }
                }
        }

        public func hash(into hasher: inout Hasher) {
            withName { hasher.combine(bytes: $0) }
            hasher.combine(type)
            hasher.combine(recordClass)
            hasher.combine(flags)
        }
    }

    public enum Lookup: Sendable {
        case miss
        /// Ready to send; `prefetch` asks the caller to refresh the entry in the background.
        case hit([UInt8], prefetch: Bool)
    }

    struct Entry {
        var reply: [UInt8]
        var ttls: ReplyTTLs
        var lifetime: UInt32
        var storedAt: NIODeadline
        var hits = 0
        var referenced = false
        var prefetching = false
    }

    struct State {
        var entries: [Key: Entry] = [:]
        /// CLOCK ring of keys in insertion order; `hand` is the next eviction candidate.
        var ring: [Key] = []
        var hand = 0
        /// Bytes of the replies held.
        var bytes = 0
        var hits = 0
        var misses = 0
    }

    public let settings: Settings
    private let state = NIOLockedValueBox(State())

    /// Hits before an entry counts as popular enough to prefetch.
    static let prefetchHits = 2
    /// RFC 8767 §4: stale answers carry a TTL of 30 s.
    static let staleTTL: UInt32 = 30

    public init(settings: Settings) { self.settings = settings }

    public var count: Int { state.withLockedValue { $0.entries.count } }
    /// Bytes of the replies held.
    public var byteCount: Int { state.withLockedValue { $0.bytes } }
    public var statistics: (hits: Int, misses: Int) { state.withLockedValue { ($0.hits, $0.misses) } }
    /// Entries by CoreDNS cache type: `denial` (NXDOMAIN, NODATA) and `success`; for metrics.
    public var entryCounts: (success: Int, denial: Int) {
        state.withLockedValue { state in
            let denial = state.entries.values.reduce(0) { $0 + (ServerMetrics.isDenial($1.reply) ? 1 : 0) }
            return (state.entries.count - denial, denial)
        }
    }

    /// A fresh entry rewritten for this client, or `.miss`.
    public func lookup(_ key: Key, request: UnsafeRawBufferPointer, questionEnd: Int, now: NIODeadline? = nil) -> Lookup {
        let now = now ?? settings.clock.now()
        let key = key.owned  // the entry is written back under this key: it must own its name
        return state.withLockedValue { state in
            guard var entry = state.entries[key] else {
                state.misses += 1
                return .miss
            }
            let age = Self.seconds(now - entry.storedAt)
            guard age < entry.lifetime, entry.reply.count >= questionEnd else {
                state.misses += 1
                return .miss
            }
            entry.hits += 1
            entry.referenced = true
            // Refresh popular entries in their last tenth of life (at least the last second).
            let prefetch = !entry.prefetching && entry.hits >= Self.prefetchHits
                && entry.lifetime - age <= max(1, entry.lifetime / 10)
            if prefetch { entry.prefetching = true }
            state.entries[key] = entry
            state.hits += 1
            let lifetime = entry.lifetime
            let countdown = { (original: UInt32) -> UInt32 in
                let capped = min(original, lifetime)
                return capped > age ? capped - age : 0
            }
            return .hit(
                Self.render(entry, request: request, questionEnd: questionEnd, shuffles: settings.shufflesAddresses, ttl: countdown),
                prefetch: prefetch)
        }
    }

    /// `lookup` for the datagram thread: the reply is written into `output` (the client's
    /// ID, spelling and TTLs patched in place) and nothing is allocated. Returns its length and
    /// whether to prefetch, or nil on a miss or when the reply does not fit `limit`.
    func lookup(
        _ key: Key, request: UnsafeRawBufferPointer, questionEnd: Int, into output: UnsafeMutableRawBufferPointer, limit: Int,
        now: NIODeadline? = nil
    ) -> (length: Int, prefetch: Bool)? {
        let now = now ?? settings.clock.now()
        let shuffles = settings.shufflesAddresses
        return state.withLockedValue { state in
            guard let index = state.entries.index(forKey: key) else {
                state.misses += 1
                return nil
            }
            // The entry is served where it lies, through the index (a borrowed key must never
            // be inserted): copying it out retained and released its arrays on every hit.
            let served = Self.serve(
                &state.entries.values[index], now: now, request: request, questionEnd: questionEnd, into: output, limit: limit,
                shuffles: shuffles)
            if served == nil { state.misses += 1 } else { state.hits += 1 }
            return served
        }
    }

    /// A hit on `entry` written into `output`, or nil when it has expired or does not fit.
    private static func serve(
        _ entry: inout Entry, now: NIODeadline, request: UnsafeRawBufferPointer, questionEnd: Int,
        into output: UnsafeMutableRawBufferPointer, limit: Int, shuffles: Bool
    ) -> (length: Int, prefetch: Bool)? {
        let age = seconds(now - entry.storedAt)
        guard age < entry.lifetime, entry.reply.count >= questionEnd, entry.reply.count <= min(limit, output.count) else {
            return nil
        }
        entry.hits += 1
        entry.referenced = true
        let prefetch = !entry.prefetching && entry.hits >= prefetchHits && entry.lifetime - age <= max(1, entry.lifetime / 10)
        if prefetch { entry.prefetching = true }
        let lifetime = entry.lifetime
        entry.reply.withUnsafeBytes { output.copyMemory(from: $0) }
        patch(output, entry: entry, request: request, questionEnd: questionEnd, shuffles: shuffles) { original in
            let capped = min(original, lifetime)
            return capped > age ? capped - age : 0
        }
        return (entry.reply.count, prefetch)
    }

    /// An expired entry still within the stale window, for when every upstream failed.
    public func stale(_ key: Key, request: UnsafeRawBufferPointer, questionEnd: Int, now: NIODeadline? = nil) -> [UInt8]? {
        let now = now ?? settings.clock.now()
        return state.withLockedValue { state in
            guard let entry = state.entries[key], entry.reply.count >= questionEnd else { return nil }
            let age = Self.seconds(now - entry.storedAt)
            guard age < entry.lifetime + settings.staleWindow else { return nil }
            return Self.render(
                entry, request: request, questionEnd: questionEnd, shuffles: settings.shufflesAddresses, ttl: { _ in Self.staleTTL })
        }
    }

    /// Stores a forwarded reply if it is cacheable (not truncated, not an error).
    public func store(_ key: Key, reply: [UInt8], now: NIODeadline? = nil) {
        store(key, reply: reply, layout: nil, now: now ?? settings.clock.now())
    }

    /// A forwarded reply on its way to the client: its TTLs capped at `maxTTL` (RFC 2181 §8
    /// applied), stored, and returned for relaying, with one walk of its records.
    func relay(_ key: Key, reply: [UInt8], now: NIODeadline? = nil) -> [UInt8] {
        let (capped, layout) = ReplyTTLs.cappedLayout(reply, maxTTL: settings.maxTTL)
        if let layout { store(key, reply: capped, layout: layout, now: now ?? settings.clock.now()) }
        return capped
    }

    private func store(_ key: Key, reply: [UInt8], layout: [ReplyTTLs.Field]?, now: NIODeadline) {
        let key = key.owned
        let limits = ReplyTTLs.Limits(maxTTL: settings.maxTTL, maxNegativeTTL: settings.maxNegativeTTL)
        guard settings.capacity > 0, reply.count >= DNSHeader.byteCount, reply.count <= min(settings.maxEntryBytes, settings.maxBytes),
              let ttls = layout.map({ ReplyTTLs(reply: reply, layout: $0, limits: limits) }) ?? ReplyTTLs(reply: reply, limits: limits),
              let lifetime = ttls.lifetime, lifetime > 0
        else { return }
        state.withLockedValue { state in
            if let old = state.entries[key] {
                state.bytes -= old.reply.count
            } else {
                // CLOCK: a full cache's new entry takes the evicted one's place in the ring, just
                // behind the hand, so it gets a whole turn; nothing in the ring moves. Removing
                // the slot instead moved every key after it: a memmove of the whole ring per
                // miss, 6 % of a forwarded miss's CPU (issue #10).
                if state.entries.count >= settings.capacity, let slot = Self.evictOne(&state, keepingSlot: true) {
                    state.ring[slot] = key
                } else {
                    state.ring.append(key)
                }
            }
            // Over the byte budget (large answers; rare): slots are removed.
            while state.bytes + reply.count > settings.maxBytes, !state.ring.isEmpty,
                  Self.evictOne(&state, sparing: key, keepingSlot: false) != nil {}
            state.bytes += reply.count
            state.entries[key] = Entry(reply: reply, ttls: ttls, lifetime: lifetime, storedAt: now)
        }
    }

    /// CLOCK: skip (and clear) recently used entries once, evict the first unused one (never
    /// `sparing`, the key being stored). Returns the evicted entry's ring slot, which the
    /// caller fills when `keepingSlot` (the hand has moved past it) and which is removed from
    /// the ring otherwise; nil when nothing could be evicted.
    private static func evictOne(_ state: inout State, sparing: Key? = nil, keepingSlot: Bool) -> Int? {
        var visited = 0
        while !state.ring.isEmpty, visited < 2 * state.ring.count + 1 {
            visited += 1
            if state.hand >= state.ring.count { state.hand = 0 }
            let key = state.ring[state.hand]
            if key == sparing {
                state.hand += 1
                continue
            }
            if state.entries[key]?.referenced == true {
                state.entries[key]?.referenced = false
                state.hand += 1
                continue
            }
            if let evicted = state.entries.removeValue(forKey: key) { state.bytes -= evicted.reply.count }
            let slot = state.hand
            if keepingSlot { state.hand += 1 } else { state.ring.remove(at: slot) }
            return slot
        }
        return nil
    }

    private static func render(
        _ entry: Entry, request: UnsafeRawBufferPointer, questionEnd: Int, shuffles: Bool, ttl: (UInt32) -> UInt32
    ) -> [UInt8] {
        var reply = entry.reply
        reply.withUnsafeMutableBytes {
            patch($0, entry: entry, request: request, questionEnd: questionEnd, shuffles: shuffles, ttl: ttl)
        }
        return reply
    }

    /// The client's ID and its spelling of the question (same length: same name, any case),
    /// each TTL counted down, and the addresses rotated by that ID, written over a copy of
    /// `entry`'s reply.
    private static func patch(
        _ reply: UnsafeMutableRawBufferPointer, entry: Entry, request: UnsafeRawBufferPointer, questionEnd: Int, shuffles: Bool,
        ttl: (UInt32) -> UInt32
    ) {
        for index in 0..<2 { reply[index] = request[index] }
        for index in DNSHeader.byteCount..<questionEnd { reply[index] = request[index] }
        for (offset, original) in zip(entry.ttls.offsets, entry.ttls.originals) {
            ReplyTTLs.write(ttl(original), at: offset, in: reply)
        }
        if shuffles, let run = entry.ttls.addressRun {
            run.rotate(reply, id: UInt16(request[0]) << 8 | UInt16(request[1]))
        }
    }

    private static func seconds(_ amount: TimeAmount) -> UInt32 {
        UInt32(clamping: max(0, amount.nanoseconds / 1_000_000_000))
    }
}

/// Where a cache reads the time: the monotonic clock `NIODeadline` reads, or in tests a clock
/// they move forward, so that ageing and expiry are tested without sleeping (issue #10).
public struct CacheClock: Sendable {
    public let now: @Sendable () -> NIODeadline
    /// Whether `now` reads `NIODeadline.now()`: then a caller's reading of that clock may stand
    /// in for one of ours.
    let isSystem: Bool

    public init(now: @escaping @Sendable () -> NIODeadline) {
        self.now = now
        isSystem = false
    }

    private init(systemClock: Void) {
        now = { NIODeadline.now() }
        isSystem = true
    }

    public static let system = CacheClock(systemClock: ())
}
