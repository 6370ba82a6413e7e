import DNSWire
import NIOConcurrencyHelpers
import NIOCore

/// Caps the connections a listener holds at once, in all and per client address (issue #11
/// item 3). Without a cap, 1,100 trickling connections took every file descriptor: TCP
/// queries went unanswered, forwarding had no descriptor for its upstream socket, and
/// `/health` timed out, which Kubernetes answers with a restart.
///
/// When a cap is reached, the connection that has been idle longest (nothing read for at least
/// `idleAfter`) makes way: among the client's own connections for the per-client cap, among all
/// for the total. So connections a client opened and forgot, or a slow trickle, cannot lock
/// newcomers out, while connections in use are never cut for one. With none idle the newcomer
/// is closed as soon as it is accepted, holding its descriptor for one event-loop turn.
public final class ConnectionLimiter: Sendable {
    public struct Limits: Sendable, Equatable {
        public var total: Int
        public var perClient: Int

        public init(total: Int, perClient: Int) {
            self.total = total
            self.perClient = perClient
        }

        /// DNS over TCP: clients keep connections open (RFC 7766 §6.2.1), and a node-local
        /// cache may hold many from one address, but not every descriptor the process has.
        public static let dnsDefault = Limits(total: 1_000, perClient: 100)
        /// The admin port: probes and scrapes, a handful at a time.
        public static let adminDefault = Limits(total: 64, perClient: 16)

        /// These limits within `descriptors` open files, keeping `reserve` for what must not
        /// fail when connections pile up: upstream sockets, zone and manifest files, the admin
        /// port.
        public func within(descriptors: UInt64, reserve: Int) -> Limits {
            guard descriptors > 0 else { return self }  // the limit could not be read
            let available = Int(clamping: descriptors) - reserve
            var limits = self
            limits.total = max(1, min(total, available))
            limits.perClient = min(perClient, limits.total)
            return limits
        }
    }

    /// A connection with nothing read for this long may make way for a newcomer.
    static let idleAfter = TimeAmount.seconds(1)

    /// One admitted connection: whom it counts against, when it last read, how to close it.
    private struct Held {
        var client: IPAddress?
        var lastRead: NIODeadline
        var close: @Sendable () -> Void
    }

    private struct State {
        var held: [ObjectIdentifier: Held] = [:]
        var perClient: [IPAddress: Int] = [:]
        var refused = 0
        var evicted = 0

        /// The connection idle longest (of `client`'s when given), if idle at all.
        func oldestIdle(of client: IPAddress??, now: NIODeadline) -> ObjectIdentifier? {
            var oldest: (ObjectIdentifier, NIODeadline)?
            for (id, connection) in held where client.map({ $0 == connection.client }) ?? true {
                guard now - connection.lastRead >= ConnectionLimiter.idleAfter else { continue }
                if oldest.map({ connection.lastRead < $0.1 }) ?? true { oldest = (id, connection.lastRead) }
            }
            return oldest?.0
        }

        mutating func remove(_ id: ObjectIdentifier) -> Held? {
            guard let connection = held.removeValue(forKey: id) else { return nil }
            if let client = connection.client, let count = perClient[client] {
                perClient[client] = count > 1 ? count - 1 : nil
            }
            return connection
        }
    }

    public let limits: Limits
    private let state = NIOLockedValueBox(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Connections held now, refused and evicted so far (for tests and logs).
    public var openCount: Int { state.withLockedValue { $0.held.count } }
    public var refusedCount: Int { state.withLockedValue { $0.refused } }
    public var evictedCount: Int { state.withLockedValue { $0.evicted } }

    /// Takes a place for connection `id` from `client`, closing the longest-idle connection
    /// when a cap is reached; false when nothing could make way (the caller closes `id`).
    func admit(
        _ id: ObjectIdentifier, client: IPAddress?, now: NIODeadline = .now(), close: @escaping @Sendable () -> Void
    ) -> Bool {
        let outcome: (admitted: Bool, victim: Held?) = state.withLockedValue { state in
            var victim: Held?
            let fromClient = client.map { state.perClient[$0, default: 0] } ?? 0
            if fromClient >= limits.perClient {
                // The client's own idle connection makes way: it can only crowd out itself.
                guard let oldest = state.oldestIdle(of: .some(client), now: now) else {
                    state.refused += 1
                    return (false, nil)
                }
                victim = state.remove(oldest)
            } else if state.held.count >= limits.total {
                guard let oldest = state.oldestIdle(of: nil, now: now) else {
                    state.refused += 1
                    return (false, nil)
                }
                victim = state.remove(oldest)
            }
            if victim != nil { state.evicted += 1 }
            state.held[id] = Held(client: client, lastRead: now, close: close)
            if let client { state.perClient[client, default: 0] += 1 }
            return (true, victim)
        }
        outcome.victim?.close()  // outside the lock: closing may run its handlers here
        return outcome.admitted
    }

    /// Connection `id` has read something: it is in use.
    func touch(_ id: ObjectIdentifier, now: NIODeadline = .now()) {
        state.withLockedValue { $0.held[id]?.lastRead = now }
    }

    /// Gives back the place `admit` took (nothing when the connection was evicted). The tables
    /// only hold open connections, so they are bounded by `limits.total`.
    func release(_ id: ObjectIdentifier) {
        _ = state.withLockedValue { $0.remove(id) }
    }

    /// The first handler of each accepted connection.
    func gate() -> ConnectionGate { ConnectionGate(limiter: self) }
}

/// Admits a connection when it becomes active, or closes it there; marks it in use on every
/// read; gives its place back when it ends. Nothing else in the pipeline sees a refused
/// connection's bytes.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let limiter: ConnectionLimiter
    /// Whether `admit` gave this connection a place.
    private var admitted = false

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func channelActive(context: ChannelHandlerContext) {
        let client = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        let channel = context.channel
        guard limiter.admit(ObjectIdentifier(channel), client: client, close: { channel.close(promise: nil) }) else {
            context.close(promise: nil)
            return
        }
        admitted = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        limiter.touch(ObjectIdentifier(context.channel))
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard admitted else { return }
        admitted = false
        limiter.release(ObjectIdentifier(context.channel))
        context.fireChannelInactive()
    }
}
