@testable import ClusterRegistry
import DNSWire
import XCTest

/// Large registries (forced here for a small one) build their records in two shares that are
/// then merged: the result must be the records one builder makes. (The compiled answers of a
/// parallel build are compared in `IncrementalEquivalenceTests`.)
final class ClusterRecordsBuilderParallelTests: XCTestCase {
    private static func objects() -> [KubernetesObject] {
        var objects: [KubernetesObject] = []
        for namespace in 0..<2 {
            let ns = "ns-\(namespace)"
            objects.append(.namespace(Namespace(name: ns)))
            for index in 0..<200 {
                let name = "svc-\(index)"
                let ports = [ServicePort(name: "http", port: 80), ServicePort(name: "dns", port: 53, proto: .udp)]
                switch index % 10 {
                case 0:
                    objects.append(.service(Service(name: name, namespace: ns, kind: .headless, ports: ports)))
                    let endpoints = (0..<3).map {
                        Endpoint(addresses: [IPAddress.v4(0x0A01_0000 | UInt32(namespace << 12 | index << 2 | $0))], hostname: "web-\($0)")
                    }
                    objects.append(.endpoints(EndpointGroup(
                        serviceName: name, namespace: ns, origin: .endpointSlice, endpoints: endpoints,
                        ports: [EndpointPort(name: "http", port: 8080)])))
                case 5:
                    objects.append(.service(Service(name: name, namespace: ns, kind: .externalName("db-\(index % 7).example.com"))))
                default:
                    objects.append(.service(Service(
                        name: name, namespace: ns, kind: .clusterIP([.v4(0x0A60_0000 | UInt32(namespace << 12 | index))]), ports: ports)))
                }
            }
        }
        return objects
    }

    /// Records built by two shares of the services and merged are the records one builder makes.
    func testRecordsBuiltInTwoSharesEqualOneBuilders() {
        for pods in [RegistryConfiguration.PodMode.insecure, .verified] {
            let configuration = RegistryConfiguration(pods: pods)
            let one = ClusterRecordsBuilder.build(objects: Self.objects(), configuration: configuration, serial: 7, parallel: false)
            let two = ClusterRecordsBuilder.build(objects: Self.objects(), configuration: configuration, serial: 7, parallel: true)
            XCTAssertEqual(one.warnings, two.warnings)
            XCTAssertEqual(one.zones.count, two.zones.count)
            for (a, b) in zip(one.zones, two.zones) {
                XCTAssertEqual(a.apex, b.apex)
                XCTAssertEqual(a.nodes.count, b.nodes.count, "\(a.apex)")
                XCTAssertEqual(a.podNamespaces, b.podNamespaces)
                let differing = a.nodes.filter { name, records in Set(records) != Set(b.nodes[name] ?? []) }
                XCTAssertEqual(differing.count, 0, "\(a.apex): \(differing.keys.prefix(3))")
            }
        }
    }
}
