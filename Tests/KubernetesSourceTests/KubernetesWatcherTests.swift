import ClusterRegistry
import DNSTestSupport
import DNSWire
@testable import KubernetesSource
import Logging
import NIOPosix
import XCTest

/// The list/watch client against a test API server that speaks the real protocol: initial sync
/// (paginated), every event kind, bookmarks, relist after 410 Gone (both ways a server says it),
/// reconnect after a drop, retries after errors, the bearer token on every request, and TLS.
final class KubernetesWatcherTests: XCTestCase {
    typealias API = FakeKubernetesAPIServer
    private var api: API!
    private var watcher: KubernetesWatcher?
    private var mirror: StoreMirror!
    private let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    override func setUpWithError() throws {
        api = try API.start()
        api.requiredBearerToken = "s3cret"
        api.put(.namespaces, API.namespace(name: "shop"))
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.10", ports: [("http", 80, "TCP")]))
        api.put(.services, API.service(namespace: "shop", name: "db", ports: [("pg", 5432, "TCP")], headless: true))
        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "db-x1", service: "db", addresses: [("10.1.0.7", true, "db-0", "db-0")],
            ports: [("pg", 5432, "TCP")]))
    }

    override func tearDown() async throws {
        await watcher?.stop()
        api.stop()
        try await group.shutdownGracefully()
    }

    private static var fastTiming: WatchTiming {
        var timing = WatchTiming()
        timing.pageSize = 2
        timing.watchSeconds = 30...30
        timing.requestSeconds = 5
        timing.backoff = 0.05...0.2
        return timing
    }

    @discardableResult
    private func startWatcher(
        token: String? = "s3cret", resources: [KubernetesResource] = [.namespaces, .services, .endpointSlices],
        connection: KubernetesConnection? = nil, timing: WatchTiming = fastTiming
    ) throws -> KubernetesWatcher {
        let watcher = try KubernetesWatcher(
            connection: connection ?? KubernetesConnection(server: api.url, bearerToken: token), resources: resources,
            group: group, timing: timing, userAgent: "clusterdns-test", logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        self.watcher = watcher
        mirror = StoreMirror(store: watcher.store)
        watcher.start()
        return watcher
    }

    /// Polls `condition` every 10 ms until it holds or `seconds` pass.
    private func eventually(
        _ what: String, within seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line,
        _ condition: () -> Bool
    ) async {
        let deadline = Date().addingTimeInterval(seconds)
        while !condition() {
            if Date() > deadline { return XCTFail("timed out waiting for \(what)", file: file, line: line) }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
    }

    private func services(_ store: ClusterObjectStore) -> [String: Service.Kind] {
        var result: [String: Service.Kind] = [:]
        for case .service(let service) in mirror.objects { result[service.namespace + "/" + service.name] = service.kind }
        return result
    }

    private func listRequests(_ resource: API.Resource) -> [API.RecordedRequest] {
        api.requests.filter { $0.path == resource.path && $0.query["watch"] == nil }
    }

    private func watchRequests(_ resource: API.Resource) -> [API.RecordedRequest] {
        api.requests.filter { $0.path == resource.path && $0.query["watch"] != nil }
    }

    // MARK: - Initial sync

    func testInitialSyncListsEveryPageThenWatchesFromTheListsVersion() async throws {
        for index in 0..<5 {
            api.put(.services, API.service(namespace: "bulk", name: "s\(index)", clusterIP: "10.96.1.\(index)"))
        }
        let listedAt = api.currentResourceVersion
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        XCTAssertEqual(services(store).count, 7)
        XCTAssertEqual(services(store)["shop/db"], .headless)
        XCTAssertEqual(services(store)["shop/web"], .clusterIP([IPAddress("10.96.0.10")!]))
        guard case .endpoints(let slice)? = mirror.objects.first(where: { if case .endpoints = $0 { return true } else { return false } })
        else { return XCTFail("the slice is stored") }
        XCTAssertEqual(slice.serviceName, "db")

        let lists = listRequests(.services)
        XCTAssertEqual(lists.count, 4, "7 services in pages of 2")
        XCTAssertEqual(lists.map { $0.query["limit"] }, ["2", "2", "2", "2"])
        XCTAssertNil(lists[0].query["continue"])
        XCTAssertTrue(lists.dropFirst().allSatisfy { $0.query["continue"] != nil })

        await eventually("the services watch") { api.openWatchCount(for: .services) == 1 }
        let watch = try XCTUnwrap(watchRequests(.services).first)
        XCTAssertEqual(watch.query["resourceVersion"], "\(listedAt)")
        XCTAssertEqual(watch.query["allowWatchBookmarks"], "true")
        XCTAssertEqual(watch.query["timeoutSeconds"], "30")
        XCTAssertTrue(api.requests.allSatisfy { $0.authorization == "Bearer s3cret" }, "every request carries the token")
        XCTAssertTrue(api.requests.allSatisfy { $0.userAgent == "clusterdns-test" })
    }

    func testNotSyncedUntilEveryResourceIsListed() async throws {
        api.holdLists = true
        let store = try startWatcher().store
        await eventually("held lists") { api.heldListCount >= 1 }
        XCTAssertFalse(store.isSynced)
        var source = KubernetesRegistrySource(store: store, zones: nil, configuration: RegistryConfiguration())
        guard case .loaded(let before) = source.load(force: true) else { return XCTFail("a forced load builds") }
        XCTAssertFalse(before.snapshot.clusterSynced)
        api.holdLists = false
        await eventually("sync") { store.isSynced }
        guard case .loaded(let after) = source.load(force: false) else { return XCTFail("the sync changed the store") }
        XCTAssertTrue(after.snapshot.clusterSynced)
        XCTAssertEqual(after.snapshot.statistics.objectsByKind["Service"], 2)
        guard case .unchanged = source.load(force: false) else { return XCTFail("nothing changed since") }
    }

    // MARK: - Events

    func testAddedModifiedAndDeletedEventsReachTheStore() async throws {
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        await eventually("watches") { api.openWatchCount(for: .services) == 1 && api.openWatchCount(for: .endpointSlices) == 1 }
        let listsBefore = listRequests(.services).count

        api.put(.services, API.service(namespace: "shop", name: "api", clusterIP: "10.96.0.11"))
        await eventually("ADDED") { services(store)["shop/api"] != nil }
        api.put(.services, API.service(namespace: "shop", name: "api", clusterIP: "10.96.0.12"))
        await eventually("MODIFIED") { services(store)["shop/api"] == .clusterIP([IPAddress("10.96.0.12")!]) }
        api.delete(.services, namespace: "shop", name: "api")
        await eventually("DELETED") { services(store)["shop/api"] == nil }

        api.put(.endpointSlices, API.endpointSlice(
            namespace: "shop", name: "db-x1", service: "db",
            addresses: [("10.1.0.7", true, "db-0", "db-0"), ("10.1.0.8", true, "db-1", "db-1")], ports: [("pg", 5432, "TCP")]))
        await eventually("slice MODIFIED") {
            mirror.objects.contains { if case .endpoints(let group) = $0 { return group.endpoints.count == 2 } else { return false } }
        }
        api.delete(.endpointSlices, namespace: "shop", name: "db-x1")
        await eventually("slice DELETED") {
            !mirror.objects.contains { if case .endpoints = $0 { return true } else { return false } }
        }
        XCTAssertEqual(listRequests(.services).count, listsBefore, "events need no relist")
    }

    func testAnUpdateThatChangesNoDNSFieldTriggersNoBuild() async throws {
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        await eventually("watch") { api.openWatchCount(for: .services) == 1 }
        _ = mirror.objects
        let applied = mirror.appliedChanges
        // The same Service again (a status or annotation update looks like this to DNS).
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.10", ports: [("http", 80, "TCP")]))
        api.put(.namespaces, API.namespace(name: "second"))  // a change to wait for
        await eventually("the namespace") { mirror.objects.contains(.namespace(Namespace(name: "second"))) }
        XCTAssertEqual(mirror.appliedChanges, applied + 1, "only the namespace counted as a change")
    }

    func testBookmarkAdvancesWhereTheWatchResumes() async throws {
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        await eventually("watch") { api.openWatchCount(for: .services) == 1 }
        api.put(.namespaces, API.namespace(name: "n1"))  // moves the global resourceVersion on
        api.put(.namespaces, API.namespace(name: "n2"))
        let bookmarkedAt = api.currentResourceVersion
        api.bookmark(.services)
        try await Task.sleep(nanoseconds: 100_000_000)
        api.dropWatches(.services)
        await eventually("a second services watch") { watchRequests(.services).count == 2 }
        XCTAssertEqual(watchRequests(.services).last?.query["resourceVersion"], "\(bookmarkedAt)")
        XCTAssertEqual(listRequests(.services).count, 1, "resuming from a bookmark needs no relist")
    }

    // MARK: - Failures

    func testReconnectAfterADroppedConnectionResumesWithoutRelisting() async throws {
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        await eventually("watch") { api.openWatchCount(for: .services) == 1 }
        api.dropWatches()
        api.put(.services, API.service(namespace: "shop", name: "late", clusterIP: "10.96.0.99"))
        await eventually("the change made while disconnected") { services(store)["shop/late"] != nil }
        XCTAssertEqual(listRequests(.services).count, 1)
        XCTAssertGreaterThanOrEqual(watchRequests(.services).count, 2)
    }

    func testRelistAfterGoneAsAnErrorEvent() async throws {
        try await relistAfterGone(.errorEvent)
    }

    func testRelistAfterGoneAsAnHTTPStatus() async throws {
        try await relistAfterGone(.httpStatus)
    }

    private func relistAfterGone(_ mode: API.GoneMode) async throws {
        api.goneMode = mode
        let store = try startWatcher().store
        await eventually("sync") { store.isSynced }
        await eventually("watch") { api.openWatchCount(for: .services) == 1 }
        api.dropWatches(.services)
        // While we are away: a delete, then compaction forgets it (only a relist can tell).
        api.delete(.services, namespace: "shop", name: "web")
        api.put(.services, API.service(namespace: "shop", name: "new", clusterIP: "10.96.0.77"))
        api.compact()
        await eventually("relist") { services(store)["shop/web"] == nil && services(store)["shop/new"] != nil }
        XCTAssertGreaterThanOrEqual(listRequests(.services).count, 2)
        await eventually("watch again") { api.openWatchCount(for: .services) == 1 }
        api.put(.services, API.service(namespace: "shop", name: "after", clusterIP: "10.96.0.78"))
        await eventually("events after the relist") { services(store)["shop/after"] != nil }
    }

    func testServerErrorsAreRetriedWithBackoff() async throws {
        api.failNextRequests(count: 3, status: 500)
        let store = try startWatcher().store
        await eventually("sync despite errors") { store.isSynced }
        XCTAssertEqual(services(store).count, 2)
    }

    func testAWrongTokenNeverSyncsAndKeepsRetrying() async throws {
        let store = try startWatcher(token: "wrong").store
        await eventually("retries") { api.requests.count >= 3 }
        XCTAssertFalse(store.isSynced)
        XCTAssertTrue(api.requests.allSatisfy { $0.authorization == "Bearer wrong" })
    }

    // MARK: - TLS

    func testTLSWithTheClusterCAAndATokenFile() async throws {
        api.stop()
        let tls = try API.TLSFiles.selfSigned()
        api = try API.start(tls: tls)
        api.put(.services, API.service(namespace: "shop", name: "web", clusterIP: "10.96.0.10"))
        let tokenFile = NSTemporaryDirectory() + "cdns-token-\(UUID().uuidString)"
        try "from-file\n".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: tokenFile) }
        api.requiredBearerToken = "from-file"
        XCTAssertTrue(api.url.hasPrefix("https://127.0.0.1:"))
        let connection = KubernetesConnection(
            server: api.url, tokenFile: tokenFile, certificateAuthorityPEM: Array(tls.certificatePEM.utf8))
        let store = try startWatcher(resources: [.services], connection: connection).store
        await eventually("sync over TLS") { store.isSynced }
        XCTAssertEqual(services(store)["shop/web"], .clusterIP([IPAddress("10.96.0.10")!]))
    }

    func testTLSWithoutTrustingTheServerNeverSyncs() async throws {
        api.stop()
        api = try API.start(tls: try API.TLSFiles.selfSigned())
        let store = try startWatcher(resources: [.services], connection: KubernetesConnection(server: api.url)).store
        try await Task.sleep(nanoseconds: 500_000_000)
        XCTAssertFalse(store.isSynced)
        XCTAssertTrue(api.requests.isEmpty, "no request gets past an untrusted certificate")
    }
}

/// The registry the store's queue feeds, as a server keeps it: what the reflectors' events
/// amount to once applied.
final class StoreMirror: @unchecked Sendable {
    // @unchecked: tests touch it from their own task only.
    private var source: KubernetesRegistrySource
    /// Object changes the registry applied (a change that alters nothing is not counted).
    private(set) var appliedChanges = 0

    init(store: ClusterObjectStore) {
        source = KubernetesRegistrySource(store: store, zones: nil, configuration: RegistryConfiguration())
        _ = source.load(force: true)
    }

    /// Every object held after applying what is queued.
    var objects: [KubernetesObject] {
        if case .loaded(let loaded) = source.load(force: false) { appliedChanges += loaded.diff.objectChanges }
        return Array(source.registry.objects.allObjects)
    }
}
