import ClusterRegistry
import DNSWire
import XCTest

/// The record builder's choices that the responder tables do not reach directly: where a
/// Service's endpoints come from.
final class ClusterRecordsBuilderTests: XCTestCase {
    private func zone(_ objects: [KubernetesObject]) -> ZoneModel {
        SnapshotBuilder.build(objects: objects, staticZones: [], configuration: RegistryConfiguration(), serial: 1).zones[0]
    }

    private func lines(_ zone: ZoneModel, _ name: String) throws -> [String] {
        try (zone.records(at: DomainName(name)) ?? []).map { "\($0.type) \($0.data)" }.sorted()
    }

    func testSelectorPodsBecomeEndpointsWithTargetPortAndSubdomainHostnames() throws {
        let service = Service(
            name: "db", namespace: "shop", kind: .headless,
            ports: [ServicePort(name: "sql", port: 5432, targetPort: 15432)], selector: ["app": "db"])
        let pods: [KubernetesObject] = [
            .pod(Pod(name: "db-0", namespace: "shop", labels: ["app": "db"], ips: [IPAddress("10.1.0.1")!],
                     hostname: "db-0", subdomain: "db")),
            .pod(Pod(name: "db-1", namespace: "shop", labels: ["app": "db"], ips: [IPAddress("10.1.0.2")!],
                     hostname: "db-1", subdomain: "other")),
            .pod(Pod(name: "db-2", namespace: "shop", labels: ["app": "db"], ips: [IPAddress("10.1.0.3")!], ready: false)),
            .pod(Pod(name: "web", namespace: "shop", labels: ["app": "web"], ips: [IPAddress("10.1.0.9")!])),
        ]
        let zone = zone([.service(service)] + pods)
        XCTAssertEqual(try lines(zone, "db.shop.svc.cluster.local").filter { $0.hasPrefix("A ") }.count, 2)
        // db-0's subdomain names this service, so its hostname is used; db-1's does not.
        XCTAssertEqual(try lines(zone, "db-0.db.shop.svc.cluster.local"), ["A a(10.1.0.1)"])
        XCTAssertEqual(try lines(zone, "10-1-0-2.db.shop.svc.cluster.local"), ["A a(10.1.0.2)"])
        XCTAssertNil(zone.records(at: try DomainName("10-1-0-3.db.shop.svc.cluster.local")), "not-ready pod served")
        XCTAssertNil(zone.records(at: try DomainName("10-1-0-9.db.shop.svc.cluster.local")), "unselected pod served")
        let srv = try lines(zone, "_sql._tcp.db.shop.svc.cluster.local")
        XCTAssertEqual(srv.count, 2)
        XCTAssertTrue(srv.allSatisfy { $0.contains("port: 15432") }, "\(srv)")
    }

    func testEndpointSlicesWinOverEndpointsAndPods() throws {
        let service = Service(name: "api", namespace: "shop", kind: .headless, selector: ["app": "api"])
        let slice = EndpointGroup(
            serviceName: "api", namespace: "shop", origin: .endpointSlice,
            endpoints: [Endpoint(addresses: [IPAddress("10.2.0.1")!])], ports: [])
        let legacy = EndpointGroup(
            serviceName: "api", namespace: "shop", origin: .endpoints,
            endpoints: [Endpoint(addresses: [IPAddress("10.2.0.2")!])], ports: [])
        let pod = Pod(name: "api-1", namespace: "shop", labels: ["app": "api"], ips: [IPAddress("10.2.0.3")!])
        let zone = zone([.service(service), .endpoints(legacy), .endpoints(slice), .pod(pod)])
        XCTAssertEqual(try lines(zone, "api.shop.svc.cluster.local"), ["A a(10.2.0.1)"])
        let withoutSlice = self.zone([.service(service), .endpoints(legacy), .pod(pod)])
        XCTAssertEqual(try lines(withoutSlice, "api.shop.svc.cluster.local"), ["A a(10.2.0.2)"])
    }
}
