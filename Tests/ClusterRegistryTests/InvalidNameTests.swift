@testable import ClusterRegistry
import DNSWire
import XCTest

/// Issue #11 item 10: objects the API server would refuse are not served, and say why.
final class InvalidNameTests: XCTestCase {
    private func build(_ services: [Service]) -> (names: Set<String>, warnings: [String]) {
        let built = ClusterRecordsBuilder.build(
            objects: services.map(KubernetesObject.service), configuration: RegistryConfiguration(), serial: 1)
        return (Set(built.zones[0].nodes.keys.map(\.description)), built.warnings)
    }

    func testServiceAndNamespaceNamesMustBeLabels() {
        let ip = IPAddress.v4(0x0A00_0001)
        for (name, namespace) in [("a.b", "shop"), ("has space", "shop"), ("9lives", "shop"), ("web", "a.b"), ("web", "-shop")] {
            let built = build([Service(name: name, namespace: namespace, kind: .clusterIP([ip]))])
            XCTAssertFalse(built.names.contains { $0.hasPrefix("\(name).") }, "\(namespace)/\(name) served: \(built.names)")
            XCTAssertTrue(built.warnings.contains { $0.contains("\(namespace)/\(name)") && $0.contains("not a valid DNS label") },
                          "\(built.warnings)")
        }
        let valid = build([Service(name: "web-1", namespace: "9shop", kind: .clusterIP([ip]))])
        XCTAssertTrue(valid.names.contains("web-1.9shop.svc.cluster.local."), "a namespace may start with a digit")
        XCTAssertEqual(valid.warnings, [])
    }

    func testExternalNameToItselfIsNotServed() {
        let built = build([Service(name: "loop", namespace: "shop", kind: .externalName("LOOP.shop.svc.cluster.local."))])
        XCTAssertFalse(built.names.contains("loop.shop.svc.cluster.local."))
        XCTAssertTrue(built.warnings.contains { $0.contains("shop/loop") && $0.contains("own name") }, "\(built.warnings)")
    }

    /// Item 10: two manifests declaring `default/kubernetes` used to serve both ClusterIPs.
    func testServiceDeclaredTwiceServesTheFirstAndSaysWhere() throws {
        let first = Service(
            name: "kubernetes", namespace: "default", kind: .clusterIP([.v4(0x0A60_0001)]),
            source: SourceLocation(file: "a.yaml", document: 0, line: 1))
        let second = Service(
            name: "kubernetes", namespace: "default", kind: .clusterIP([.v4(0x0A60_0002)]),
            source: SourceLocation(file: "b.yaml", document: 2, line: 30))
        let built = ClusterRecordsBuilder.build(
            objects: [.service(first), .service(second)], configuration: RegistryConfiguration(), serial: 1)
        let records = built.zones[0].records(at: try DomainName("kubernetes.default.svc.cluster.local.")) ?? []
        XCTAssertEqual(records.filter { $0.type == .a }.map(\.data), [.a(.v4(0x0A60_0001))])
        XCTAssertTrue(built.warnings.contains {
            $0.contains("default/kubernetes") && $0.contains("b.yaml: document 3, line 30") && $0.contains("a.yaml: document 1, line 1")
        }, "\(built.warnings)")
    }
}
