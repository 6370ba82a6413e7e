import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An in-process stand-in for kube-apiserver that speaks the real list/watch protocol (paged
/// lists with continue tokens, chunked watch streams with replay, BOOKMARK and 410 Expired), so
/// the Kubernetes client is tested against the shapes a cluster really sends. Tests mutate it
/// from any thread; every watch of the mutated resource sees the event in resourceVersion order.
///
/// Truly `Sendable`: the stored properties are immutable and all mutable state sits in `Core`
/// behind one lock.
public final class FakeKubernetesAPIServer: Sendable {
    public enum Resource: String, CaseIterable, Sendable {
        case services, endpointSlices, namespaces, pods
        /// KEP-1645 ServiceImports, v1beta1.
        case serviceImports

        public var path: String {
            switch self {
            case .services: "/api/v1/services"
            case .endpointSlices: "/apis/discovery.k8s.io/v1/endpointslices"
            case .namespaces: "/api/v1/namespaces"
            case .pods: "/api/v1/pods"
            case .serviceImports: "/apis/multicluster.x-k8s.io/v1beta1/serviceimports"
            }
        }

        public var kind: String {
            switch self {
            case .services: "Service"
            case .endpointSlices: "EndpointSlice"
            case .namespaces: "Namespace"
            case .pods: "Pod"
            case .serviceImports: "ServiceImport"
            }
        }

        public var listKind: String { kind + "List" }
        public var apiVersion: String {
            switch self {
            case .endpointSlices: "discovery.k8s.io/v1"
            case .serviceImports: "multicluster.x-k8s.io/v1beta1"
            default: "v1"
            }
        }
    }

    /// How a watch from a compacted resourceVersion is refused.
    public enum GoneMode: Sendable {
        /// HTTP 200, then one ERROR event carrying a 410 Expired Status (modern apiservers).
        case errorEvent
        /// HTTP 410 with the Status as the body (older apiservers, some proxies).
        case httpStatus
    }

    /// The serving certificate (chain, PEM) and its private key (PEM) for https.
    public struct TLSFiles: Sendable {
        public var certificatePEM: String
        public var keyPEM: String
        public init(certificatePEM: String, keyPEM: String) {
            self.certificatePEM = certificatePEM
            self.keyPEM = keyPEM
        }
    }

    public struct RecordedRequest: Sendable, Equatable {
        public var method: String
        /// Path and query exactly as sent.
        public var uri: String
        /// The `Authorization` header value, if any.
        public var authorization: String?
        public var userAgent: String?

        public var path: String { String(uri.prefix { $0 != "?" }) }
        /// Decoded query parameters (the last one wins when repeated).
        public var query: [String: String] { FakeKubernetesAPIServer.parseQuery(uri) }
    }

    public let url: String
    public let port: Int
    let core: Core
    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: Channel

    private init(core: Core, group: MultiThreadedEventLoopGroup, channel: Channel, port: Int, tls: Bool) {
        self.core = core
        self.group = group
        self.serverChannel = channel
        self.port = port
        self.url = "\(tls ? "https" : "http")://127.0.0.1:\(port)"
    }

    /// Listens on 127.0.0.1 on a free port; plain HTTP unless `tls` is given.
    public static func start(tls: TLSFiles? = nil) throws -> FakeKubernetesAPIServer {
        let sslContext = try tls.map { files in
            let chain = try NIOSSLCertificate.fromPEMBytes(Array(files.certificatePEM.utf8))
            let key = try NIOSSLPrivateKey(bytes: Array(files.keyPEM.utf8), format: .pem)
            return try NIOSSLContext(configuration: .makeServerConfiguration(
                certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key)))
        }
        let core = Core()
        // One thread is plenty for tests and keeps every connection's events on one ordered queue.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let channel = try ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 64)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let pipeline = channel.pipeline.syncOperations
                        if let sslContext { try pipeline.addHandler(NIOSSLServerHandler(context: sslContext)) }
                        try pipeline.configureHTTPServerPipeline(withErrorHandling: true)
                        try pipeline.addHandler(FakeAPIHandler(core: core))
                    }
                }
                .bind(host: "127.0.0.1", port: 0).wait()
            guard let port = channel.localAddress?.port else { throw DNSTestClient.Failure(description: "no port") }
            return FakeKubernetesAPIServer(core: core, group: group, channel: channel, port: port, tls: tls != nil)
        } catch {
            try? group.syncShutdownGracefully()
            throw error
        }
    }

    /// Closes the listener and every connection, then the event loop. Idempotent. Blocks, so it
    /// must not run on the server's own event loop (it would wait for itself).
    public func stop() {
        precondition(MultiThreadedEventLoopGroup.currentEventLoop == nil, "stop() on an event loop thread")
        guard let connections = core.markStopped() else { return }
        serverChannel.close(promise: nil)
        for channel in connections { channel.close(promise: nil) }
        try? group.syncShutdownGracefully()
    }

    // MARK: Mutation

    /// Stores `json` (one object; kind/apiVersion optional) in `resource`, keyed by
    /// metadata.namespace/metadata.name: ADDED when new, MODIFIED when it replaces. Returns the
    /// new resourceVersion, which is also written into the stored metadata.resourceVersion.
    @discardableResult
    public func put(_ resource: Resource, _ json: String) -> Int {
        core.put(resource, json)
    }

    /// Removes an object (DELETED event, carrying the last state at the new resourceVersion).
    /// Deleting a missing object changes nothing (the real server answers 404 and keeps its
    /// revision) and returns the current resourceVersion.
    @discardableResult
    public func delete(_ resource: Resource, namespace: String?, name: String) -> Int {
        core.delete(resource, key: Core.key(namespace: namespace, name: name))
    }

    /// A BOOKMARK at the current resourceVersion to the watches of `resource` that allow them.
    public func bookmark(_ resource: Resource) { core.bookmark(resource) }

    // MARK: Failure injection

    /// Bearer token every request must carry; nil accepts anything.
    public var requiredBearerToken: String? {
        get { core.state.withLock { $0.requiredToken } }
        set { core.state.withLock { $0.requiredToken = newValue } }
    }

    /// While true, list requests are parked; setting it false answers them with the state then.
    public var holdLists: Bool {
        get { core.state.withLock { $0.holdLists } }
        set { core.setHoldLists(newValue) }
    }

    public var goneMode: GoneMode {
        get { core.state.withLock { $0.goneMode } }
        set { core.state.withLock { $0.goneMode = newValue } }
    }

    /// The next `count` requests of any kind get `status` with a Status body (and a
    /// `Retry-After` header when `retryAfter` is given, as the apiserver sends with 429).
    public func failNextRequests(count: Int, status: Int, retryAfter: Int? = nil) {
        core.state.withLock { $0.failures = (count, status, retryAfter) }
    }

    /// Closes watch connections abruptly (no terminating chunk), like a dying apiserver or LB.
    public func dropWatches(_ resource: Resource? = nil) { core.finishWatches(resource, cleanly: false) }

    /// Ends watch streams cleanly (terminating chunk), like the apiserver's own watch timeout.
    public func endWatches(_ resource: Resource? = nil) { core.finishWatches(resource, cleanly: true) }

    /// Forgets the event history, all list snapshots and prepared pages: watches from an older
    /// resourceVersion and continue tokens issued so far are answered with 410 Expired.
    public func compact() {
        core.state.withLock { state in
            state.compactedRevision = state.resourceVersion
            state.history = [:]
            state.snapshots = [:]
            state.preparedLists = [:]
        }
    }

    // MARK: Introspection

    public var requests: [RecordedRequest] { core.state.withLock { $0.requests } }
    public var currentResourceVersion: Int { core.state.withLock { $0.resourceVersion } }
    public var compactedRevision: Int { core.state.withLock { $0.compactedRevision } }
    /// List requests parked by `holdLists`.
    public var heldListCount: Int { core.state.withLock { $0.heldLists.count } }

    public func openWatchCount(for resource: Resource) -> Int {
        core.state.withLock { $0.watches.values.filter { $0.resource == resource }.count }
    }

    /// Polls until `resource` has at least `count` open watches; false on timeout.
    public func waitForOpenWatches(_ resource: Resource, count: Int, timeout: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while openWatchCount(for: resource) < count {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }

    /// The same, without blocking a cooperative thread.
    public func waitForOpenWatches(_ resource: Resource, count: Int, timeout: Double = 5) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while openWatchCount(for: resource) < count {
            if Date() >= deadline { return false }
            try? await Task.sleep(nanoseconds: 5_000_000)
        }
        return true
    }

    /// Decodes a URI's query as Go's url.ParseQuery does ('+' is a space, then %XX).
    static func parseQuery(_ uri: String) -> [String: String] {
        guard let mark = uri.firstIndex(of: "?") else { return [:] }
        var result: [String: String] = [:]
        for pair in uri[uri.index(after: mark)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            result[decode(parts[0])] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }
}

/// A value behind an `NSLock`. `@unchecked Sendable` because the lock serialises every access;
/// NIOConcurrencyHelpers would do the same but is not a declared dependency of this target.
final class LockedBox<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
