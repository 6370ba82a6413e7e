import DNSTestSupport
import Foundation
import XCTest

/// The fake apiserver itself, checked with curl (independent of our client and of SwiftNIO's
/// HTTP client), so client tests can trust it speaks list/watch as kube-apiserver does.
final class FakeKubernetesAPIServerTests: XCTestCase {
    private typealias Fake = FakeKubernetesAPIServer
    private var server: Fake!

    override func setUpWithError() throws {
        server = try Fake.start()
    }

    override func tearDown() {
        server?.stop()
        server?.stop()  // idempotent
    }

    private func svc(_ namespace: String, _ name: String, _ ip: String = "10.96.0.10") -> String {
        Fake.service(namespace: namespace, name: name, clusterIP: ip, ports: [(name: "http", port: 80, proto: "TCP")])
    }

    func testListPaginatesOverOneSnapshotAndExpiresOnCompaction() throws {
        for name in ["e", "a", "d", "c"] { server.put(.services, svc("default", name)) }
        server.put(.services, svc("apps", "z"))
        let first = try Curl.get(server.url + "/api/v1/services?limit=2&resourceVersion=")
        XCTAssertEqual(first.status, 200)
        let page1 = try first.json()
        XCTAssertEqual(page1["kind"] as? String, "ServiceList")
        XCTAssertEqual(page1["apiVersion"] as? String, "v1")
        let meta1 = try XCTUnwrap(page1["metadata"] as? [String: Any])
        XCTAssertEqual(meta1["resourceVersion"] as? String, "6")
        XCTAssertEqual(meta1["remainingItemCount"] as? Int, 3)
        let items1 = try XCTUnwrap(page1["items"] as? [[String: Any]])
        XCTAssertEqual(items1.map(Self.key), ["apps/z", "default/a"])
        XCTAssertNil(items1[0]["kind"], "list items carry no kind")
        XCTAssertNil(items1[0]["apiVersion"])
        XCTAssertEqual((items1[0]["metadata"] as? [String: Any])?["resourceVersion"] as? String, "6")

        // Changes after the first page do not show in the following pages.
        server.delete(.services, namespace: "default", name: "c")
        server.put(.services, svc("default", "b"))
        var token = try XCTUnwrap(meta1["continue"] as? String)
        var names: [String] = []
        while true {
            let page = try Curl.get(server.url + "/api/v1/services?limit=2&continue=\(Self.escape(token))").json()
            let meta = try XCTUnwrap(page["metadata"] as? [String: Any])
            XCTAssertEqual(meta["resourceVersion"] as? String, "6")
            names += try XCTUnwrap(page["items"] as? [[String: Any]]).map(Self.key)
            guard let next = meta["continue"] as? String else { break }
            token = next
        }
        XCTAssertEqual(names, ["default/c", "default/d", "default/e"])

        let whole = try Curl.get(server.url + "/api/v1/services").json()
        XCTAssertEqual((whole["metadata"] as? [String: Any])?["resourceVersion"] as? String, "8")
        XCTAssertEqual((whole["items"] as? [[String: Any]])?.map(Self.key), ["apps/z", "default/a", "default/b", "default/d", "default/e"])

        server.compact()
        let expired = try Curl.get(server.url + "/api/v1/services?limit=2&continue=\(Self.escape(token))")
        XCTAssertEqual(expired.status, 410)
        XCTAssertEqual(try expired.json()["reason"] as? String, "Expired")
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/services?continue=bogus").status, 400)
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/nodes").status, 404)
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/services", ["-X", "POST"]).status, 405)
    }

    /// Pages encoded up front are the pages the server would write, served until a change.
    func testPreparedListPagesMatchTheLiveOnes() throws {
        for name in ["e", "a", "d", "c", "b"] { server.put(.services, svc("default", name)) }
        var live: [String] = []
        var token = ""
        repeat {
            let page = try Curl.get(server.url + "/api/v1/services?limit=2&continue=\(Self.escape(token))")
            live.append(page.body)
            token = try (page.json()["metadata"] as? [String: Any])?["continue"] as? String ?? ""
        } while !token.isEmpty
        server.prepareListPages(limit: 2)
        var prepared: [String] = []
        repeat {
            let page = try Curl.get(server.url + "/api/v1/services?limit=2&continue=\(Self.escape(token))")
            prepared.append(page.body)
            token = try (page.json()["metadata"] as? [String: Any])?["continue"] as? String ?? ""
        } while !token.isEmpty
        XCTAssertEqual(prepared, live)
        XCTAssertEqual(live.count, 3)
        XCTAssertEqual(server.preparedPagesServed, 3)

        server.put(.services, svc("default", "f"))
        let afresh = try Curl.get(server.url + "/api/v1/services?limit=2").json()
        XCTAssertEqual((afresh["metadata"] as? [String: Any])?["resourceVersion"] as? String, "7", "changed: listed afresh")
        XCTAssertEqual(server.preparedPagesServed, 3)
        _ = try Curl.get(server.url + "/api/v1/services?limit=3")
        XCTAssertEqual(server.preparedPagesServed, 3, "another limit is listed afresh")
    }

    func testWatchReplaysThenStreamsLiveEventsAndBookmarks() throws {
        let rvA = server.put(.services, svc("default", "a"))
        server.put(.services, svc("default", "b"))
        let withBookmarks = try Curl.start(
            server.url + "/api/v1/services?watch=true&resourceVersion=\(rvA)&allowWatchBookmarks=true&timeoutSeconds=30")
        let without = try Curl.start(server.url + "/api/v1/services?watch=1&resourceVersion=\(rvA)")
        XCTAssertTrue(server.waitForOpenWatches(.services, count: 2, timeout: 3))
        server.put(.services, svc("default", "b", "10.96.0.11"))
        server.put(.endpointSlices, Fake.endpointSlice(namespace: "default", name: "b-1", service: "b", addresses: [], ports: []))
        let rvDelete = server.delete(.services, namespace: "default", name: "a")
        server.bookmark(.services)
        XCTAssertTrue(eventually { withBookmarks.lines.count == 4 && without.lines.count == 3 })
        server.endWatches()
        XCTAssertEqual(withBookmarks.wait(), 0, "ended cleanly with the terminating chunk")
        XCTAssertEqual(without.wait(), 0)
        XCTAssertEqual(withBookmarks.status, 200)

        let events = try withBookmarks.events()
        XCTAssertEqual(events.map { $0["type"] as? String }, ["ADDED", "MODIFIED", "DELETED", "BOOKMARK"])
        let objects = events.compactMap { $0["object"] as? [String: Any] }
        XCTAssertEqual(objects.map { $0["kind"] as? String }, Array(repeating: "Service", count: 4))
        XCTAssertEqual(objects.map { $0["apiVersion"] as? String }, Array(repeating: "v1", count: 4))
        XCTAssertEqual(objects.map { ($0["metadata"] as? [String: Any])?["resourceVersion"] as? String }, ["3", "4", "6", "6"])
        XCTAssertEqual((objects[1]["spec"] as? [String: Any])?["clusterIP"] as? String, "10.96.0.11")
        XCTAssertEqual(rvDelete, 6)
        XCTAssertEqual(try without.events().map { $0["type"] as? String }, ["ADDED", "MODIFIED", "DELETED"])
        XCTAssertEqual(server.openWatchCount(for: .services), 0)

        // Without a resourceVersion a watch starts with the current state as ADDED.
        let fromNow = try Curl.start(server.url + "/apis/discovery.k8s.io/v1/endpointslices?watch=true&timeoutSeconds=1")
        XCTAssertEqual(fromNow.wait(timeout: 4), 0, "timeoutSeconds ends the stream cleanly")
        let slice = try XCTUnwrap(try fromNow.events().first?["object"] as? [String: Any])
        XCTAssertEqual(slice["kind"] as? String, "EndpointSlice")
        XCTAssertEqual(slice["apiVersion"] as? String, "discovery.k8s.io/v1")
        XCTAssertTrue(slice["endpoints"] is NSNull, "empty endpoints are null, as the apiserver sends them")
    }

    func testWatchFromCompactedRevisionIsGoneInBothModes() throws {
        for name in ["a", "b", "c"] { server.put(.namespaces, Fake.namespace(name: name)) }
        server.compact()
        let watch = server.url + "/api/v1/namespaces?watch=true&resourceVersion=2"
        let event = try Curl.get(watch)
        XCTAssertEqual(event.status, 200)
        let error = try XCTUnwrap(try event.events().first)
        XCTAssertEqual(error["type"] as? String, "ERROR")
        let status = try XCTUnwrap(error["object"] as? [String: Any])
        XCTAssertEqual(status["kind"] as? String, "Status")
        XCTAssertEqual(status["code"] as? Int, 410)
        XCTAssertEqual(status["reason"] as? String, "Expired")
        XCTAssertEqual(status["message"] as? String, "too old resource version: 2 (4)")

        server.goneMode = .httpStatus
        let http = try Curl.get(watch)
        XCTAssertEqual(http.status, 410)
        XCTAssertEqual(try http.json()["reason"] as? String, "Expired")
        // From the compacted revision itself nothing is missing.
        // After a watch ends cleanly its keep-alive connection serves the next request.
        let ended = try Curl.get(
            watch.replacingOccurrences(of: "=2", with: "=4&timeoutSeconds=1"), then: [server.url + "/api/v1/namespaces"])
        XCTAssertEqual(ended.transfers, ["200 1", "200 0"])
    }

    func testBearerTokenFailureInjectionAndHeldLists() throws {
        server.requiredBearerToken = "s3cret"
        let denied = try Curl.get(server.url + "/api/v1/pods")
        XCTAssertEqual(denied.status, 401)
        XCTAssertEqual(try denied.json()["reason"] as? String, "Unauthorized")
        let auth = ["-H", "Authorization: Bearer s3cret", "-A", "clusterdns-test"]
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/pods", auth).status, 200)
        XCTAssertEqual(server.requests.last?.authorization, "Bearer s3cret")
        XCTAssertEqual(server.requests.last?.userAgent, "clusterdns-test")
        XCTAssertEqual(server.requests.last?.path, "/api/v1/pods")

        server.failNextRequests(count: 2, status: 429, retryAfter: 1)
        let throttled = try Curl.get(server.url + "/api/v1/pods", auth)
        XCTAssertEqual(throttled.status, 429)
        XCTAssertTrue(throttled.headers.lowercased().contains("retry-after: 1"))
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/pods?watch=true", auth).status, 429)
        XCTAssertEqual(try Curl.get(server.url + "/api/v1/pods", auth).status, 200)

        server.holdLists = true
        let held = try Curl.start(server.url + "/api/v1/pods", auth)
        XCTAssertTrue(eventually { self.server.heldListCount == 1 })
        server.put(.pods, Fake.pod(namespace: "default", name: "p", ip: "10.244.0.5", ready: true))
        server.holdLists = false
        XCTAssertEqual(held.wait(), 0)
        XCTAssertEqual((try held.json()["items"] as? [[String: Any]])?.map(Self.key), ["default/p"])
    }

    func testDropWatchesClosesTheConnectionAbruptly() throws {
        let watch = try Curl.start(server.url + "/api/v1/services?watch=true&resourceVersion=1")
        let raw = try Curl.start(server.url + "/api/v1/services?watch=true&resourceVersion=1", ["--raw"])
        XCTAssertTrue(server.waitForOpenWatches(.services, count: 2, timeout: 3))
        server.put(.services, svc("default", "a"))
        XCTAssertTrue(eventually { watch.lines.count == 1 && raw.body.hasSuffix("\r\n") })
        // Each event is exactly one chunk: "<hex size>\r\n<json>\n\r\n".
        let line = String(watch.lines[0]) + "\n"
        XCTAssertEqual(raw.body, String(line.utf8.count, radix: 16) + "\r\n" + line + "\r\n")
        let headers = watch.headers.lowercased()
        XCTAssertTrue(headers.contains("content-type: application/json"), headers)
        XCTAssertTrue(headers.contains("transfer-encoding: chunked"), headers)
        server.dropWatches()
        XCTAssertEqual(watch.wait(), 18, "curl: transfer closed with outstanding read data (no last chunk)")
        XCTAssertEqual(raw.wait(), 18)
        XCTAssertTrue(eventually { self.server.openWatchCount(for: .services) == 0 })
    }

    func testServesHTTPSWithTheGivenCertificate() throws {
        let tls = try Fake.TLSFiles.selfSigned()
        let secure = try Fake.start(tls: tls)
        defer { secure.stop() }
        XCTAssertTrue(secure.url.hasPrefix("https://127.0.0.1:"))
        let ca = FileManager.default.temporaryDirectory.appendingPathComponent("fakeapi-ca-\(UUID().uuidString).pem")
        try tls.certificatePEM.write(to: ca, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: ca) }
        secure.put(.namespaces, Fake.namespace(name: "kube-system"))
        let list = try Curl.get(secure.url + "/api/v1/namespaces", ["--cacert", ca.path])
        XCTAssertEqual(list.status, 200)
        XCTAssertEqual((try list.json()["items"] as? [[String: Any]])?.map(Self.key), ["kube-system"])
    }

    // MARK: Helpers

    private static func key(_ item: [String: Any]) -> String {
        let metadata = item["metadata"] as? [String: Any] ?? [:]
        let name = metadata["name"] as? String ?? "?"
        return (metadata["namespace"] as? String).map { "\($0)/\(name)" } ?? name
    }

    private static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? text
    }

    private func eventually(_ timeout: Double = 3, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !condition() {
            if Date() >= deadline { return false }
            usleep(5_000)
        }
        return true
    }
}

/// One curl run writing the body and the response headers to files, so streams can be read
/// while they last.
private final class Curl {
    private let process = Process()
    private let directory: URL

    /// Runs to completion. `then` are more URLs fetched afterwards on the same connection when
    /// it is still usable (their bodies are discarded; see `transfers`).
    static func get(_ url: String, _ extra: [String] = [], then: [String] = []) throws -> Curl {
        let run = try Curl([url] + then, extra)
        guard run.wait() != nil else { throw DNSTestClient.Failure(description: "curl \(url) timed out") }
        return run
    }

    static func start(_ url: String, _ extra: [String] = []) throws -> Curl { try Curl([url], extra) }

    private init(_ urls: [String], _ extra: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("fakeapi-curl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let summary = directory.appendingPathComponent("summary")
        _ = FileManager.default.createFile(atPath: summary.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var arguments = ["-sS", "-N", "-D", directory.appendingPathComponent("headers").path,
                         "-w", "%{http_code} %{num_connects}\\n"] + extra
        for (index, url) in urls.enumerated() {
            arguments += ["-o", index == 0 ? directory.appendingPathComponent("body").path : "/dev/null", url]
        }
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: summary)
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        if process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: directory)
    }

    /// The exit status; nil (and the process killed) after `timeout`. Polls: waitUntilExit can
    /// hang off the main thread.
    func wait(timeout: Double = 3) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                process.terminate()
                return nil
            }
            usleep(5_000)
        }
        return process.terminationStatus
    }

    private func read(_ file: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)) ?? ""
    }

    var body: String { read("body") }
    /// Per URL: "<status> <new connections>" ("200 0" is a reused connection).
    var transfers: [Substring] { read("summary").split(separator: "\n") }
    var headers: String { read("headers") }
    var status: Int { Int(headers.split(separator: " ").dropFirst().first ?? "") ?? 0 }
    /// Complete watch lines so far.
    var lines: [Substring] {
        let text = body
        guard let end = text.lastIndex(of: "\n") else { return [] }
        return text[..<end].split(separator: "\n")
    }

    func json() throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    }

    func events() throws -> [[String: Any]] {
        try lines.map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
    }
}
