import CGNU
import ClusterRegistry
import DNSResponder
import Foundation
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// One UDP socket and the thread that serves it with `recvmmsg`/`sendmmsg`: a burst of queries
/// costs one system call each way, and the authoritative path (`QueryPipeline.answer`) touches
/// no allocator from datagram to reply. On the `scripts/bench` mix this took server CPU per
/// query from 1.15x NSD's (SwiftNIO's datagram channel, with a `ByteBuffer` and an envelope
/// per reply) to about 0.9x (DESIGN.md §7).
///
/// Every reply the pipeline has at once (authoritative, cache hit, autopath) is staged in the
/// batch. A query that needs an upstream is handed to the forwarder from this thread, and its
/// reply is sent with `sendto` from the event loop the upstream answered on.
final class UDPListener: @unchecked Sendable {
    // @unchecked: `fd` and `pipeline` are immutable; `stopping` is locked; the batch buffers
    // belong to the serving thread alone.
    let fd: Int32
    private let pipeline: QueryPipeline
    /// This thread's own shard of the duration histogram.
    private let metricsShard: Int
    private let stopping = NIOLockedValueBox(false)
    /// Forwarded replies, sent in batches from the event loops they complete on.
    private let lateReplies: LateReplies
    private let finished = DispatchSemaphore(value: 0)

    static let batchSize = 64
    /// Largest datagram read whole, and the largest reply slot (RFC 6891 §6.2.5: we advertise less).
    static let slotSize = 4096

    /// `--rrl-responses-per-second`; nil when off. Each thread keeps its own table.
    private let rateLimit: ResponseRateLimiter.Settings?

    /// `--udp-max-queue-delay`; nil when off. Each thread keeps its own shedder.
    private let shedding: OverloadShedder.Settings?

    /// This thread's own upstream sockets (`DatagramUpstreams`).
    private let upstreamSettings: DatagramUpstreams.Settings

    init(
        fd: Int32, pipeline: QueryPipeline, index: Int, rateLimit: ResponseRateLimiter.Settings? = nil,
        shedding: OverloadShedder.Settings? = nil, upstreamSettings: DatagramUpstreams.Settings = .standard
    ) {
        self.upstreamSettings = upstreamSettings
        self.fd = fd
        self.pipeline = pipeline
        lateReplies = LateReplies(fd: fd)
        self.rateLimit = rateLimit
        // Arrival stamps are what tell the shedder how long a datagram waited.
        self.shedding = shedding.flatMap { csb_enable_receive_timestamps(fd) == 0 ? $0 : nil }
        metricsShard = ShardedCounters.shard(forListener: index)
    }

    /// A bound UDP socket for `host:port` with SO_REUSEPORT, so one socket per thread can share
    /// the port; a receive timeout lets the serving thread notice `stop()`.
    static func bind(host: String, port: Int) throws -> Int32 {
        let address = try SocketAddress(ipAddress: host, port: port)
        let fd = socket(address.protocol == .inet6 ? AF_INET6 : AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket") }
        var one: Int32 = 1
        var buffer: Int32 = 4 << 20
        var timeout = timeval(tv_sec: 0, tv_usec: 250_000)
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buffer, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        AtomicDatagrams.enable(fd, family: address.protocol == .inet6 ? AF_INET6 : AF_INET)
        let result = address.withSockAddr { Glibc.bind(fd, $0, socklen_t($1)) }
        guard result == 0 else {
            let code = errno
            close(fd)
            throw IOError(errnoCode: code, reason: "bind(\(host):\(port))")
        }
        return fd
    }

    /// The port the socket is bound to.
    static func boundAddress(_ fd: Int32) -> SocketAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return result == 0 ? SocketAddress(storage: storage) : nil
    }

    func start(name: String) {
        let thread = Thread { [self] in
            serve()
            close(fd)
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Stops serving (within the receive timeout) and closes the socket.
    func stop() async {
        stopping.withLockedValue { $0 = true }
        await waitUntilStopped()
    }

    /// Completes once the serving thread has ended and the socket is closed.
    func waitUntilStopped() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [finished] in
                finished.wait()
                finished.signal()  // every later waiter passes too
                continuation.resume()
            }
        }
    }

    // MARK: - The serving thread

    private func serve() {
        var batch = DatagramBatch(count: Self.batchSize, slotSize: Self.slotSize)
        defer { batch.deallocate() }
        let scratch = ResponseScratch()
        var limiter = rateLimit.map(ResponseRateLimiter.init(settings:))
        var shedder = shedding.map { OverloadShedder(settings: $0) }
        let upstreams = DatagramUpstreams(settings: upstreamSettings) { [lateReplies, pipeline] reply, accounting, eventLoop in
            lateReplies.send(reply, to: accounting.client, on: eventLoop)
            // On an event loop: the shared shard, never this thread's (only it may write that).
            pipeline.finished(accounting, reply: reply, source: .forward, transport: .udp, shard: 0)
        }
        defer { upstreams.close() }
        var descriptors: [pollfd] = []
        var durations = ServerMetrics.BatchDurations()
        let waitForOne = csb_msg_waitforone()
        while true {
            var receiveFlags = waitForOne
            if upstreams.isWaiting {
                // Replies are due: wait for them and for clients at once, until the next
                // exchange times out.
                descriptors.removeAll(keepingCapacity: true)
                descriptors.append(pollfd(fd: fd, events: Int16(POLLIN), revents: 0))
                upstreams.appendDescriptors(to: &descriptors)
                let timeout = upstreams.pollTimeout(now: MonotonicClock.nanoseconds(), limit: Self.stopCheckMilliseconds)
                let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
                if stopping.withLockedValue({ $0 }) { return }
                deliverUpstreamReplies(upstreams, ready: ready > 0 ? descriptors : [], batch: batch)
                guard ready > 0, descriptors[0].revents != 0 else { continue }
                receiveFlags = Int32(MSG_DONTWAIT)
            } else {
                upstreams.expire(now: MonotonicClock.nanoseconds())
            }
            batch.prepareToReceive()
            let received = csb_recvmmsg(fd, batch.inMessages, UInt32(Self.batchSize), receiveFlags, nil)
            if stopping.withLockedValue({ $0 }) { return }
            guard received > 0 else {
                if received < 0, errno == EBADF { return }
                continue  // the receive timeout, EAGAIN or EINTR
            }
            var replies = 0
            // One snapshot for the whole batch: a reload's swap is seen by the next batch.
            let snapshot = pipeline.store.snapshot
            let second = limiter == nil ? 0 : MonotonicClock.wholeSeconds()
            // One clock read per batch for the start and one for the end: every datagram of it
            // was waiting from the read on, and every reply of it leaves in the one `sendmmsg`
            // below (a read per datagram was 1 % of a cache hit). The cache ages its entries by
            // the start, in whole seconds.
            let started = pipeline.startTime
            // Read at the batch's first miss: authoritative answers and cache hits need no clock.
            var now: UInt64 = 0
            let batchView = batch
            // Closures, not the methods themselves: a method passed as a function value is a
            // partial application whose context is allocated on the heap, two per batch.
            let shedding = shedder?.judge(
                count: Int(received), now: Int64(csb_realtime_now()), arrival: { batchView.arrival($0) },
                client: { batchView.address($0) }) ?? false
            for index in 0..<Int(received) {
                if shedding, let verdict = shedder?.verdicts[index], verdict != .answer {
                    pipeline.metrics?.shed(verdict)
                    continue
                }
                let packet = batch.datagram(index)
                let client = batch.address(index)
                switch pipeline.answer(
                    packet, client: client, transport: .udp, snapshot: snapshot, scratch: scratch, shard: metricsShard, now: started
                ) {
                case .drop:
                    continue
                case .reply(var length, let source):
                    if limiter != nil {
                        guard let limited = limit(&limiter, length, scratch, client, second) else { continue }
                        length = limited
                    }
                    let reply = UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length))
                    // Authoritative answers and cache hits alike go out in the batch (issue #10).
                    stage(reply, index, &replies, batch)
                    pipeline.finished(packet, reply: reply, source: source, client: client, started: started, batch: &durations, shard: metricsShard)
                case .owned(let reply, let source):
                    reply.withUnsafeBytes { reply in
                        stage(reply, index, &replies, batch)
                        pipeline.finished(packet, reply: reply, source: source, client: client, started: started, batch: &durations, shard: metricsShard)
                    }
                case .upstream(let miss):
                    // Sent from this thread's own sockets; the reply is read by this loop.
                    let accounting = pipeline.pending(packet, client: client, started: started)
                    if now == 0 { now = MonotonicClock.nanoseconds() }
                    switch upstreams.start(miss, accounting: accounting, now: now, deliver: { reply, accounting in
                        stageLate(reply, accounting, &replies, batch)
                    }) {
                    case .waiting:
                        break
                    case .now(let reply):
                        reply.withUnsafeBytes { reply in
                            stage(reply, index, &replies, batch)
                            pipeline.finished(packet, reply: reply, source: .forward, client: client, started: started, batch: &durations, shard: metricsShard)
                        }
                    case .later(let answer):
                        later(answer, accounting)
                    }
                case .later(let answer):
                    // The batch slot is reused: what the reply's accounting needs is taken now.
                    later(answer, pipeline.pending(packet, client: client, started: started))
                }
            }
            upstreams.flush()
            batch.send(replies, on: fd)
            if let started { pipeline.metrics?.recordDurations(&durations, started: started, shard: metricsShard) }
        }
    }

    /// How often, at most, the serving thread looks at `stopping` (the receive timeout).
    static let stopCheckMilliseconds: Int32 = 250

    /// Upstream replies on the sockets `poll` found readable, and exchanges timed out: their
    /// clients' replies sent in one batch.
    private func deliverUpstreamReplies(_ upstreams: DatagramUpstreams, ready descriptors: [pollfd], batch: DatagramBatch) {
        var replies = 0
        for descriptor in descriptors.dropFirst() where descriptor.revents != 0 {
            upstreams.receive(from: descriptor.fd) { reply, accounting in stageLate(reply, accounting, &replies, batch) }
        }
        upstreams.expire(now: MonotonicClock.nanoseconds())
        batch.send(replies, on: fd)
    }

    /// Stages the reply to datagram `index` in the batch (or sends it alone when larger than
    /// a slot).
    @inline(__always)
    private func stage(_ reply: UnsafeRawBufferPointer, _ index: Int, _ replies: inout Int, _ batch: DatagramBatch) {
        if reply.count <= Self.slotSize {
            if replies == Self.batchSize {
                batch.send(replies, on: fd)
                replies = 0
            }
            batch.stageReply(replies, to: index, bytes: reply)
            replies += 1
        } else {
            send(reply, to: batch.address(index))
        }
    }

    /// Stages an upstream's answer to an earlier datagram, and accounts for it. A full batch is
    /// sent first.
    private func stageLate(_ reply: UnsafeRawBufferPointer, _ accounting: QueryPipeline.Pending, _ replies: inout Int, _ batch: DatagramBatch) {
        if reply.count <= Self.slotSize {
            if replies == Self.batchSize {
                batch.send(replies, on: fd)
                replies = 0
            }
            batch.stageReply(replies, to: accounting.client, bytes: reply)
            replies += 1
        } else {
            send(reply, to: accounting.client)
        }
        pipeline.finished(accounting, reply: reply, source: .forward, transport: .udp, shard: metricsShard)
    }

    /// A reply that completes on an event loop, sent from there in a batch.
    private func later(_ answer: EventLoopFuture<[UInt8]?>, _ accounting: QueryPipeline.Pending) {
        let eventLoop = answer.eventLoop
        answer.whenSuccess { [self] reply in
            guard let reply else { return }
            lateReplies.send(reply, to: accounting.client, on: eventLoop)
            // On the event loop: the shared shard, never this thread's (only it may write that).
            pipeline.finished(accounting, reply: reply, source: .forward, transport: .udp, shard: 0)
        }
    }

    /// Response rate limiting of the reply in the scratch output: its length to send (shorter
    /// when sent truncated), or nil to drop it.
    @inline(__always)
    private func limit(
        _ limiter: inout ResponseRateLimiter?, _ length: Int, _ scratch: ResponseScratch, _ client: sockaddr_storage, _ second: UInt32
    ) -> Int? {
        switch limiter?.decide(reply: UnsafeRawBufferPointer(rebasing: scratch.output.prefix(length)), client: client, second: second) {
        case .drop:
            pipeline.metrics?.rateLimited(truncated: false)
            return nil
        case .truncate:
            pipeline.metrics?.rateLimited(truncated: true)
            return ResponseRateLimiter.truncate(scratch.output, length: length)
        case .send, nil:
            return length
        }
    }

    private func send(_ reply: UnsafeRawBufferPointer, to client: sockaddr_storage) {
        var client = client
        let length = client.length
        let sent = withUnsafePointer(to: &client) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, reply.baseAddress, reply.count, 0, $0, length) }
        }
        guard sent < 0, errno == EMSGSIZE else { return }
        // Larger than the path takes with DF (`AtomicDatagrams`): fragmented, as before.
        var vector = iovec(iov_base: UnsafeMutableRawPointer(mutating: reply.baseAddress), iov_len: reply.count)
        withUnsafeMutablePointer(to: &client) { address in
            withUnsafeMutablePointer(to: &vector) { vector in
                var message = msghdr(
                    msg_name: UnsafeMutableRawPointer(address), msg_namelen: length, msg_iov: vector, msg_iovlen: 1,
                    msg_control: nil, msg_controllen: 0, msg_flags: 0)
                AtomicDatagrams.sendAllowingFragments(&message, on: fd)
            }
        }
    }
}
