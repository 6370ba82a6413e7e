import Dispatch
import DNSWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The UDP sockets a forwarder's queries leave from (issue #10): a few channels bound to
/// kernel-chosen random ports, shared by every query in flight, instead of a channel bootstrapped
/// per query. Each socket is replaced by a fresh one after `queriesPerSocket` queries, so the
/// source port a spoofer must guess keeps changing (RFC 5452 §4.5); each query also gets a random
/// ID not in use on its socket (RFC 5452 §9.2). A reply is taken only from the upstream asked,
/// with QR set, our ID and our question (RFC 5452 §9.1); anything else is ignored. The file
/// descriptors in use stay at `socketCount` plus the sockets retiring, whatever the load.
final class UpstreamSockets: Sendable {
    static let defaultSocketCount = 4
    static let defaultQueriesPerSocket = 2_000
    /// Datagrams are read whole: a reply cut at a smaller buffer would be relayed corrupt
    /// (issue #11 item 6). The largest UDP payload is 65,507 bytes.
    static let receiveCapacity = 65_535

    private let group: any EventLoopGroup
    private let socketCount: Int
    private let queriesPerSocket: Int
    /// How long a replaced socket stays open for the replies still due to it.
    private let retireAfter: TimeAmount
    private let slots: NIOLockedValueBox<Slots>

    private enum Slot {
        case empty
        /// Being opened: the queries that find it wait for the same socket.
        case opening(EventLoopFuture<PooledSocket>)
        case ready(PooledSocket)
    }

    private struct Slots {
        /// IPv4 sockets, then IPv6 ones.
        var families: [[Slot]]
        var next = 0
        /// Sockets opened in all, for tests (rotation).
        var opened = 0
    }

    private enum Choice {
        case use(PooledSocket)
        case wait(EventLoopFuture<PooledSocket>)
        case open(EventLoopPromise<PooledSocket>, replacing: PooledSocket?, family: Int, slot: Int)
    }

    init(
        group: any EventLoopGroup, socketCount: Int = defaultSocketCount, queriesPerSocket: Int = defaultQueriesPerSocket,
        retireAfter: TimeAmount
    ) {
        self.group = group
        self.socketCount = max(1, socketCount)
        self.queriesPerSocket = max(1, queriesPerSocket)
        self.retireAfter = retireAfter
        slots = NIOLockedValueBox(Slots(families: Array(repeating: Array(repeating: .empty, count: max(1, socketCount)), count: 2)))
    }

    /// Sockets opened since start (replacements included).
    var openedCount: Int { slots.withLockedValue { $0.opened } }

    /// Sends `query` to `upstream`; the future completes with its reply, or fails after
    /// `timeout`. No Swift task and no thread hop on the way out when a socket is open: the
    /// reply completes the future on the socket's event loop (issue #10).
    func exchange(_ query: [UInt8], with upstream: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<[UInt8]> {
        switch choose(family: upstream.protocol) {
        case .use(let socket):
            return socket.exchange(query, with: upstream, timeout: timeout)
        case .wait(let opening):
            return opening.flatMap { socket in
                socket.countUse()
                return socket.exchange(query, with: upstream, timeout: timeout)
            }
        case .open(let promise, let replacing, let familyIndex, let slot):
            let family = upstream.protocol
            let opened = PooledSocket.open(family: family, group: group).map { [self] fresh in
                fresh.countUse()
                slots.withLockedValue { slots in
                    slots.families[familyIndex][slot] = .ready(fresh)
                    slots.opened += 1
                }
                replacing?.retire(after: retireAfter)
                return fresh
            }
            opened.whenFailure { [self] _ in slots.withLockedValue { $0.families[familyIndex][slot] = .empty } }
            opened.cascade(to: promise)
            return opened.flatMap { $0.exchange(query, with: upstream, timeout: timeout) }
        }
    }

    /// The next socket in turn. An empty or used-up slot gets a fresh socket, opened once
    /// however many queries find it so; the used-up one closes when its replies are due.
    private func choose(family: NIOBSDSocket.ProtocolFamily) -> Choice {
        let familyIndex = family == .inet6 ? 1 : 0
        return slots.withLockedValue { slots in
            let slot = slots.next
            slots.next = (slots.next + 1) % socketCount
            var replacing: PooledSocket?
            switch slots.families[familyIndex][slot] {
            case .ready(let socket):
                if socket.takeUse(limit: queriesPerSocket) { return .use(socket) }
                replacing = socket
            case .opening(let future):
                return .wait(future)
            case .empty:
                break
            }
            let promise = group.next().makePromise(of: PooledSocket.self)
            slots.families[familyIndex][slot] = .opening(promise.futureResult)
            return .open(promise, replacing: replacing, family: familyIndex, slot: slot)
        }
    }

    /// Closes every socket (server shutdown).
    func close() {
        let sockets = slots.withLockedValue { slots in
            defer { slots.families = Array(repeating: Array(repeating: .empty, count: socketCount), count: 2) }
            return slots.families.joined().compactMap { slot -> PooledSocket? in
                if case .ready(let socket) = slot { return socket } else { return nil }
            }
        }
        for socket in sockets { socket.retire(after: .zero) }
    }
}

/// One shared UDP socket and the queries waiting on it, by ID.
final class PooledSocket: Sendable {
    struct Pending {
        var upstream: SocketAddress
        var query: [UInt8]
        var promise: EventLoopPromise<[UInt8]>
        /// When it fails as timed out (uptime nanoseconds).
        var deadline: UInt64
    }

    let channel: any Channel
    private let state: NIOLockedValueBox<State>
    /// Whether a flush of the queued writes is already on its way (only read on the loop).
    private let flushQueued: NIOLoopBoundBox<Bool>

    struct State {
        var pending: [UInt16: Pending] = [:]
        var uses = 0
        /// Whether the sweep that times queries out is scheduled.
        var sweeping = false
    }

    /// How often waiting queries are checked against their deadlines: one timer per socket
    /// instead of one per query (issue #10: a miss's CPU), so a timeout fires up to this late.
    static let sweepInterval = TimeAmount.milliseconds(50)

    private init(channel: any Channel, state: NIOLockedValueBox<State>) {
        self.channel = channel
        self.state = state
        flushQueued = NIOLoopBoundBox(false, eventLoop: channel.eventLoop)
    }

    static func open(family: NIOBSDSocket.ProtocolFamily, group: any EventLoopGroup) -> EventLoopFuture<PooledSocket> {
        let state = NIOLockedValueBox(State())
        let handler = PooledReplyHandler(state: state)
        return DatagramBootstrap(group: group.next())
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: UpstreamSockets.receiveCapacity))
            // Replies that arrive together are read with one recvmmsg, not one read each.
            .channelOption(.datagramVectorReadMessageCount, value: 16)
            .channelOption(.maxMessagesPerRead, value: 16)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) }
            }
            .bind(host: family == .inet6 ? "::" : "0.0.0.0", port: 0)
            .map { PooledSocket(channel: $0, state: state) }
    }

    /// Counts one more query on this socket, whatever its share.
    func countUse() { state.withLockedValue { $0.uses += 1 } }

    /// Counts one more query on this socket; false when it has had its share.
    func takeUse(limit: Int) -> Bool {
        state.withLockedValue { state in
            guard state.uses < limit else { return false }
            state.uses += 1
            return true
        }
    }

    func exchange(_ query: [UInt8], with upstream: SocketAddress, timeout: TimeAmount) -> EventLoopFuture<[UInt8]> {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        var outgoing = query
        let deadline = DispatchTime.now().uptimeNanoseconds &+ UInt64(max(0, timeout.nanoseconds))
        let (id, startSweep): (UInt16, Bool) = state.withLockedValue { state in
            // The table holds at most the forwarder's in-flight cap, far below 65,536 IDs.
            var id = UInt16.random(in: .min ... .max)
            while state.pending[id] != nil { id = UInt16.random(in: .min ... .max) }
            outgoing[0] = UInt8(id >> 8)
            outgoing[1] = UInt8(truncatingIfNeeded: id)
            state.pending[id] = Pending(upstream: upstream, query: outgoing, promise: promise, deadline: deadline)
            defer { state.sweeping = true }
            return (id, !state.sweeping)
        }
        // One hand-over to the socket's event loop for the write. Writes queued by one burst of
        // misses go out with one flush, which NIO sends with one sendmmsg.
        let channel = self.channel, sent = outgoing
        channel.eventLoop.execute { [self] in
            if startSweep { scheduleSweep() }
            let envelope = AddressedEnvelope(remoteAddress: upstream, data: ByteBuffer(bytes: sent))
            channel.write(envelope).whenFailure { [self] error in fail(id, promise, error) }
            if !flushQueued.value {
                flushQueued.value = true
                channel.eventLoop.execute { [self] in
                    flushQueued.value = false
                    channel.flush()
                }
            }
        }
        return promise.futureResult
    }

    /// Every `sweepInterval` while queries wait: those past their deadline fail as timed out.
    private func scheduleSweep() {
        channel.eventLoop.scheduleTask(in: Self.sweepInterval) { [self] in
            let now = DispatchTime.now().uptimeNanoseconds
            let (expired, more) = state.withLockedValue { state -> ([Pending], Bool) in
                var expired: [Pending] = []
                for (id, pending) in state.pending where pending.deadline <= now {
                    expired.append(pending)
                    state.pending[id] = nil
                }
                state.sweeping = !state.pending.isEmpty
                return (expired, state.sweeping)
            }
            for pending in expired { pending.promise.fail(Forwarder.Failure.timeout) }
            if more { scheduleSweep() }
        }
    }

    /// Fails the query waiting under `id` if it is still `promise`'s: whoever takes an entry
    /// out of the table completes its promise, exactly once.
    private func fail(_ id: UInt16, _ promise: EventLoopPromise<[UInt8]>, _ error: any Error) {
        let taken = state.withLockedValue { state -> Pending? in
            guard let pending = state.pending[id], pending.promise.futureResult === promise.futureResult else { return nil }
            return state.pending.removeValue(forKey: id)
        }
        taken?.promise.fail(error)
    }

    /// Closes the socket after `delay`: queries still waiting then fail as timed out.
    func retire(after delay: TimeAmount) {
        channel.eventLoop.scheduleTask(in: delay) { [channel] in channel.close(promise: nil) }
    }
}

/// Hands each datagram to the query it answers, or drops it.
private final class PooledReplyHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    private let state: NIOLockedValueBox<PooledSocket.State>

    init(state: NIOLockedValueBox<PooledSocket.State>) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let reply = Array(envelope.data.readableBytesView)
        guard reply.count >= DNSHeader.byteCount else { return }
        let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
        let taken = state.withLockedValue { state -> Pending? in
            guard let pending = state.pending[id], pending.upstream == envelope.remoteAddress,
                  UpstreamExchange.matches(reply, pending.query)
            else { return nil }
            return state.pending.removeValue(forKey: id)
        }
        taken?.promise.succeed(reply)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let waiting = state.withLockedValue { state in
            defer { state.pending = [:] }
            return Array(state.pending.values)
        }
        for pending in waiting { pending.promise.fail(Forwarder.Failure.timeout) }
    }

    typealias Pending = PooledSocket.Pending
}
