import ClusterRegistry
import DNSTestSupport
import DNSWire
@testable import KubernetesSource
import NIOCore
import XCTest

/// The API's JSON, as kube-apiserver writes it (compact, list items without kind), decoded by the
/// manifest rules into store entries.
final class APIResponseDecoderTests: XCTestCase {
    private let services = APIResponseDecoder(resource: .services)
    private let slices = APIResponseDecoder(resource: .endpointSlices)

    func testServiceListPageWithContinueToken() throws {
        let page = try services.decodeList("""
            {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"4711","continue":"eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ=="},"items":[\
            {"metadata":{"name":"web","namespace":"shop","uid":"0b0e","resourceVersion":"4700","labels":{"app":"web"}},\
            "spec":{"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080}],"selector":{"app":"web"},\
            "clusterIP":"10.96.4.2","clusterIPs":["10.96.4.2","fd00::4:2"],"type":"ClusterIP","ipFamilies":["IPv4","IPv6"]},"status":{"loadBalancer":{}}},\
            {"metadata":{"name":"db","namespace":"shop"},"spec":{"clusterIP":"None","ports":[{"port":5432}]}}]}
            """)
        XCTAssertEqual(page.resourceVersion, "4711")
        XCTAssertEqual(page.continueToken, "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ==")
        XCTAssertEqual(page.objects.keys.sorted(), ["shop/db", "shop/web"])
        guard case .service(let web) = page.objects["shop/web"] else { return XCTFail("web is a Service") }
        XCTAssertEqual(web.kind, .clusterIP([IPAddress("10.96.4.2")!, IPAddress("fd00::4:2")!]))
        XCTAssertEqual(web.ports, [ServicePort(name: "http", port: 80, proto: .tcp, targetPort: 8080)])
        XCTAssertNil(web.source, "API objects keep no manifest location")
        guard case .service(let db) = page.objects["shop/db"] else { return XCTFail("db is a Service") }
        XCTAssertEqual(db.kind, .headless)
    }

    func testLastPageHasNoContinueToken() throws {
        let page = try services.decodeList(#"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":""},"items":[]}"#)
        XCTAssertNil(page.continueToken)
        XCTAssertTrue(page.objects.isEmpty)
    }

    func testAnItemWithErrorsIsLeftOutAndReported() throws {
        let page = try services.decodeList("""
            {"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"bad","namespace":"a"},"spec":{"clusterIP":"10.96.0.300"}},\
            {"metadata":{"name":"good","namespace":"a"},"spec":{"clusterIP":"10.96.0.3"}}]}
            """)
        XCTAssertEqual(page.objects.keys.sorted(), ["a/good"])
        XCTAssertEqual(page.errors.count, 1)
        XCTAssertTrue(page.errors[0].description.contains("/api/v1/services"), page.errors[0].description)
        XCTAssertTrue(page.errors[0].description.contains("spec.clusterIP"), page.errors[0].description)
    }

    func testAListWithoutResourceVersionIsMalformed() {
        XCTAssertThrowsError(try services.decodeList(#"{"items":[]}"#))
        XCTAssertThrowsError(try services.decodeList("not json at all: ["))
    }

    func testWatchEventsOfEveryKind() throws {
        let added = try slices.decodeEvent("""
            {"type":"ADDED","object":{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-abc12","namespace":"shop",\
            "resourceVersion":"12","labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4",\
            "endpoints":[{"addresses":["10.1.0.5"],"conditions":{"ready":true},"hostname":"web-0","targetRef":{"kind":"Pod","name":"web-0","namespace":"shop"}}],\
            "ports":[{"name":"http","protocol":"TCP","port":8080}]}}
            """)
        guard case .upsert(let key, let object?, let version) = added, case .endpoints(let group) = object else {
            return XCTFail("\(added)")
        }
        XCTAssertEqual(key, "shop/web-abc12", "slices are keyed by their own name, not their Service's")
        XCTAssertEqual(version, "12")
        XCTAssertEqual(group.serviceName, "web")
        XCTAssertEqual(group.endpoints, [Endpoint(addresses: [IPAddress("10.1.0.5")!], hostname: "web-0", podName: "web-0")])

        XCTAssertEqual(
            try services.decodeEvent(#"{"type":"DELETED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","resourceVersion":"13"}}}"#),
            .deleted(key: "shop/web", resourceVersion: "13"))
        XCTAssertEqual(
            try services.decodeEvent(#"{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"20"}}}"#),
            .bookmark(resourceVersion: "20"))
        XCTAssertEqual(
            try services.decodeEvent(#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 5 (10)","reason":"Expired","code":410}}"#),
            .error(code: 410, message: "too old resource version: 5 (10)"))
        let namespaces = APIResponseDecoder(resource: .namespaces)
        XCTAssertEqual(
            try namespaces.decodeEvent(#"{"type":"MODIFIED","object":{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"shop","resourceVersion":"21"},"status":{"phase":"Active"}}}"#),
            .upsert(key: "shop", object: .namespace(Namespace(name: "shop")), resourceVersion: "21"))
    }

    func testAModifiedObjectThatNoLongerDecodesIsRemoved() throws {
        let event = try services.decodeEvent(
            #"{"type":"MODIFIED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"web","namespace":"shop","resourceVersion":"3"},"spec":{"clusterIP":"nonsense"}}}"#)
        XCTAssertEqual(event, .upsert(key: "shop/web", object: nil, resourceVersion: "3"))
    }

    func testPodsKeepNoLabels() throws {
        let event = try APIResponseDecoder(resource: .pods).decodeEvent("""
            {"type":"ADDED","object":{"kind":"Pod","apiVersion":"v1","metadata":{"name":"web-0","namespace":"shop","labels":{"app":"web"}},\
            "spec":{"containers":[{"name":"c","image":"nginx"}]},"status":{"podIP":"10.1.0.5","podIPs":[{"ip":"10.1.0.5"}],\
            "conditions":[{"type":"Ready","status":"True"}]}}}
            """)
        guard case .upsert(_, .pod(let pod)?, _) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(pod.ips, [IPAddress("10.1.0.5")!])
        XCTAssertTrue(pod.labels.isEmpty)
    }

    func testUnknownEventTypesAndMissingObjectsAreMalformed() {
        XCTAssertThrowsError(try services.decodeEvent(#"{"type":"RENAMED","object":{"metadata":{"name":"x"}}}"#))
        XCTAssertThrowsError(try services.decodeEvent(#"{"type":"ADDED"}"#))
    }

    func testStatusMessageOfAnErrorBody() {
        XCTAssertEqual(
            APIResponseDecoder.statusMessage(#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"services is forbidden","reason":"Forbidden","code":403}"#),
            "services is forbidden")
        XCTAssertEqual(APIResponseDecoder.statusMessage("plain text"), "plain text")
    }

    func testLineSplitterJoinsChunksAndBoundsLines() throws {
        var splitter = LineSplitter(limit: 64)
        try splitter.append(ByteBuffer(string: "{\"a\":"))
        XCTAssertNil(splitter.next())
        try splitter.append(ByteBuffer(string: "1}\n\n{\"b\":2}\n{\"c\""))
        XCTAssertEqual(splitter.next(), "{\"a\":1}")
        XCTAssertEqual(splitter.next(), "{\"b\":2}")
        XCTAssertNil(splitter.next())
        try splitter.append(ByteBuffer(string: ":3}\n"))
        XCTAssertEqual(splitter.next(), "{\"c\":3}")
        XCTAssertThrowsError(try splitter.append(ByteBuffer(string: String(repeating: "x", count: 65))))
    }

    func testQueryEncodingEscapesContinueTokens() {
        XCTAssertEqual(
            KubernetesAPIClient.encode([("limit", "500"), ("continue", "a+b/c==")]), "?limit=500&continue=a%2Bb%2Fc%3D%3D")
        XCTAssertEqual(KubernetesAPIClient.encode([]), "")
    }
}

extension APIResponseDecoderTests {
    /// The API server writes empty slices as `"endpoints":null` and `"ports":null` (Go nil slices).
    func testNullListsInASliceMeanEmpty() throws {
        let event = try APIResponseDecoder(resource: .endpointSlices).decodeEvent("""
            {"type":"ADDED","object":{"kind":"EndpointSlice","apiVersion":"discovery.k8s.io/v1","metadata":{"name":"web-x","namespace":"shop",\
            "labels":{"kubernetes.io/service-name":"web"}},"addressType":"IPv4","endpoints":null,"ports":null}}
            """)
        guard case .upsert(_, .endpoints(let group)?, _) = event else { return XCTFail("\(event)") }
        XCTAssertTrue(group.endpoints.isEmpty)
        XCTAssertTrue(group.ports.isEmpty)
    }
}

extension APIResponseDecoderTests {
    /// The messages are the ones the Yams path gave (compact JSON is one line: line 1).
    func testErrorsOfALeftOutItemReadAsBefore() throws {
        let page = try APIResponseDecoder(resource: .services).decodeList(Array("""
            {"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"bad","namespace":"a"},\
            "spec":{"clusterIP":"10.96.0.300","ports":[{"port":"http"}]}}]}
            """.utf8))
        XCTAssertEqual(page.errors.map(\.description), [
            #"/api/v1/services: document 1, line 1, field spec.clusterIP: not an IP address: "10.96.0.300""#,
            #"/api/v1/services: document 1, line 1, field spec.ports[0].port: expected an integer 1…65535, got "http""#,
        ])
    }

    func testMalformedPagesNameTheProblem() {
        XCTAssertThrowsError(try services.decodeList(#"{"metadata":{"resourceVersion":"9"},"items":[{"metadata":{}}]}"#)) { error in
            XCTAssertEqual("\(error)", "malformed API response: /api/v1/services: list item without metadata.name")
        }
        XCTAssertThrowsError(try services.decodeList(#"{"items":[{"metadata":{}}]}"#)) { error in
            XCTAssertEqual("\(error)", "malformed API response: /api/v1/services: list without metadata.resourceVersion")
        }
        XCTAssertThrowsError(try services.decodeList(#"{"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"a"}},]}"#)) { error in
            XCTAssertEqual(
                "\(error)", #"malformed API response: /api/v1/services: JSON syntax error at line 1, byte 71: unexpected character "]""#)
        }
    }
}

extension APIResponseDecoderTests {
    /// The slice's `endpoints.kubernetes.io/last-change-trigger-time`, for the programming-latency metric.
    func testSlicesCarryTheirLastChangeTriggerTime() throws {
        let slice = FakeKubernetesAPIServer.endpointSlice(
            namespace: "shop", name: "web-x", service: "web", addresses: [("10.1.0.5", true, nil, nil)], ports: [],
            lastChangeTriggerTime: "2024-05-01T12:00:00.5Z")
        let event = try slices.decodeEvent(#"{"type":"ADDED","object":"# + slice + "}")
        guard case .upsert(_, .endpoints(let group)?, _) = event else { return XCTFail("\(event)") }
        XCTAssertEqual(group.lastChangeTriggerTime, 1_714_564_800.5)
        let plain = FakeKubernetesAPIServer.endpointSlice(
            namespace: "shop", name: "web-y", service: "web", addresses: [("10.1.0.6", true, nil, nil)], ports: [])
        guard case .upsert(_, .endpoints(let other)?, _) = try slices.decodeEvent(#"{"type":"ADDED","object":"# + plain + "}")
        else { return XCTFail("no group") }
        XCTAssertNil(other.lastChangeTriggerTime)
    }
}
