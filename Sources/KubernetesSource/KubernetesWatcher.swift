import AsyncHTTPClient
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Runs one `ResourceReflector` per resource against the API server, all feeding one
/// `ClusterObjectStore`, until `stop()`.
public final class KubernetesWatcher: Sendable {
    public let store: ClusterObjectStore
    public let server: String
    private let reflectors: [ResourceReflector]
    private let http: HTTPClient
    private let tasks = NIOLockedValueBox<[Task<Void, Never>]>([])

    public init(
        connection: KubernetesConnection, resources: [KubernetesResource], group: any EventLoopGroup,
        timing: WatchTiming = WatchTiming(), userAgent: String = "clusterdns", logger: Logger
    ) throws {
        // A read timeout longer than any watch: a silent connection is dead once the server's
        // own watch timeout has passed without a word.
        let readTimeout = TimeAmount.seconds(Int64(timing.watchSeconds.upperBound) + 60)
        http = try KubernetesAPIClient.makeHTTPClient(connection: connection, group: group, readTimeout: readTimeout)
        let client = KubernetesAPIClient(connection: connection, http: http, userAgent: userAgent)
        let store = ClusterObjectStore(resources: resources)
        self.store = store
        server = connection.server
        reflectors = resources.map {
            ResourceReflector(resource: $0, client: client, store: store, timing: timing, logger: logger)
        }
    }

    public func start() {
        tasks.withLockedValue { tasks in
            guard tasks.isEmpty else { return }
            tasks = reflectors.map { reflector in Task { await reflector.run() } }
        }
    }

    /// Cancels every list and watch and closes the connections.
    public func stop() async {
        let running = tasks.withLockedValue { tasks in
            defer { tasks = [] }
            return tasks
        }
        for task in running { task.cancel() }
        for task in running { await task.value }
        try? await http.shutdown()
    }
}
