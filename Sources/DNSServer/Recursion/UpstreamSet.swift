import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The upstream servers of one forwarding target with their health: an upstream that fails
/// twice in a row is skipped for a while and then tried again (the retry is the probe); one
/// found to loop back to us is never used again.
public final class UpstreamSet: Sendable {
    public enum Policy: String, Sendable, CaseIterable {
        /// Spread load: healthy upstreams in random order for each query (CoreDNS's default).
        case random
        /// Always prefer the first healthy upstream (kube-dns / resolv.conf order).
        case sequential
    }

    struct Health {
        var consecutiveFailures = 0
        var skipUntil: NIODeadline? = nil
        var loops = false
    }

    public let addresses: [SocketAddress]
    /// The same, as the kernel takes them: for the datagram threads' own sockets.
    let socketAddresses: [sockaddr_storage]
    public let policy: Policy
    private let health: NIOLockedValueBox<[Health]>

    static let failuresBeforeSkipping = 2
    static let skipDuration = TimeAmount.seconds(5)

    public init(addresses: [SocketAddress], policy: Policy) {
        self.addresses = addresses
        socketAddresses = addresses.map(\.storage)
        self.policy = policy
        health = NIOLockedValueBox(Array(repeating: Health(), count: addresses.count))
    }

    /// Asked for every out-of-zone query, cache hits included: no array is built for it.
    public var isEmpty: Bool { health.withLockedValue { states in !states.contains { !$0.loops } } }

    /// Indices of upstreams that do not loop.
    var usable: [Int] { health.withLockedValue { states in states.indices.filter { !states[$0].loops } } }

    /// The order to try upstreams for one query: healthy ones by policy, skipped ones last
    /// (better a slow answer than none when everything looks down).
    public func attemptOrder(now: NIODeadline = .now()) -> [Int] {
        let states = health.withLockedValue { $0 }
        let candidates = states.indices.filter { !states[$0].loops }
        var healthy = candidates.filter { (states[$0].skipUntil ?? .distantPast) <= now }
        let skipped = candidates.filter { (states[$0].skipUntil ?? .distantPast) > now }
        if policy == .random { healthy.shuffle() }
        return healthy + skipped
    }

    /// `attemptOrder().first` without building the order, for a datagram thread's miss (issue
    /// #10): a healthy upstream by policy, else the first skipped one. `spread` picks among the
    /// healthy ones under `.random`, so this draws no random number of its own.
    func firstAttempt(spread: UInt16, now: NIODeadline = .now()) -> Int? {
        health.withLockedValue { states in
            var healthy = 0
            var firstSkipped: Int?
            for index in states.indices where !states[index].loops {
                if (states[index].skipUntil ?? .distantPast) <= now {
                    healthy += 1
                } else if firstSkipped == nil {
                    firstSkipped = index
                }
            }
            guard healthy > 0 else { return firstSkipped }
            var pick = policy == .random ? Int(spread) % healthy : 0
            for index in states.indices where !states[index].loops && (states[index].skipUntil ?? .distantPast) <= now {
                if pick == 0 { return index }
                pick -= 1
            }
            return firstSkipped
        }
    }

    public func recordSuccess(_ index: Int) {
        health.withLockedValue {
            $0[index].consecutiveFailures = 0
            $0[index].skipUntil = nil
        }
    }

    public func recordFailure(_ index: Int, now: NIODeadline = .now()) {
        health.withLockedValue {
            $0[index].consecutiveFailures += 1
            if $0[index].consecutiveFailures >= Self.failuresBeforeSkipping { $0[index].skipUntil = now + Self.skipDuration }
        }
    }

    /// Never forward to this upstream again: it sends our queries back to us.
    public func markLooping(_ index: Int) {
        health.withLockedValue { $0[index].loops = true }
    }

    public func isHealthy(_ index: Int, now: NIODeadline = .now()) -> Bool {
        health.withLockedValue { !$0[index].loops && ($0[index].skipUntil ?? .distantPast) <= now }
    }
}
