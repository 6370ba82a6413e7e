import ClusterRegistry
import DNSResponder
import RegistryReload
import DNSWire
import Foundation
import NIOConcurrencyHelpers
import XCTest

/// `ReloadSchedule`: debounce, SIGHUP and polling decisions, driven with plain numbers.
final class ReloadScheduleTests: XCTestCase {
    func testABurstIsOneReloadAfterTheQuietPeriod() {
        var schedule = ReloadSchedule(quietPeriod: 0.1, maxDelay: 1)
        XCTAssertEqual(schedule.next(at: 0), .wait(until: nil))
        schedule.record(.change, at: 10.00)
        schedule.record(.change, at: 10.03)
        schedule.record(.change, at: 10.05)
        XCTAssertEqual(schedule.next(at: 10.06), .wait(until: 10.15))
        XCTAssertEqual(schedule.next(at: 10.15), .reload(.change))
        XCTAssertEqual(schedule.next(at: 10.16), .wait(until: nil), "the burst was answered once")
    }

    func testAContinuousStreamOfChangesStillReloadsWithinTheMaximumDelay() {
        var schedule = ReloadSchedule(quietPeriod: 0.1, maxDelay: 1)
        var now = 20.0
        var reloads: [Double] = []
        while now < 22.5 {
            schedule.record(.change, at: now)
            if case .reload = schedule.next(at: now) { reloads.append(now) }
            now += 0.05
        }
        XCTAssertEqual(reloads.count, 2, "\(reloads)")
        XCTAssertEqual(reloads[0], 21.0, accuracy: 0.051)
        XCTAssertEqual(reloads[1], 22.05, accuracy: 0.051)
    }

    func testSignalReloadsAtOnceAndAbsorbsPendingChanges() {
        var schedule = ReloadSchedule(quietPeriod: 0.1, maxDelay: 1)
        schedule.record(.change, at: 5)
        schedule.record(.signal, at: 5.01)
        XCTAssertEqual(schedule.next(at: 5.01), .reload(.signal))
        XCTAssertEqual(schedule.next(at: 6), .wait(until: nil))
    }

    func testPollingEveryIntervalRestartedByEachReload() {
        var schedule = ReloadSchedule(quietPeriod: 0.1, maxDelay: 1, pollInterval: 2, now: 100)
        XCTAssertEqual(schedule.next(at: 100.5), .wait(until: 102))
        XCTAssertEqual(schedule.next(at: 102), .reload(.poll))
        XCTAssertEqual(schedule.next(at: 102.1), .wait(until: 104))
        schedule.record(.change, at: 103)
        XCTAssertEqual(schedule.next(at: 103.05), .wait(until: 103.1))
        XCTAssertEqual(schedule.next(at: 103.1), .reload(.change))
        XCTAssertEqual(schedule.next(at: 103.2), .wait(until: 105.1), "a reload looked at every file")
    }

    func testAnExplicitPollRunsOnceWithoutAnInterval() {
        var schedule = ReloadSchedule(quietPeriod: 0.1, maxDelay: 1, pollInterval: nil)
        schedule.record(.poll, at: 1)
        XCTAssertEqual(schedule.next(at: 1), .reload(.poll))
        XCTAssertEqual(schedule.next(at: 50), .wait(until: nil))
    }
}

/// `RegistryReloader` in process over a temporary directory: file changes reach the store's
/// snapshot, broken files keep the last good one.
final class RegistryReloaderTests: XCTestCase {
    private var directory = ""
    private var reloader: RegistryReloader?
    private let lines = NIOLockedValueBox<[String]>([])

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clusterdns-reload-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        reloader?.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: - Helpers

    private func write(_ name: String, _ text: String) throws {
        let path = directory + "/" + name
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    private func service(_ name: String, ip: String, namespace: String = "shop") -> String {
        "apiVersion: v1\nkind: Service\nmetadata: {name: \(name), namespace: \(namespace)}\n"
            + "spec: {clusterIP: \(ip), ports: [{name: http, port: 80}]}\n"
    }

    private func headless(_ name: String, ready: [String], namespace: String = "shop") -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: \(name)-abc
          namespace: \(namespace)
          labels: {kubernetes.io/service-name: \(name)}
        addressType: IPv4
        ports: [{name: http, port: 80}]
        endpoints:
        \(ready.map { "  - addresses: [\"\($0)\"]" }.joined(separator: "\n"))

        """
    }

    /// Starts a reloader over `directory` (after its initial load) and returns its store.
    private func start(_ options: RegistryReloader.Options) throws -> RegistryStore {
        let lines = self.lines
        let log = RegistryReloader.Log(
            output: { line in lines.withLockedValue { $0.append(line) } },
            error: { line in lines.withLockedValue { $0.append("stderr: " + line) } })
        let reloader = RegistryReloader(
            loader: RegistryLoader.Incremental(manifests: directory, zones: nil, configuration: RegistryConfiguration()),
            options: options, log: log)
        self.reloader = reloader
        let store = RegistryStore(try reloader.loadInitial().get())
        reloader.start(store: store)
        return store
    }

    private static let fast = RegistryReloader.Options(
        watch: true, pollInterval: nil, quietPeriod: 0.05, maxDelay: 0.5, handleSIGHUP: false)

    /// The store's answer: rcode and sorted A/AAAA/SRV rdata.
    private func answer(_ store: RegistryStore, _ name: String, _ type: RecordType = .a) throws -> String {
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        query.header.id = 7
        let scratch = ResponseScratch()
        let outcome = query.encoded().withUnsafeBytes {
            Responder().respond(to: $0, snapshot: store.snapshot, transport: .udp, scratch: scratch)
        }
        guard case .reply(let length, _) = outcome else { return "\(outcome)" }
        let reply = try DNSMessage(decoding: scratch.bytes(length))
        let data = reply.answers.map { "\($0.data)" }.sorted()
        return "\(reply.responseCode)" + (data.isEmpty ? "" : " " + data.joined(separator: ","))
    }

    /// Waits (bounded) until `name` answers something containing `expected`.
    private func eventually(
        _ store: RegistryStore, _ name: String, _ type: RecordType = .a, contains expected: String,
        within seconds: Double = 5, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let deadline = Date().addingTimeInterval(seconds)
        var last = ""
        while Date() < deadline {
            last = try answer(store, name, type)
            if last.contains(expected) { return }
            usleep(10_000)
        }
        XCTFail("\(name) still answers \(last), expected \(expected)\nlog: \(lines.withLockedValue { $0 })",
                file: file, line: line)
    }

    private func waitForLog(_ predicate: (String) -> Bool, within seconds: Double = 5) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let line = lines.withLockedValue({ $0.first(where: predicate) }) { return line }
            usleep(10_000)
        }
        return nil
    }

    // MARK: - Tests

    func testServiceAndEndpointSliceAddedChangedAndDeleted() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        let store = try start(Self.fast)
        let web = "web.shop.svc.cluster.local"
        let db = "db.shop.svc.cluster.local"
        XCTAssertTrue(try answer(store, web).contains("10.96.0.10"))
        XCTAssertEqual(try answer(store, db), "NXDOMAIN")

        // Add a headless service and its slice in a new subdirectory.
        try write("db/service.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: shop}\n"
            + "spec: {clusterIP: None, ports: [{name: http, port: 80}]}\n")
        try write("db/slice.yaml", headless("db", ready: ["10.1.0.1"]))
        try eventually(store, db, contains: "10.1.0.1")

        // Change the service and the slice.
        try write("web.yaml", service("web", ip: "10.96.0.20"))
        try eventually(store, web, contains: "10.96.0.20")
        try write("db/slice.yaml", headless("db", ready: ["10.1.0.2", "10.1.0.3"]))
        try eventually(store, db, contains: "10.1.0.3")
        XCTAssertFalse(try answer(store, db).contains("10.1.0.1"))

        // Delete the slice (headless without ready endpoints: NXDOMAIN), then the service.
        try FileManager.default.removeItem(atPath: directory + "/db/slice.yaml")
        try eventually(store, db, contains: "NXDOMAIN")
        try FileManager.default.removeItem(atPath: directory + "/web.yaml")
        try eventually(store, web, contains: "NXDOMAIN")

        let log = lines.withLockedValue { $0 }
        XCTAssertTrue(log.allSatisfy { !$0.contains("failed") }, "\(log)")
        XCTAssertTrue(log.contains { $0.hasPrefix("reload: ok in ") && $0.contains("services +1 -0 ~0") }, "\(log)")
        XCTAssertGreaterThanOrEqual(reloader?.counts.succeeded ?? 0, 5)
        XCTAssertEqual(reloader?.counts.failed, 0)
    }

    func testSyntaxErrorKeepsTheOldAnswersAndIsReportedUntilFixed() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        let store = try start(Self.fast)
        let web = "web.shop.svc.cluster.local"

        try write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop\nspec: {}\n")
        let failure = waitForLog { $0.hasPrefix("reload: failed") }
        XCTAssertNotNil(failure, "\(lines.withLockedValue { $0 })")
        XCTAssertTrue(failure?.contains("keeping previous registry") ?? false, failure ?? "")
        let details = lines.withLockedValue { $0.filter { $0.hasPrefix("stderr: reload: error:") } }
        XCTAssertEqual(details.count, 1, "\(details)")
        XCTAssertTrue(details.first?.contains(directory + "/web.yaml: document 1, line") ?? false, "\(details)")
        XCTAssertTrue(try answer(store, web).contains("10.96.0.10"), "the last good registry still answers")
        XCTAssertEqual(reloader?.counts.failed, 1)

        try write("web.yaml", service("web", ip: "10.96.0.11"))
        try eventually(store, web, contains: "10.96.0.11")
    }

    func testFieldErrorNamesTheField() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        _ = try start(Self.fast)
        try write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
            + "spec: {clusterIP: 10.96.0.10, ports: [{name: http, port: seventy}]}\n")
        let detail = waitForLog { $0.hasPrefix("stderr: reload: error:") }
        XCTAssertTrue(detail?.contains("field spec.ports[0].port") ?? false, detail ?? "\(lines.withLockedValue { $0 })")
    }

    /// With neither watching nor polling only a reload request (what SIGHUP calls) reloads, and it
    /// parses every file again.
    func testReloadNowWithoutWatchingOrPolling() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        let store = try start(RegistryReloader.Options(watch: false, pollInterval: nil, handleSIGHUP: false))
        let web = "web.shop.svc.cluster.local"
        try write("web.yaml", service("web", ip: "10.96.0.30"))
        usleep(400_000)
        XCTAssertTrue(try answer(store, web).contains("10.96.0.10"), "nothing may reload by itself")
        reloader?.reloadNow()
        try eventually(store, web, contains: "10.96.0.30")
        let line = waitForLog { $0.hasPrefix("reload: ok") }
        XCTAssertTrue(line?.contains("(signal; parsed 1 document of 1 file in ") ?? false, line ?? "")
    }

    func testPollingFindsChangesWithoutInotify() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        let store = try start(RegistryReloader.Options(watch: false, pollInterval: 0.2, handleSIGHUP: false))
        try write("web.yaml", service("web", ip: "10.96.0.40"))
        try eventually(store, "web.shop.svc.cluster.local", contains: "10.96.0.40")
        XCTAssertNotNil(waitForLog { $0.hasPrefix("reload: ok") && $0.contains("(poll;") })
    }

    func testChecksThatFindNothingChangedAreSilent() throws {
        try write("web.yaml", service("web", ip: "10.96.0.10"))
        _ = try start(RegistryReloader.Options(watch: true, pollInterval: 0.1, handleSIGHUP: false))
        try write(".web.yaml.swp", "editor scratch")  // hidden: not a manifest, but inotify sees it
        usleep(1_500_000)
        XCTAssertEqual(lines.withLockedValue { $0 }, [])
        XCTAssertEqual(reloader?.counts.succeeded, 0)
        XCTAssertGreaterThan(reloader?.counts.unchanged ?? 0, 3)
    }

    /// A mounted ConfigMap: `web.yaml -> ..data/web.yaml`, and kubelet updates it by pointing
    /// the hidden `..data` symbolic link at a new hidden directory with one rename.
    func testConfigMapStyleSymlinkSwap() throws {
        let files = FileManager.default
        try write("..v1/web.yaml", service("web", ip: "10.96.0.10"))
        try files.createSymbolicLink(atPath: directory + "/..data", withDestinationPath: "..v1")
        try files.createSymbolicLink(atPath: directory + "/web.yaml", withDestinationPath: "..data/web.yaml")
        let store = try start(Self.fast)
        XCTAssertTrue(try answer(store, "web.shop.svc.cluster.local").contains("10.96.0.10"))

        try write("..v2/web.yaml", service("web", ip: "10.96.0.60"))
        try files.createSymbolicLink(atPath: directory + "/..data_tmp", withDestinationPath: "..v2")
        XCTAssertEqual(rename(directory + "/..data_tmp", directory + "/..data"), 0)
        try eventually(store, "web.shop.svc.cluster.local", contains: "10.96.0.60")
    }

    func testWatcherFollowsNewSubdirectories() throws {
        let changes = NIOLockedValueBox(0)
        let watcher = try DirectoryWatcher(roots: [directory]) { changes.withLockedValue { $0 += 1 } }
        defer { watcher.stop() }
        try FileManager.default.createDirectory(atPath: directory + "/a/b", withIntermediateDirectories: true)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline && !watcher.watchedDirectories.contains(directory + "/a/b") { usleep(10_000) }
        XCTAssertEqual(watcher.watchedDirectories, [directory, directory + "/a", directory + "/a/b"])
        let before = changes.withLockedValue { $0 }
        try write("a/b/x.yaml", "{}")
        while Date() < deadline && changes.withLockedValue({ $0 }) == before { usleep(10_000) }
        XCTAssertGreaterThan(changes.withLockedValue { $0 }, before)
    }
}
