@testable import ClusterRegistry
import DNSWire
import XCTest

/// Large registries (forced here for a small one) are compiled by two workers whose arenas are then joined: every name must
/// get byte-for-byte the answers a single compiler gives it, with offsets, RRset boundaries and
/// ExternalName targets moved correctly.
final class SnapshotCompilerParallelTests: XCTestCase {
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

    func testParallelCompileGivesEveryNameTheSequentialAnswers() throws {
        let configuration = RegistryConfiguration()
        let zones = ClusterRecordsBuilder.build(objects: Self.objects(), configuration: configuration, serial: 7).zones
        var sequential = SnapshotCompiler(zones: zones, configuration: configuration)
        sequential.compile(parallel: false)
        var parallel = SnapshotCompiler(zones: zones, configuration: configuration)
        parallel.compile(parallel: true)
        XCTAssertEqual(Set(sequential.keys), Set(parallel.keys))
        XCTAssertEqual(sequential.keys.count, parallel.keys.count, "no name twice")

        let one = sequential.makeSnapshot(statistics: RegistryStatistics(), podNamespaces: [:], clusterSynced: true)
        let two = parallel.makeSnapshot(statistics: RegistryStatistics(), podNamespaces: [:], clusterSynced: true)
        var externals = 0
        var mismatches: [String] = []
        for key in sequential.keys {
            let (left, right) = key.withUnsafeBytes { (one.entry(for: $0), two.entry(for: $0)) }
            guard let a = left, let b = right, a.zone == b.zone, a.synthesizesPods == b.synthesizesPods,
                  a.answers.count == b.answers.count
            else {
                mismatches.append("entry of \(key)")
                continue
            }
            for (x, y) in zip(a.answers.map { one.answers[$0] }, b.answers.map { two.answers[$0] }) {
                let same = x.type == y.type && Self.bytes(x, one) == Self.bytes(y, two)
                    && x.rrsetBoundaries.map { one.boundaries[$0] } == y.rrsetBoundaries.map { two.boundaries[$0] }
                    && x.externalTarget.map { one.externalTargets[$0] } == y.externalTarget.map { two.externalTargets[$0] }
                if !same { mismatches.append("\(key) \(x.type)") }
                if x.externalTarget != nil { externals += 1 }
            }
        }
        XCTAssertEqual(mismatches.prefix(5), [], "\(mismatches.count) answers differ")
        XCTAssertGreaterThan(externals, 0, "ExternalName targets were compared")
        XCTAssertEqual(Set(one.externalTargets), Set(two.externalTargets))
        XCTAssertEqual(two.externalTargets.count, Set(two.externalTargets).count, "joined targets stay unique")
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

    private static func bytes(_ answer: PreparedAnswer, _ snapshot: RegistrySnapshot) -> [UInt8] {
        let end = answer.start + answer.answerLength + answer.authorityLength + answer.additionalLength
        return Array(snapshot.answerBytes[answer.start..<end])
    }
}
