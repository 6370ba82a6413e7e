import AsyncHTTPClient
import ClusterRegistry
import Logging
import NIOCore

/// Timeouts, page sizes and limits of the list/watch loop; tests shrink them.
public struct WatchTiming: Sendable {
    /// Items per list page (`limit`), as client-go's informers use.
    public var pageSize = 500
    /// The server ends each watch after this many seconds (`timeoutSeconds`), picked at random
    /// in the range so replicas do not reconnect in step; the watch then resumes where it was.
    public var watchSeconds: ClosedRange<Int> = 300...600
    /// Seconds to wait for a response head (lists and watches).
    public var requestSeconds: Int64 = 30
    /// Reconnect delays after a failure: doubling from the first to the last, with jitter.
    public var backoff: ClosedRange<Double> = 0.5...30
    /// Largest single watch event or list page accepted; a larger one is an error (no query
    /// can make the server allocate without bound, nor can the API server).
    public var maxEventBytes = 16 << 20
    public var maxPageBytes = 256 << 20

    public init() {}
}

/// Lists one resource, then watches it from the list's resourceVersion, for as long as its task
/// runs: resumes after a watch ends, lists again after `410 Gone`, reconnects with backoff after
/// a failure. Keeps `ClusterObjectStore` equal to the API server's view of the resource.
struct ResourceReflector: Sendable {
    let resource: KubernetesResource
    let client: KubernetesAPIClient
    let store: ClusterObjectStore
    let timing: WatchTiming
    let logger: Logger

    private var decoder: APIResponseDecoder { APIResponseDecoder(resource: resource) }

    func run() async {
        var resourceVersion: String?
        var delay = timing.backoff.lowerBound
        var paginate = true
        while !Task.isCancelled {
            do {
                if resourceVersion == nil {
                    resourceVersion = try await listAll(paginate: paginate)
                    paginate = true
                }
                let progressed = try await watch(from: &resourceVersion)
                if progressed { delay = timing.backoff.lowerBound }
            } catch KubernetesAPIClient.Failure.gone(let message) {
                // Too old to resume: list everything again (what informers do). A continue
                // token that expired mid-list means the next list is taken in one piece.
                logger.info("kubernetes: resourceVersion expired, listing again", metadata: ["resource": "\(resource.path)", "reason": "\(message)"])
                if resourceVersion == nil { paginate = false }
                resourceVersion = nil
            } catch {
                if Task.isCancelled { return }
                logger.warning("warning: kubernetes: API request failed; retrying", metadata: [
                    "resource": "\(resource.path)", "error": "\(error)", "retry_in_s": "\(Self.rounded(delay))",
                ])
                try? await Task.sleep(nanoseconds: UInt64(delay * Double.random(in: 0.8...1.2) * 1e9))
                delay = min(delay * 2, timing.backoff.upperBound)
            }
        }
    }

    /// Lists every page, handing each page's objects to the store as it arrives (a relist is
    /// diffed against the registry, never held beside it: only the keys seen are kept), then
    /// tells the store the list is complete. Returns the list's resourceVersion.
    private func listAll(paginate: Bool) async throws -> String {
        // The keys seen are only needed when something of this resource may be stale: not on a
        // first list that starts with none of its objects queued (a retried one does).
        let tracksSeen = store.hasReceived(resource)
        var seen: Set<String> = []
        var listed = 0
        var token: String?
        var resourceVersion = ""
        // One buffer for every page: the pages of a 100k-Service list are 600 MB of JSON, and
        // a fresh buffer per page (then a copy for the decoder) made the kernel zero new pages
        // for all of it, a tenth of the first sync's CPU (issue #9).
        var pageBytes: [UInt8] = []
        repeat {
            var query: [(String, String)] = paginate ? [("limit", "\(timing.pageSize)")] : []
            if let token { query.append(("continue", token)) }
            let response = try await client.get(resource.path, query: query, headDeadline: .seconds(timing.requestSeconds))
            try await Self.read(response.body, into: &pageBytes, limit: timing.maxPageBytes)
            let page = try decoder.decodeList(pageBytes)
            for error in page.errors {
                logger.warning("warning: kubernetes: object left out", metadata: ["resource": "\(resource.path)", "error": "\(error)"])
            }
            if tracksSeen { seen.formUnion(page.objects.keys) }
            listed += page.objects.count
            store.upsert(resource, page.objects, receivedAt: MonotonicClock.seconds())
            token = page.continueToken
            resourceVersion = page.resourceVersion
        } while token != nil
        store.listCompleted(resource, seen: tracksSeen ? seen : nil)
        logger.info("kubernetes: listed", metadata: [
            "resource": "\(resource.path)", "objects": "\(listed)", "resourceVersion": "\(resourceVersion)",
        ])
        return resourceVersion
    }

    /// Reads a whole response body into `bytes`, replacing what it held but keeping its storage:
    /// the decoder's document shares the array only while it decodes, so it is unique again by
    /// the next page. Throws beyond `limit` bytes.
    private static func read(_ body: HTTPClientResponse.Body, into bytes: inout [UInt8], limit: Int) async throws {
        bytes.removeAll(keepingCapacity: true)
        for try await chunk in body {
            guard chunk.readableBytes <= limit - bytes.count else { throw KubernetesAPIClient.Failure.bodyTooLarge(limit) }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
    }

    /// Watches from `resourceVersion`, applying events and advancing it, until the server ends
    /// the stream; returns whether any event arrived. Throws on a drop, an ERROR event or a
    /// malformed line.
    private func watch(from resourceVersion: inout String?) async throws -> Bool {
        guard let start = resourceVersion else { return false }
        let began = MonotonicClock.seconds()
        let seconds = Int.random(in: timing.watchSeconds)
        let response = try await client.get(
            resource.path,
            query: [("watch", "1"), ("resourceVersion", start), ("allowWatchBookmarks", "true"), ("timeoutSeconds", "\(seconds)")],
            headDeadline: .seconds(timing.requestSeconds))
        var lines = LineSplitter(limit: timing.maxEventBytes)
        var progressed = false
        for try await chunk in response.body {
            try lines.append(chunk)
            while let line = lines.next() {
                try apply(try decoder.decodeEvent(line), to: &resourceVersion)
                progressed = true
            }
        }
        // A server (or proxy) that ends every watch at once must not make us spin.
        if !progressed, MonotonicClock.seconds() - began < 1 {
            throw KubernetesAPIClient.Failure.status(200, "watch ended at once without events")
        }
        return progressed
    }

    private func apply(_ event: WatchEvent, to resourceVersion: inout String?) throws {
        switch event {
        case .upsert(let key, let object, let version):
            store.apply(resource, key: key, object: object, deleted: false, receivedAt: MonotonicClock.seconds())
            if object == nil { logger.warning("warning: kubernetes: object left out: it does not decode", metadata: ["resource": "\(resource.path)", "object": "\(key)"]) }
            if let version { resourceVersion = version }
        case .deleted(let key, let version):
            store.apply(resource, key: key, object: nil, deleted: true, receivedAt: MonotonicClock.seconds())
            if let version { resourceVersion = version }
        case .bookmark(let version):
            resourceVersion = version
        case .error(410, let message):
            throw KubernetesAPIClient.Failure.gone(message)
        case .error(let code, let message):
            throw KubernetesAPIClient.Failure.status(code, message)
        }
    }

    private static func rounded(_ seconds: Double) -> Double { (seconds * 10).rounded() / 10 }
}

/// Splits a watch stream into its newline-terminated JSON events, however the chunks fall.
struct LineSplitter {
    let limit: Int
    private var pending = ByteBuffer()

    init(limit: Int) { self.limit = limit }

    mutating func append(_ chunk: ByteBuffer) throws {
        var chunk = chunk
        pending.writeBuffer(&chunk)
        if pending.readableBytes > limit, pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) == nil {
            throw KubernetesAPIClient.Failure.bodyTooLarge(limit)
        }
    }

    /// The next complete line without its newline (blank lines skipped), or nil.
    mutating func next() -> String? {
        while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - pending.readerIndex
            let line = pending.readString(length: length) ?? ""
            pending.moveReaderIndex(forwardBy: 1)
            if pending.readableBytes == 0 { pending.clear() }
            if !line.allSatisfy({ $0 == " " || $0 == "\r" }) { return line }
        }
        if pending.readerIndex > 1 << 16 { pending.discardReadBytes() }
        return nil
    }
}
