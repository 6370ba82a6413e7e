import DNSWire
import NIOConcurrencyHelpers
import NIOCore

/// Caps the connections a listener holds at once, in all and per client address (issue #11
/// item 3). Without a cap, 1,100 trickling connections took every file descriptor: TCP
/// queries went unanswered, forwarding had no descriptor for its upstream socket, and
/// `/health` timed out, which Kubernetes answers with a restart. A connection over a cap is
/// closed as soon as it is accepted, so it holds its descriptor for one event-loop turn.
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

    private struct State {
        var total = 0
        var perClient: [IPAddress: Int] = [:]
        var refused = 0
    }

    public let limits: Limits
    private let state = NIOLockedValueBox(State())

    public init(limits: Limits) {
        self.limits = limits
    }

    /// Connections held now, and refused so far (for tests and logs).
    public var openCount: Int { state.withLockedValue { $0.total } }
    public var refusedCount: Int { state.withLockedValue { $0.refused } }

    /// Takes a place for a connection from `client`, or refuses it.
    func admit(_ client: IPAddress?) -> Bool {
        state.withLockedValue { state in
            let fromClient = client.map { state.perClient[$0, default: 0] } ?? 0
            guard state.total < limits.total, fromClient < limits.perClient else {
                state.refused += 1
                return false
            }
            state.total += 1
            if let client { state.perClient[client] = fromClient + 1 }
            return true
        }
    }

    /// Gives back the place `admit` took. The per-client table only holds clients with open
    /// connections, so it is bounded by `limits.total`.
    func release(_ client: IPAddress?) {
        state.withLockedValue { state in
            state.total -= 1
            guard let client, let count = state.perClient[client] else { return }
            state.perClient[client] = count > 1 ? count - 1 : nil
        }
    }

    /// The first handler of each accepted connection.
    func gate() -> ConnectionGate { ConnectionGate(limiter: self) }
}

/// Admits a connection when it becomes active, or closes it there; gives its place back when it
/// ends. Nothing else in the pipeline sees a refused connection's bytes.
final class ConnectionGate: ChannelInboundHandler {
    typealias InboundIn = NIOAny

    private let limiter: ConnectionLimiter
    /// Whether `admit` gave this connection a place, and the client it counts against.
    private var admitted = false
    private var client: IPAddress?

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func channelActive(context: ChannelHandlerContext) {
        client = context.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        guard limiter.admit(client) else {
            context.close(promise: nil)
            return
        }
        admitted = true
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard admitted else { return }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        guard admitted else { return }
        admitted = false
        limiter.release(client)
        context.fireChannelInactive()
    }
}
