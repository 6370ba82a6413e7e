import CGNU
import DNSWire
import DequeModule
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// The upstream side of one UDP listener thread (issue #10). A datagram's cache miss leaves from
/// the thread that received it, on that thread's own sockets, and the reply is read by the same
/// thread in the same loop as client queries (`UDPListener` polls both while replies are due).
/// No event loop, promise or thread hand-off on the way: queries queued by one batch of
/// datagrams leave with one `sendmmsg` per socket, replies arriving together are read with one
/// `recvmmsg`, and the client's reply goes out in the listener's next batch.
///
/// RFC 5452: each query gets a random ID not in use on its socket (§9.2), on one of
/// `socketsPerFamily` sockets bound to kernel-chosen random ports and replaced after
/// `queriesPerSocket` queries (§4.5); a reply is taken only from the upstream asked, with QR set,
/// our ID and our question (§9.1), anything else is ignored. The file descriptors stay at
/// `socketsPerFamily` per family plus those retiring, whatever the load.
///
/// Whatever is not the common case goes to the forwarder's event loops as before: the next
/// upstream after a timeout, TCP after a truncated reply, a question an event-loop exchange
/// already asks. Identical misses in flight are coalesced across threads through the
/// forwarder's `Coalescer`, and its in-flight cap holds.
///
/// Owned by the listener thread: not `Sendable`, and nothing it hands an event loop refers back
/// to it.
final class DatagramUpstreams {
    struct Settings: Sendable {
        var socketsPerFamily = 2
        var queriesPerSocket = 2_000
        /// Replies read per `recvmmsg`.
        var receiveBatch = 16
        static let standard = Settings()
    }

    /// A reply for the listener to send: the bytes, and the query's accounting (its client).
    typealias Deliver = (_ reply: UnsafeRawBufferPointer, _ accounting: QueryPipeline.Pending) -> Void
    /// The same from an event loop, for replies the forwarder's loops completed.
    typealias DeliverLater = @Sendable (_ reply: [UInt8], _ accounting: QueryPipeline.Pending, _ on: any EventLoop) -> Void

    /// What became of a miss handed over.
    enum Start {
        /// Sent upstream, or joined an identical one already sent: delivered when answered.
        case waiting
        /// Answered now (SERVFAIL or a stale entry past the in-flight cap, no upstream).
        case now([UInt8])
        /// Taken by the forwarder's event loops (an exchange there already asks it, or no
        /// socket could be opened).
        case later(EventLoopFuture<[UInt8]?>)
    }

    /// A miss waiting for its upstream's reply.
    private struct Exchange {
        let miss: ForwardedMiss
        let accounting: QueryPipeline.Pending
        let coalescing: Coalescer.Key
        let upstream: Int
        let address: sockaddr_storage
        let socket: UInt64
        let started: NIODeadline?
        /// Which deadline entry is this exchange's: an answered exchange's entry stays queued,
        /// and a later exchange may reuse its socket and ID.
        let sequence: UInt64
    }

    private struct Socket {
        let fd: Int32
        let serial: UInt64
        var uses = 0
        var waiting = 0
    }

    /// A query queued for the next `flush`.
    private struct Outgoing {
        let fd: Int32
        let length: Int
    }

    private let settings: Settings
    private let deliverLater: DeliverLater
    /// The sockets queries are sent from: `socketsPerFamily` for IPv4, then as many for IPv6;
    /// nil until first needed or after being retired.
    private var sockets: [Socket?]
    /// Replaced sockets, read until their last reply is due, then closed.
    private var retiring: [(socket: Socket, closeAt: UInt64)] = []
    private var nextSerial: UInt64 = 1
    /// Exchanges by socket serial << 16 | ID.
    private var exchanges: [UInt64: Exchange] = [:]
    /// When each exchange times out (uptime nanoseconds), in order. Entries of exchanges
    /// already answered are skipped as they come up, and dropped in bulk when they outnumber
    /// the live ones (`schedule`), so the queue is bounded by the in-flight cap.
    private var deadlines = Deque<(at: UInt64, key: UInt64, sequence: UInt64)>()
    private var nextSequence: UInt64 = 0
    private var ids: RandomIDs
    /// Longest forwarder timeout seen: how long a retired socket stays open.
    private var longestTimeout: UInt64 = 0

    private var outgoing: [Outgoing] = []
    private let outgoingSlots: UnsafeMutableRawPointer
    private let sendHeaders: UnsafeMutablePointer<csb_mmsghdr>
    private let sendVectors: UnsafeMutablePointer<iovec>
    /// Where each queued query goes, by its place in `outgoing`.
    private let sendAddresses: UnsafeMutablePointer<sockaddr_storage>
    /// Allocated on the first reply read: a listener that never forwards never needs it.
    private var incoming: ReceiveBuffers?

    /// Queries queued before a flush, and the largest query (a client datagram) queued.
    static let sendBatch = 64
    static let querySlot = UDPListener.slotSize

    init(settings: Settings = .standard, ids: RandomIDs = RandomIDs(), deliverLater: @escaping DeliverLater) {
        self.ids = ids
        self.settings = Settings(
            socketsPerFamily: max(1, settings.socketsPerFamily), queriesPerSocket: max(1, settings.queriesPerSocket),
            receiveBatch: max(1, settings.receiveBatch))
        self.deliverLater = deliverLater
        sockets = Array(repeating: nil, count: 2 * self.settings.socketsPerFamily)
        outgoing.reserveCapacity(Self.sendBatch)
        outgoingSlots = .allocate(byteCount: Self.sendBatch * Self.querySlot, alignment: 16)
        sendHeaders = .allocate(capacity: Self.sendBatch)
        sendVectors = .allocate(capacity: Self.sendBatch)
        sendAddresses = .allocate(capacity: Self.sendBatch)
    }

    deinit {
        outgoingSlots.deallocate()
        sendHeaders.deallocate()
        sendVectors.deallocate()
        sendAddresses.deallocate()
        incoming?.deallocate()
    }

    /// Whether replies are due (or queries queued): the listener then polls these sockets too.
    var isWaiting: Bool { !exchanges.isEmpty || !outgoing.isEmpty }

    /// Sockets open, for tests: the descriptor count does not grow with queries in flight.
    var openSocketCount: Int { sockets.compactMap { $0 }.count + retiring.count }

    // MARK: - Sending

    /// Sends `miss` upstream, or joins an identical miss in flight.
    func start(_ miss: ForwardedMiss, accounting: QueryPipeline.Pending, now: UInt64, deliver: Deliver) -> Start {
        let forwarder = miss.forwarder
        guard forwarder.admit() else { return .now(miss.reply(to: .failure(Forwarder.Failure.overloaded))) }
        let key = Coalescer.Key(request: miss.request[2...], udpLimit: miss.udpLimit)
        let follower = Coalescer.DatagramFollower(id: (miss.request[0], miss.request[1]), accounting: accounting)
        switch forwarder.coalescer.join(key, datagram: follower) {
        case .joined:
            return .waiting
        case .follower(let leader):
            let request = miss.request
            let answer = leader.map { reply in
                var reply = reply
                reply[0] = request[0]
                reply[1] = request[1]
                return reply
            }
            answer.whenComplete { _ in forwarder.release() }
            return .later(miss.completing(answer))
        case .leader:
            break
        }
        guard let upstream = forwarder.upstreams.firstAttempt(spread: ids.next()) else {
            finish(miss, accounting, key, .failure(Forwarder.Failure.noUpstream), deliver: deliver)
            return .waiting
        }
        let address = forwarder.upstreams.socketAddresses[upstream]
        guard miss.request.count <= Self.querySlot, let slot = socket(for: address.ss_family, now: now) else {
            // No socket of our own (descriptors exhausted, no IPv6): the event loops ask.
            finishLater(miss, accounting, key, forwarder.askingUpstreams(miss.request, udpLimit: miss.udpLimit))
            return .waiting
        }
        if outgoing.count == Self.sendBatch { flush() }
        let socket = sockets[slot]!
        var id = ids.next()
        while exchanges[socket.serial << 16 | UInt64(id)] != nil { id = ids.next() }
        let exchangeKey = socket.serial << 16 | UInt64(id)
        let started = forwarder.metrics == nil ? nil : NIODeadline.now()
        forwarder.metrics?.request(upstream)
        nextSequence += 1
        exchanges[exchangeKey] = Exchange(
            miss: miss, accounting: accounting, coalescing: key, upstream: upstream, address: address, socket: socket.serial,
            started: started, sequence: nextSequence)
        sockets[slot]!.waiting += 1
        let timeout = UInt64(max(0, forwarder.timeout.nanoseconds))
        longestTimeout = max(longestTimeout, timeout)
        schedule(exchangeKey, at: now &+ timeout, sequence: nextSequence)
        // The query as the client sent it, under our ID.
        let bytes = outgoingSlots + outgoing.count * Self.querySlot
        miss.request.withUnsafeBytes { bytes.copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        bytes.storeBytes(of: UInt8(id >> 8), as: UInt8.self)
        bytes.storeBytes(of: UInt8(truncatingIfNeeded: id), toByteOffset: 1, as: UInt8.self)
        sendAddresses[outgoing.count] = address
        outgoing.append(Outgoing(fd: socket.fd, length: miss.request.count))
        return .waiting
    }

    /// Sends the queued queries: one `sendmmsg` per socket. A query the kernel refuses is
    /// skipped; its exchange times out and the next upstream is asked.
    func flush() {
        guard !outgoing.isEmpty else { return }
        for case let socket? in sockets { flush(socket.fd) }
        for (socket, _) in retiring { flush(socket.fd) }
        outgoing.removeAll(keepingCapacity: true)
    }

    /// The queued queries of socket `fd`, in one call.
    private func flush(_ fd: Int32) {
        var count = 0
        for index in outgoing.indices where outgoing[index].fd == fd {
            sendVectors[count] = iovec(iov_base: outgoingSlots + index * Self.querySlot, iov_len: outgoing[index].length)
            sendHeaders[count] = csb_mmsghdr()
            sendHeaders[count].msg_hdr.msg_iov = sendVectors + count
            sendHeaders[count].msg_hdr.msg_iovlen = 1
            sendHeaders[count].msg_hdr.msg_name = UnsafeMutableRawPointer(sendAddresses + index)
            sendHeaders[count].msg_hdr.msg_namelen = sendAddresses[index].length
            count += 1
        }
        sendMessages(sendHeaders, count: count, on: fd)
    }

    // MARK: - Receiving

    /// Appends a `pollfd` for every open socket.
    func appendDescriptors(to descriptors: inout [pollfd]) {
        for case let socket? in sockets { descriptors.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)) }
        for (socket, _) in retiring { descriptors.append(pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)) }
    }

    /// Reads every reply waiting on `fd` and delivers those that answer an exchange.
    func receive(from fd: Int32, deliver: Deliver) {
        guard let serial = serial(of: fd) else { return }
        if incoming == nil { incoming = ReceiveBuffers(count: settings.receiveBatch) }
        guard let incoming else { return }
        while true {
            incoming.prepare()
            let received = csb_recvmmsg(fd, incoming.headers, UInt32(incoming.count), Int32(MSG_DONTWAIT), nil)
            guard received > 0 else { return }  // EAGAIN: all read
            for index in 0..<Int(received) {
                take(incoming.datagram(index), from: incoming.source(index), socket: serial, deliver: deliver)
            }
            if Int(received) < incoming.count { return }
        }
    }

    /// A datagram read on socket `serial`: the reply to one of its exchanges, or ignored.
    private func take(_ reply: UnsafeRawBufferPointer, from source: sockaddr_storage, socket serial: UInt64, deliver: Deliver) {
        guard reply.count >= DNSHeader.byteCount else { return }
        let id = UInt16(reply[0]) << 8 | UInt16(reply[1])
        let key = serial << 16 | UInt64(id)
        guard let exchange = exchanges[key], source.isSameEndpoint(as: exchange.address),
              UpstreamExchange.matches(reply, id: id, request: exchange.miss.request, questionEnd: exchange.miss.questionEnd)
        else { return }
        exchanges[key] = nil
        answered(socket: serial)
        let miss = exchange.miss
        var bytes = Array(reply)
        if let udpLimit = miss.udpLimit, Forwarder.needsTCP(reply, udpLimit: udpLimit) {
            finishLater(
                miss, exchange.accounting, exchange.coalescing,
                miss.forwarder.completingOverTCP(
                    miss.request, udpReply: bytes, udpLimit: udpLimit, from: exchange.upstream, started: exchange.started))
            return
        }
        miss.forwarder.accept(&bytes, from: exchange.upstream, for: miss.request, started: exchange.started)
        finish(miss, exchange.accounting, exchange.coalescing, .success(bytes), deliver: deliver)
    }

    // MARK: - Time

    /// Milliseconds until the next exchange times out, for `poll`: at most `limit`.
    func pollTimeout(now: UInt64, limit: Int32) -> Int32 {
        guard let first = deadlines.first else { return limit }
        guard first.at > now else { return 0 }
        return Int32(min(UInt64(limit), (first.at - now + 999_999) / 1_000_000))
    }

    /// Exchanges past their deadline go to the next upstream on the event loops; retired
    /// sockets with nothing left to read close.
    func expire(now clock: @autoclosure () -> UInt64) {
        // The idle listener calls this every loop: no clock read when nothing can be due.
        guard !deadlines.isEmpty || !retiring.isEmpty else { return }
        let now = clock()
        while let first = deadlines.first, first.at <= now {
            deadlines.removeFirst()
            // An answered exchange's entry; its socket and ID may since serve another.
            guard exchanges[first.key]?.sequence == first.sequence, let exchange = exchanges.removeValue(forKey: first.key)
            else { continue }
            answered(socket: exchange.socket)
            let miss = exchange.miss
            finishLater(
                miss, exchange.accounting, exchange.coalescing,
                miss.forwarder.failingOver(miss.request, udpLimit: miss.udpLimit, from: exchange.upstream, error: Forwarder.Failure.timeout))
        }
        if !retiring.isEmpty {
            retiring.removeAll { entry in
                guard entry.socket.waiting == 0 || entry.closeAt <= now else { return false }
                Glibc.close(entry.socket.fd)
                return true
            }
        }
    }

    /// The listener stops: sockets close, and what was waiting is released unanswered.
    func close() {
        for exchange in exchanges.values {
            for _ in exchange.miss.forwarder.coalescer.finishDatagram(exchange.coalescing) { exchange.miss.forwarder.release() }
            exchange.miss.forwarder.release()
        }
        exchanges = [:]
        deadlines = []
        outgoing = []
        for case let socket? in sockets { Glibc.close(socket.fd) }
        for (socket, _) in retiring { Glibc.close(socket.fd) }
        sockets = Array(repeating: nil, count: sockets.count)
        retiring = []
    }

    // MARK: - Finishing

    /// The leader's answer, for its client and every datagram that joined it, delivered now.
    private func finish(
        _ miss: ForwardedMiss, _ accounting: QueryPipeline.Pending, _ key: Coalescer.Key, _ result: Result<[UInt8], any Error>,
        deliver: Deliver
    ) {
        let followers = miss.forwarder.coalescer.finishDatagram(key)
        var reply = miss.reply(to: result)
        miss.forwarder.release()
        reply.withUnsafeBytes { deliver($0, accounting) }
        for follower in followers {
            miss.forwarder.release()
            reply[0] = follower.id.0
            reply[1] = follower.id.1
            reply.withUnsafeBytes { deliver($0, follower.accounting) }
        }
    }

    /// The same once `answer` completes on an event loop.
    private func finishLater(
        _ miss: ForwardedMiss, _ accounting: QueryPipeline.Pending, _ key: Coalescer.Key, _ answer: EventLoopFuture<[UInt8]>
    ) {
        let deliverLater = self.deliverLater
        let eventLoop = answer.eventLoop
        answer.whenComplete { result in
            let followers = miss.forwarder.coalescer.finishDatagram(key)
            var reply = miss.reply(to: result)
            miss.forwarder.release()
            deliverLater(reply, accounting, eventLoop)
            for follower in followers {
                miss.forwarder.release()
                reply[0] = follower.id.0
                reply[1] = follower.id.1
                deliverLater(reply, follower.accounting, eventLoop)
            }
        }
    }

    // MARK: - Sockets

    /// The slot of a socket of `family` to send from, opening one when needed; nil when none
    /// can be opened.
    private func socket(for family: sa_family_t, now: UInt64) -> Int? {
        let base = family == sa_family_t(AF_INET6) ? settings.socketsPerFamily : 0
        let slot = base + Int(ids.next()) % settings.socketsPerFamily
        if let socket = sockets[slot], socket.uses >= settings.queriesPerSocket {
            // Its share is used: a fresh port for the next queries (RFC 5452 §4.5); the old
            // socket is read until its last reply is due.
            retiring.append((socket, now &+ longestTimeout &+ 1_000_000_000))
            sockets[slot] = nil
        }
        if sockets[slot] == nil {
            guard let fd = Self.open(family: family) else { return nil }
            sockets[slot] = Socket(fd: fd, serial: nextSerial)
            nextSerial += 1
        }
        sockets[slot]!.uses += 1
        return slot
    }

    /// A non-blocking UDP socket on a port the kernel picks at random.
    private static func open(family: sa_family_t) -> Int32? {
        let fd = Glibc.socket(Int32(family), Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var buffer: Int32 = 1 << 20
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        var any = sockaddr_storage()
        any.ss_family = family
        let length = any.length
        let bound = withUnsafePointer(to: &any) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }

    private func serial(of fd: Int32) -> UInt64? {
        for case let socket? in sockets where socket.fd == fd { return socket.serial }
        for (socket, _) in retiring where socket.fd == fd { return socket.serial }
        return nil
    }

    /// One exchange on socket `serial` is over.
    private func answered(socket serial: UInt64) {
        for index in sockets.indices where sockets[index]?.serial == serial {
            sockets[index]!.waiting -= 1
            return
        }
        for index in retiring.indices where retiring[index].socket.serial == serial {
            retiring[index].socket.waiting -= 1
            return
        }
    }

    /// Keeps `deadlines` in order: forwarders share one timeout, so this appends. Answered
    /// exchanges' entries are dropped once they are most of the queue: amortized constant work,
    /// and the queue never holds more than twice the exchanges in flight (plus a margin).
    private func schedule(_ key: UInt64, at deadline: UInt64, sequence: UInt64) {
        if deadlines.count >= 2 * exchanges.count + 1_024 {
            deadlines = Deque(deadlines.filter { exchanges[$0.key]?.sequence == $0.sequence })
        }
        var index = deadlines.endIndex
        while index > deadlines.startIndex, deadlines[index - 1].at > deadline { index -= 1 }
        deadlines.insert((deadline, key, sequence), at: index)
    }

    /// Deadline entries queued, for tests: bounded by the exchanges in flight.
    var deadlineCount: Int { deadlines.count }
}

/// The memory of one `recvmmsg` of upstream replies. A slot holds the largest UDP payload, so
/// a reply is never cut (issue #11 item 6); pages no reply reaches are never touched.
private struct ReceiveBuffers {
    let count: Int
    let headers: UnsafeMutablePointer<csb_mmsghdr>
    private let vectors: UnsafeMutablePointer<iovec>
    private let sources: UnsafeMutablePointer<sockaddr_storage>
    private let slots: UnsafeMutableRawPointer
    static let slotSize = UpstreamSockets.receiveCapacity

    init(count: Int) {
        self.count = count
        headers = .allocate(capacity: count)
        vectors = .allocate(capacity: count)
        sources = .allocate(capacity: count)
        slots = .allocate(byteCount: count * Self.slotSize, alignment: 16)
        for index in 0..<count {
            vectors[index] = iovec(iov_base: slots + index * Self.slotSize, iov_len: Self.slotSize)
        }
    }

    func prepare() {
        for index in 0..<count {
            headers[index] = csb_mmsghdr()
            headers[index].msg_hdr.msg_iov = vectors + index
            headers[index].msg_hdr.msg_iovlen = 1
            headers[index].msg_hdr.msg_name = UnsafeMutableRawPointer(sources + index)
            headers[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size)
        }
    }

    func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: slots + index * Self.slotSize, count: min(Int(headers[index].msg_len), Self.slotSize))
    }

    func source(_ index: Int) -> sockaddr_storage { sources[index] }

    func deallocate() {
        headers.deallocate()
        vectors.deallocate()
        sources.deallocate()
        slots.deallocate()
    }
}
