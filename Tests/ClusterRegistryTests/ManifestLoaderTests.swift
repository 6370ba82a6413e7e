import DNSWire
import Foundation
import XCTest

@testable import ClusterRegistry

final class ManifestLoaderTests: XCTestCase {
    // MARK: - Helpers

    private func parse(_ text: String, file: String = "test.yaml") throws -> ManifestSet {
        try ManifestLoader.parse(text: text, file: file)
    }

    /// The errors `parse` throws; fails the test when it does not throw.
    private func parseErrors(_ text: String, file: String = "test.yaml") -> [ManifestError] {
        do {
            let set = try ManifestLoader.parse(text: text, file: file)
            XCTFail("expected errors, got \(set.objects.count) objects")
            return []
        } catch {
            return error.errors
        }
    }

    private func assertError(
        _ error: ManifestError?, file: String = "test.yaml", document: Int, line: Int?, field: String,
        message: String? = nil, sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        guard let error else { return XCTFail("no error", file: sourceFile, line: sourceLine) }
        XCTAssertEqual(error.location, SourceLocation(file: file, document: document, line: line),
                       "\(error)", file: sourceFile, line: sourceLine)
        XCTAssertEqual(error.field, field, "\(error)", file: sourceFile, line: sourceLine)
        if let message {
            XCTAssertEqual(error.message, message, "\(error)", file: sourceFile, line: sourceLine)
        }
    }

    private func services(_ set: ManifestSet) -> [Service] {
        set.objects.compactMap { if case .service(let service) = $0 { return service } else { return nil } }
    }

    private func groups(_ set: ManifestSet) -> [EndpointGroup] {
        set.objects.compactMap { if case .endpoints(let group) = $0 { return group } else { return nil } }
    }

    private func pods(_ set: ManifestSet) -> [Pod] {
        set.objects.compactMap { if case .pod(let pod) = $0 { return pod } else { return nil } }
    }

    private func ip(_ text: String) -> IPAddress {
        guard let address = IPAddress(text) else { fatalError("bad test address \(text)") }
        return address
    }

    private func makeDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "manifest-loader-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func write(_ text: String, to path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: false, encoding: .utf8)
    }

    private func serviceYAML(_ name: String, namespace: String = "default", ip: String = "10.96.0.1") -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: \(namespace)
        spec:
          clusterIP: \(ip)
          ports:
          - port: 80

        """
    }

    // MARK: - Kinds

    func testService() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
              labels: {app: web}
            spec:
              type: LoadBalancer
              clusterIP: 10.96.0.10
              clusterIPs: [10.96.0.10, "fd00::10"]
              selector:
                app: web
              publishNotReadyAddresses: true
              ports:
              - name: http
                port: 80
                targetPort: 8080
              - name: dns
                port: 53
                protocol: UDP
              - port: 9000
                protocol: SCTP
            """)
        XCTAssertEqual(services(set), [Service(
            name: "web", namespace: "shop", kind: .clusterIP([ip("10.96.0.10"), ip("fd00::10")]),
            ports: [
                ServicePort(name: "http", port: 80, proto: .tcp, targetPort: 8080),
                ServicePort(name: "dns", port: 53, proto: .udp),
                ServicePort(name: nil, port: 9000, proto: .sctp),
            ],
            selector: ["app": "web"], publishNotReadyAddresses: true,
            source: SourceLocation(file: "test.yaml", document: 0, line: 1)
        )])
        XCTAssertEqual(set.fileCount, 1)
        XCTAssertEqual(set.skippedKinds, [:])
    }

    func testServiceDefaults() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Service
            metadata: {name: plain}
            spec:
              clusterIP: 10.96.0.11
              ports: [{port: 443}]
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: unapplied
              namespace: ""
            spec:
              type: NodePort
              selector: {}
            """)
        XCTAssertEqual(services(set), [
            Service(name: "plain", namespace: "default", kind: .clusterIP([ip("10.96.0.11")]),
                    ports: [ServicePort(name: nil, port: 443, proto: .tcp)], selector: nil,
                    publishNotReadyAddresses: false, source: SourceLocation(file: "test.yaml", document: 0, line: 1)),
            // No clusterIP yet: an empty list, not headless.
            Service(name: "unapplied", namespace: "default", kind: .clusterIP([]), ports: [], selector: nil,
                    source: SourceLocation(file: "test.yaml", document: 1, line: 8)),
        ])
    }

    func testHeadlessAndExternalNameServices() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Service
            metadata: {name: db, namespace: data}
            spec:
              clusterIP: None
              selector: {app: db}
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: db2, namespace: data}
            spec:
              clusterIPs: ["None"]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: search, namespace: data}
            spec:
              type: ExternalName
              externalName: search.example.com.
            """)
        XCTAssertEqual(services(set).map(\.kind), [.headless, .headless, .externalName("search.example.com")])
        XCTAssertEqual(services(set).first?.selector, ["app": "db"])
    }

    func testNamespace() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Namespace
            metadata:
              name: shop
            """)
        XCTAssertEqual(set.objects, [.namespace(Namespace(name: "shop"))])
    }

    func testEndpoints() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Endpoints
            metadata:
              name: db
              namespace: data
            subsets:
            - addresses:
              - ip: 10.1.0.1
                hostname: db-0
                targetRef: {kind: Pod, name: db-0, namespace: data}
              - ip: 10.1.0.2
                targetRef: {kind: Node, name: node-1}
              notReadyAddresses:
              - ip: 10.1.0.3
              ports:
              - name: pg
                port: 5432
            - addresses:
              - ip: "fd00::1"
              ports:
              - port: 9187
                protocol: UDP
            """)
        let source = SourceLocation(file: "test.yaml", document: 0, line: 1)
        XCTAssertEqual(groups(set), [
            EndpointGroup(
                serviceName: "db", namespace: "data", origin: .endpoints,
                endpoints: [
                    Endpoint(addresses: [ip("10.1.0.1")], hostname: "db-0", podName: "db-0", ready: true),
                    Endpoint(addresses: [ip("10.1.0.2")], hostname: nil, podName: nil, ready: true),
                    Endpoint(addresses: [ip("10.1.0.3")], hostname: nil, podName: nil, ready: false),
                ],
                ports: [EndpointPort(name: "pg", port: 5432, proto: .tcp)], source: source
            ),
            EndpointGroup(
                serviceName: "db", namespace: "data", origin: .endpoints,
                endpoints: [Endpoint(addresses: [ip("fd00::1")])],
                ports: [EndpointPort(name: nil, port: 9187, proto: .udp)], source: source
            ),
        ])
    }

    func testEndpointSlices() throws {
        let set = try parse("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-abc
              labels:
                kubernetes.io/service-name: web
            addressType: IPv4
            endpoints:
            - addresses: [10.2.0.1]
              hostname: web-0
              targetRef: {kind: Pod, name: web-0}
            - addresses: [10.2.0.2, 10.2.0.3]
              conditions: {ready: false, serving: true}
            - addresses: [10.2.0.4]
              conditions: {ready: null}
            ports:
            - name: http
              port: 8080
            - name: all
            ---
            apiVersion: discovery.k8s.io/v1beta1
            kind: EndpointSlice
            metadata:
              name: web-v6
              namespace: shop
              labels: {kubernetes.io/service-name: web}
            addressType: IPv6
            endpoints:
            - addresses: ["fd00::2"]
              conditions: {ready: true}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: web-fqdn
              labels: {kubernetes.io/service-name: web}
            addressType: FQDN
            endpoints:
            - addresses: [db.example.com]
            ports: [{port: 80, protocol: TCP}]
            """)
        XCTAssertEqual(groups(set), [
            EndpointGroup(
                serviceName: "web", namespace: "default", origin: .endpointSlice,
                endpoints: [
                    Endpoint(addresses: [ip("10.2.0.1")], hostname: "web-0", podName: "web-0", ready: true),
                    Endpoint(addresses: [ip("10.2.0.2"), ip("10.2.0.3")], ready: false),
                    Endpoint(addresses: [ip("10.2.0.4")], ready: true),
                ],
                ports: [EndpointPort(name: "http", port: 8080, proto: .tcp)],
                source: SourceLocation(file: "test.yaml", document: 0, line: 1)
            ),
            EndpointGroup(
                serviceName: "web", namespace: "shop", origin: .endpointSlice,
                endpoints: [Endpoint(addresses: [ip("fd00::2")])], ports: [],
                source: SourceLocation(file: "test.yaml", document: 1, line: 21)
            ),
            EndpointGroup(
                serviceName: "web", namespace: "default", origin: .endpointSlice, endpoints: [],
                ports: [EndpointPort(name: nil, port: 80, proto: .tcp)],
                source: SourceLocation(file: "test.yaml", document: 2, line: 32)
            ),
        ])
    }

    func testPods() throws {
        let set = try parse("""
            apiVersion: v1
            kind: Pod
            metadata:
              name: web-0
              namespace: shop
              labels: {app: web, tier: "1"}
            spec:
              hostname: web-0
              subdomain: web
            status:
              podIP: 10.3.0.1
              podIPs:
              - ip: 10.3.0.1
              - ip: "fd00::3:1"
              conditions:
              - {type: PodScheduled, status: "True"}
              - {type: Ready, status: "True"}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: solo}
            status:
              podIP: 10.3.0.2
              conditions:
              - type: Ready
                status: "False"
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: bare}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: pending}
            status:
              conditions: [{type: PodScheduled, status: "False"}]
            """)
        XCTAssertEqual(pods(set), [
            Pod(name: "web-0", namespace: "shop", labels: ["app": "web", "tier": "1"],
                ips: [ip("10.3.0.1"), ip("fd00::3:1")], hostname: "web-0", subdomain: "web", ready: true,
                source: SourceLocation(file: "test.yaml", document: 0, line: 1)),
            Pod(name: "solo", namespace: "default", ips: [ip("10.3.0.2")], ready: false,
                source: SourceLocation(file: "test.yaml", document: 1, line: 19)),
            Pod(name: "bare", namespace: "default", ips: [], ready: true,
                source: SourceLocation(file: "test.yaml", document: 2, line: 28)),
            Pod(name: "pending", namespace: "default", ips: [], ready: false,
                source: SourceLocation(file: "test.yaml", document: 3, line: 32)),
        ])
    }

    // MARK: - Containers and formats

    func testListItemsAreDecodedAndSkippedKindsCounted() throws {
        let set = try parse("""
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: shop}
            - apiVersion: apps/v1
              kind: Deployment
              metadata: {name: web}
            - apiVersion: v1
              kind: Service
              metadata: {name: web, namespace: shop}
              spec: {clusterIP: 10.96.1.1}
            """)
        XCTAssertEqual(set.objects.count, 2)
        XCTAssertEqual(set.objects.first, .namespace(Namespace(name: "shop")))
        XCTAssertEqual(services(set).first?.source, SourceLocation(file: "test.yaml", document: 0, line: 10))
        XCTAssertEqual(set.skippedKinds, ["Deployment": 1])
    }

    func testTypedListItemsInheritKind() throws {
        let set = try parse("""
            apiVersion: v1
            kind: ServiceList
            items:
            - metadata: {name: a}
              spec: {clusterIP: 10.96.2.1}
            - metadata: {name: b}
              spec: {clusterIP: 10.96.2.2}
            """)
        XCTAssertEqual(services(set).map(\.name), ["a", "b"])
    }

    func testSkippedKindsAreCountedNotErrors() throws {
        let set = try parse("""
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: a}
            data: {key: value}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: b}
            ---
            apiVersion: serving.knative.dev/v1
            kind: Service
            metadata: {name: knative}
            spec: {template: {}}
            """)
        XCTAssertEqual(set.objects, [])
        XCTAssertEqual(set.skippedKinds, ["Deployment": 1, "ConfigMap": 2, "Service (serving.knative.dev/v1)": 1])
    }

    func testJSON() throws {
        let set = try parse("""
            {
              "apiVersion": "v1",
              "kind": "Service",
              "metadata": {"name": "api", "namespace": "shop"},
              "spec": {
                "clusterIPs": ["10.96.3.1"],
                "ports": [{"name": "https", "port": 443, "protocol": "TCP"}],
                "publishNotReadyAddresses": false
              }
            }
            """, file: "api.json")
        XCTAssertEqual(services(set), [Service(
            name: "api", namespace: "shop", kind: .clusterIP([ip("10.96.3.1")]),
            ports: [ServicePort(name: "https", port: 443)],
            source: SourceLocation(file: "api.json", document: 0, line: 1)
        )])
    }

    func testMultipleDocumentsWithEmptyOnesAndComments() throws {
        let set = try parse("""
            # leading comment
            ---
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: one}
            ---
            # only a comment
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: two}
            ...
            """)
        XCTAssertEqual(set.objects, [.namespace(Namespace(name: "one")), .namespace(Namespace(name: "two"))])
        XCTAssertTrue(try parse("").objects.isEmpty)
        XCTAssertTrue(try parse("# nothing here\n").objects.isEmpty)
    }

    // MARK: - Errors

    func testBadPort() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              ports:
              - name: http
                port: 80
              - name: admin
                port: http
              - port: 70000
            """)
        XCTAssertEqual(errors.count, 2)
        assertError(errors.first, document: 0, line: 10, field: "spec.ports[1].port",
                    message: "expected an integer 1…65535, got \"http\"")
        assertError(errors.last, document: 0, line: 11, field: "spec.ports[2].port",
                    message: "expected an integer 1…65535, got \"70000\"")
    }

    func testBadIPAddress() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: fine}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: web
            spec:
              clusterIPs:
              - 10.96.0.1
              - 10.0.0.300
            """)
        XCTAssertEqual(errors.count, 1)
        assertError(errors.first, document: 1, line: 12, field: "spec.clusterIPs[1]",
                    message: "not an IP address: \"10.0.0.300\"")
    }

    func testMissingName() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: Service
            metadata:
              namespace: shop
            spec: {}
            """)
        XCTAssertEqual(errors.count, 1)
        assertError(errors.first, document: 0, line: 4, field: "metadata.name", message: "required field is missing")
        let noMetadata = parseErrors("apiVersion: v1\nkind: Pod\n")
        assertError(noMetadata.first, document: 0, line: 1, field: "metadata", message: "required field is missing")
    }

    func testYAMLSyntaxError() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: Namespace
            metadata: {name: ok}
            ---
            apiVersion: v1
            kind: Service
            metadata:
              name: "unterminated
            spec: {}
            """)
        XCTAssertEqual(errors.count, 1)
        // libyaml's problem mark (the end of the stream here); its context names the opening line.
        assertError(errors.first, document: 1, line: 9, field: "", message:
            "YAML syntax error: found unexpected end of stream (while scanning a quoted scalar at line 8)")
        let badIndent = parseErrors("a: b\n c: d\n")
        assertError(badIndent.first, document: 0, line: 2, field: "")
    }

    /// Issue #11: every input bounded. Too many ports or endpoints is an error naming the
    /// file, document, line and field; at the bound, the object loads.
    func testPortAndEndpointLimits() throws {
        func service(ports: Int) -> String {
            "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  clusterIP: 10.96.0.1\n  ports:\n"
                + (0..<ports).map { "  - {name: p\($0), port: \(1 + $0)}\n" }.joined()
        }
        let tooMany = parseErrors(service(ports: ManifestDecoder.maxServicePorts + 1))
        assertError(tooMany.first, document: 0, line: 7, field: "spec.ports",
                    message: "1001 ports; a Service may have at most 1000")
        XCTAssertEqual(services(try parse(service(ports: ManifestDecoder.maxServicePorts))).first?.ports.count, 1_000)

        func slice(ports: Int, endpoints: Int) -> String {
            "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: web-1\n"
                + "  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints:\n"
                + (0..<endpoints).map { "- addresses: [10.1.\($0 / 256).\($0 % 256)]\n" }.joined()
                + "ports:\n" + (0..<ports).map { "- {name: p\($0), port: \(1 + $0)}\n" }.joined()
        }
        assertError(parseErrors(slice(ports: 101, endpoints: 1)).first, document: 0, line: 10, field: "ports",
                    message: "101 items; an EndpointSlice may have at most 100")
        assertError(parseErrors(slice(ports: 1, endpoints: 1_001)).first, document: 0, line: 8, field: "endpoints",
                    message: "1001 items; an EndpointSlice may have at most 1000")
        let atBounds = groups(try parse(slice(ports: 100, endpoints: 1_000)))
        XCTAssertEqual(atBounds.first?.ports.count, 100)
        XCTAssertEqual(atBounds.first?.endpoints.count, 1_000)
    }

    func testDuplicateKeys() {
        let errors = parseErrors("apiVersion: v1\nkind: Namespace\nkind: Pod\n")
        XCTAssertEqual(errors.count, 1)
        XCTAssertTrue(errors.first?.message.contains("duplicate key \"kind\"") == true, "\(errors)")
    }

    func testMissingServiceNameLabel() {
        let errors = parseErrors("""
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: orphan-abc
              labels:
                app: orphan
            addressType: IPv4
            endpoints: []
            """)
        XCTAssertEqual(errors.count, 1)
        assertError(errors.first, document: 0, line: 6, field: "metadata.labels[\"kubernetes.io/service-name\"]")
    }

    func testErrorsInListItemsLocateTheItem() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: List
            items:
            - apiVersion: v1
              kind: Namespace
              metadata: {name: ok}
            - apiVersion: v1
              kind: Service
              metadata: {name: bad}
              spec:
                ports: [{port: 0}]
            - kind: Pod
              metadata: {name: noversion}
            """)
        XCTAssertEqual(errors.count, 2)
        assertError(errors.first, document: 0, line: 11, field: "items[1].spec.ports[0].port")
        assertError(errors.last, document: 0, line: 12, field: "items[2].apiVersion",
                    message: "required field is missing (not a Kubernetes object)")
    }

    func testFieldTypeAndValueErrors() {
        let errors = parseErrors("""
            apiVersion: v1
            kind: Service
            metadata: {name: web}
            spec:
              type: Magic
              ports: {port: 80}
              selector: [app]
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: ext}
            spec: {type: ExternalName}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: s
              labels: {kubernetes.io/service-name: s}
            addressType: IPv4
            endpoints:
            - addresses: ["fd00::1"]
              conditions: {ready: maybe}
            ports: [{port: 80, protocol: tcp}]
            ---
            - just a list
            """)
        XCTAssertEqual(errors.map(\.field), [
            "spec.type", "spec.ports", "spec.selector", "spec.externalName",
            "endpoints[0].addresses[0]", "endpoints[0].conditions.ready", "ports[0].protocol", "",
        ], "\(errors)")
        XCTAssertEqual(errors.map(\.location.document), [0, 0, 0, 1, 2, 2, 2, 3])
        XCTAssertEqual(errors.map(\.location.line), [5, 6, 7, 12, 21, 22, 23, 25])
        XCTAssertEqual(errors[1].message, "expected a list, got a mapping")
        XCTAssertEqual(errors[6].message, "expected TCP, UDP or SCTP, got \"tcp\"")
    }

    func testErrorDescriptionIsOneLinePerError() {
        let error = ManifestLoadError(errors: [
            ManifestError(location: SourceLocation(file: "a.yaml", document: 0, line: 3), field: "spec.ports[0].port",
                          message: "expected an integer 1…65535, got \"x\""),
            ManifestError(location: SourceLocation(file: "b.yaml", document: 2), field: "", message: "boom"),
        ])
        // Documents are counted from 1 in messages, like lines.
        XCTAssertEqual(error.description, """
            a.yaml: document 1, line 3, field spec.ports[0].port: expected an integer 1…65535, got "x"
            b.yaml: document 3: boom
            """)
    }

    // MARK: - Directories

    func testDirectoryWalk() throws {
        let root = try makeDirectory()
        try write(serviceYAML("b", ip: "10.96.0.2"), to: root + "/b.yaml")
        try write(serviceYAML("a", ip: "10.96.0.1"), to: root + "/a.yml")
        try write(serviceYAML("nested", ip: "10.96.0.3"), to: root + "/sub/deeper/c.YAML")
        try write(#"{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fromjson"}}"#,
                  to: root + "/sub/ns.json")
        try write("not: [valid", to: root + "/.hidden/broken.yaml")
        try write("not: [valid", to: root + "/.broken.yaml")
        try write("not: [valid", to: root + "/notes.txt")
        // A mounted ConfigMap: visible links into a hidden, atomically swapped directory.
        try write(serviceYAML("mounted", ip: "10.96.0.4"), to: root + "/cm/..2024_01_01/m.yaml")
        try FileManager.default.createSymbolicLink(atPath: root + "/cm/..data", withDestinationPath: "..2024_01_01")
        try FileManager.default.createSymbolicLink(atPath: root + "/cm/m.yaml", withDestinationPath: "..data/m.yaml")
        // A link back up must not loop (or load a file twice).
        try FileManager.default.createSymbolicLink(atPath: root + "/sub/up", withDestinationPath: "..")

        let set = try ManifestLoader.load(directory: root + "/")
        XCTAssertEqual(set.fileCount, 5)
        XCTAssertEqual(set.objects.map(\.namespaceName), ["default", "default", "default", "default", "fromjson"])
        XCTAssertEqual(services(set).map(\.name), ["a", "b", "mounted", "nested"])
        XCTAssertEqual(services(set).map { $0.source?.file }, [
            root + "/a.yml", root + "/b.yaml", root + "/cm/m.yaml", root + "/sub/deeper/c.YAML",
        ])
    }

    func testErrorsFromSeveralFilesAreAllReported() throws {
        let root = try makeDirectory()
        try write(serviceYAML("ok"), to: root + "/a.yaml")
        try write(serviceYAML("bad", ip: "300.1.1.1"), to: root + "/b.yaml")
        try write("---\n" + serviceYAML("worse", ip: "nope"), to: root + "/sub/c.yaml")
        try write("kind: [", to: root + "/d.json")
        do {
            _ = try ManifestLoader.load(directory: root)
            XCTFail("expected errors")
        } catch {
            XCTAssertEqual(error.errors.count, 3, "\(error)")
            assertError(error.errors[0], file: root + "/b.yaml", document: 0, line: 7, field: "spec.clusterIP",
                        message: "not an IP address: \"300.1.1.1\"")
            assertError(error.errors[1], file: root + "/d.json", document: 0, line: 2, field: "")
            assertError(error.errors[2], file: root + "/sub/c.yaml", document: 0, line: 8, field: "spec.clusterIP",
                        message: "not an IP address: \"nope\"")
            XCTAssertEqual(error.description.split(separator: "\n").count, 3)
        }
    }

    func testMissingDirectoryIsAnError() {
        XCTAssertThrowsError(try ManifestLoader.load(directory: "/nonexistent/manifests")) { error in
            XCTAssertEqual((error as? ManifestLoadError)?.errors.first?.location.file, "/nonexistent/manifests")
        }
    }

    func testManyFilesLoadInSortedOrder() throws {
        let root = try makeDirectory()
        for file in 0..<20 {
            var text = ""
            for index in 0..<10 {
                let number = file * 10 + index
                text += serviceYAML("svc-\(number)", namespace: "ns\(number % 3)", ip: "10.96.\(file).\(index + 1)")
                text += """
                    ---
                    apiVersion: discovery.k8s.io/v1
                    kind: EndpointSlice
                    metadata:
                      name: svc-\(number)-x
                      namespace: ns\(number % 3)
                      labels: {kubernetes.io/service-name: svc-\(number)}
                    addressType: IPv4
                    endpoints:
                    - addresses: [10.1.\(file).\(index + 1)]
                    ports: [{name: http, port: 8080}]
                    ---

                    """
            }
            try write(text, to: root + "/" + String(format: "f%03d.yaml", file))
        }
        let set = try ManifestLoader.load(directory: root)
        XCTAssertEqual(set.fileCount, 20)
        XCTAssertEqual(services(set).map(\.name), (0..<200).map { "svc-\($0)" })
        XCTAssertEqual(groups(set).map(\.serviceName), (0..<200).map { "svc-\($0)" })
        XCTAssertEqual(groups(set).last?.source, SourceLocation(file: root + "/f019.yaml", document: 19, line: 200))
    }
}
