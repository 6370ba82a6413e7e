import NIOCore
import NIOHTTP1

/// The paths a probe listener serves.
enum HealthRoute: String, Sendable, Hashable {
    case health, ready

    var path: String { "/" + rawValue }
}

/// One probe reply: status and a short plain-text body.
struct HealthReply: Sendable, Equatable {
    var status: HTTPResponseStatus
    var body: String
    var allow: String?
    var contentType = "text/plain; charset=utf-8"

    static let ok = HealthReply(status: .ok, body: "OK")
    // Go's net/http text, which is what CoreDNS answers for an unknown path.
    static let notFound = HealthReply(status: .notFound, body: "404 page not found\n")
    static let methodNotAllowed = HealthReply(
        status: .methodNotAllowed, body: "method not allowed\n", allow: "GET, HEAD")
}

/// What an HTTP listener answers for a request, independent of the connection: the probes, or
/// `/metrics` (`MetricsRoutes`).
protocol HTTPRoutes: Sendable {
    func reply(method: HTTPMethod, uri: String, on loop: any EventLoop) -> EventLoopFuture<HealthReply>
}

/// What a listener answers, independent of the connection (shared by all its connections).
struct HealthProbes: HTTPRoutes {
    let routes: Set<HealthRoute>
    let readiness: Readiness
    let monitored: any EventLoopGroup
    let livenessDeadline: TimeAmount

    func reply(method: HTTPMethod, uri: String, on loop: any EventLoop) -> EventLoopFuture<HealthReply> {
        let path = uri.prefix { $0 != "?" }
        guard let route = routes.first(where: { $0.path == path }) else {
            return loop.makeSucceededFuture(.notFound)
        }
        guard method == .GET || method == .HEAD else { return loop.makeSucceededFuture(.methodNotAllowed) }
        switch route {
        case .ready:
            let reason = readiness.notReadyReason
            return loop.makeSucceededFuture(
                reason.map { HealthReply(status: .serviceUnavailable, body: "not ready: \($0)\n") } ?? .ok)
        case .health:
            return eventLoopsRespond(on: loop).map { responsive in
                responsive ? .ok : HealthReply(status: .serviceUnavailable, body: "event loops unresponsive\n")
            }
        }
    }

    /// True when every monitored loop ran a no-op task within the deadline: a loop stuck in a
    /// long computation or a blocking call fails the liveness probe instead of silently
    /// dropping the queries it owns.
    private func eventLoopsRespond(on loop: any EventLoop) -> EventLoopFuture<Bool> {
        let pings = monitored.makeIterator().map { $0.submit {} }
        let promise = loop.makePromise(of: Bool.self)
        // Whichever comes first completes the promise; completing it again is a no-op.
        let timer = loop.scheduleTask(in: livenessDeadline) { promise.succeed(false) }
        EventLoopFuture.andAllSucceed(pings, on: loop).whenComplete { result in
            timer.cancel()
            switch result {
            case .success: promise.succeed(true)
            case .failure: promise.succeed(false)
            }
        }
        return promise.futureResult
    }
}

/// Serves one probe connection: answers each request, then closes the connection (kubelet opens
/// a new one per probe, and a closed connection cannot be held idle).
final class HealthHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let probes: any HTTPRoutes
    private var request: HTTPRequestHead?
    private var answered = false

    init(probes: any HTTPRoutes) {
        self.probes = probes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break  // probe requests carry no body that matters
        case .end:
            guard let head = request, !answered else { return }
            request = nil
            answered = true
            probes.reply(method: head.method, uri: head.uri, on: context.eventLoop)
                .assumeIsolated()
                .whenSuccess { reply in self.write(reply, to: head, context: context) }
        }
    }

    private func write(_ reply: HealthReply, to request: HTTPRequestHead, context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: reply.contentType)
        headers.add(name: "Content-Length", value: String(reply.body.utf8.count))
        headers.add(name: "Connection", value: "close")
        if let allow = reply.allow { headers.add(name: "Allow", value: allow) }
        let head = HTTPResponseHead(version: request.version, status: reply.status, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD {
            var body = context.channel.allocator.buffer(capacity: reply.body.utf8.count)
            body.writeString(reply.body)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
