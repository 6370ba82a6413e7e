@testable import ClusterRegistry
import DNSTestSupport
import DNSWire
import XCTest

/// `ServiceAnswers` writes a plain Service's answers (ClusterIP or headless) byte by byte. A full build that
/// uses it must equal the reference build, which compiles every name from one zone model,
/// byte for byte. The seeded Services vary everything the writer reads: address families
/// and their order, repeated addresses, named and unnamed ports, upper-case port names, two
/// ports at one SRV name, repeated port numbers, protocols, the TTL, the cluster domain and
/// reverse zones; endpoints named every way, sharing addresses now and then.
final class ServiceAnswersTests: XCTestCase {
    func testFullBuildWithWrittenAnswersEqualsTheWholeModel() throws {
        let configurations = [
            RegistryConfiguration(),
            RegistryConfiguration(domain: try DomainName("corp.internal"), ttl: 30, reverse: false),
            RegistryConfiguration(domain: try DomainName("Cluster.Example"), ttl: 70_000, pods: .verified, endpointPodNames: true),
        ]
        var written = 0, writtenWithEndpoints = 0, writtenHeadless = 0, declined = 0
        for (index, configuration) in configurations.enumerated() {
            for seed in UInt64(index * 10)..<UInt64(index * 10 + 5) {
                var random = SplitMix64(seed: seed)
                let changes = (0..<120).map { Self.randomChange(&random, number: $0) }
                let reference = SegmentedRegistry(
                    configuration: configuration, staticZones: [], changes: changes, serial: 7, clusterSynced: true,
                    parallel: false, method: .wholeModel)
                for parallel in [false, true] {
                    let built = SegmentedRegistry(
                        configuration: configuration, staticZones: [], changes: changes, serial: 7, clusterSynced: true,
                        parallel: parallel)
                    let context = "configuration \(index), seed \(seed), parallel \(parallel)"
                    XCTAssertEqual(SnapshotComparison.differences(built.snapshot(), reference.snapshot()), [], context)
                    XCTAssertEqual(built.snapshot().statistics, reference.snapshot().statistics, context)
                }
                // Both ways were taken: the comparison covers the writer and its refusals.
                var writer = ServiceAnswers(
                    ttl: configuration.ttl, reverse: configuration.reverse, endpointPodNames: configuration.endpointPodNames)
                var compiler = SnapshotCompiler(layout: reference.layout)
                for unit in reference.objects.serviceUnits {
                    guard let plain = ServiceUnitNodes.plainService(unit, from: reference.objects) else { continue }
                    if writer.write(plain, into: &compiler) == nil {
                        declined += 1
                    } else {
                        written += 1
                        if !plain.endpoints.isEmpty { writtenWithEndpoints += 1 }
                        if plain.addresses == nil, !plain.endpoints.isEmpty { writtenHeadless += 1 }
                    }
                }
            }
        }
        XCTAssertGreaterThan(written, 200)
        XCTAssertGreaterThan(writtenWithEndpoints, 50)
        XCTAssertGreaterThan(writtenHeadless, 20)
        XCTAssertGreaterThan(declined, 100)
    }

    /// Shapes the writer leaves to the general path, and writes nothing for.
    func testDeclinesOtherShapes() throws {
        let configuration = RegistryConfiguration()
        let address = IPAddress.v4(0x0A00_0001)
        let cases: [(String, Service, [KubernetesObject])] = [
            ("an endpoint at a ClusterIP", Service(name: "a", namespace: "ns", kind: .clusterIP([address])), [
                .endpoints(EndpointGroup(
                    serviceName: "a", namespace: "ns", origin: .endpointSlice, endpoints: [Endpoint(addresses: [address])], ports: [])),
            ]),
            ("two endpoints of one name", Service(name: "a", namespace: "ns", kind: .clusterIP([address])), [
                .endpoints(EndpointGroup(
                    serviceName: "a", namespace: "ns", origin: .endpointSlice,
                    endpoints: [Endpoint(addresses: [.v4(2)], hostname: "db"), Endpoint(addresses: [.v4(3)], hostname: "db")], ports: [])),
            ]),
            ("more ports than an SRV answer surely holds", Service(
                name: "a", namespace: "ns", kind: .clusterIP([address]),
                ports: (0..<250).map { ServicePort(name: nil, port: 1_000 + $0) }), []),
            ("an upper-case hostname", Service(name: "a", namespace: "ns", kind: .clusterIP([address])), [
                .endpoints(EndpointGroup(
                    serviceName: "a", namespace: "ns", origin: .endpointSlice,
                    endpoints: [Endpoint(addresses: [.v4(2)], hostname: "DB")], ports: [])),
            ]),
            ("a repeated address", Service(name: "a", namespace: "ns", kind: .clusterIP([address, address])), []),
            ("a repeated port number", Service(
                name: "a", namespace: "ns", kind: .clusterIP([address]),
                ports: [ServicePort(name: "dns", port: 53, proto: .udp), ServicePort(name: "dns-tcp", port: 53)]), []),
            ("two ports at one SRV name", Service(
                name: "a", namespace: "ns", kind: .clusterIP([address]),
                ports: [ServicePort(name: "http", port: 80), ServicePort(name: "HTTP", port: 81)]), []),
        ]
        for (label, service, others) in cases {
            let changes = ([KubernetesObject.service(service)] + others).enumerated().map { index, object in
                ObjectChange(key: ObjectKey(origin: "\(label)/\(index)"), object: object)
            }
            let registry = SegmentedRegistry(configuration: configuration, staticZones: [], changes: changes, serial: 1)
            let plain = try XCTUnwrap(ServiceUnitNodes.plainService(ServiceUnit(namespace: "ns", name: "a"), from: registry.objects), label)
            var compiler = SnapshotCompiler(layout: registry.layout)
            var writer = ServiceAnswers(ttl: 5, reverse: true)
            XCTAssertNil(writer.write(plain, into: &compiler), label)
            XCTAssertTrue(compiler.entries.isEmpty && compiler.answerBytes.isEmpty, label)
        }
    }

    /// Where the writer is not used at all.
    func testAppliesOnlyWhereEveryAnswerHasTheFixedForm() throws {
        let cluster = try DomainName("cluster.local")
        func layout(_ apexes: [(String, ZoneModel.Kind)]) throws -> ZoneLayout {
            try ZoneLayout(apexes.map { text, kind in
                let apex = try DomainName(text)
                return ZoneModel(apex: apex, kind: kind, soa: ResourceRecord(name: apex, ttl: 5, data: .a(.v4(1))))
            })
        }
        let plain = try layout([("cluster.local", .cluster), ("in-addr.arpa", .reverse), ("ip6.arpa", .reverse), ("example.org", .file)])
        XCTAssertTrue(ServiceAnswers.applies(to: plain, collectsPointers: false))
        XCTAssertFalse(ServiceAnswers.applies(to: plain, collectsPointers: true), "--single-ptr keeps PTR records")
        var single = plain
        single.singlePointer = true
        XCTAssertFalse(ServiceAnswers.applies(to: single, collectsPointers: false))
        let fileBelow = try layout([("cluster.local", .cluster), ("in-addr.arpa", .reverse), ("ns.svc.cluster.local", .file)])
        XCTAssertFalse(ServiceAnswers.applies(to: fileBelow, collectsPointers: false), "SRV targets may be the file's")
        let arpa = try layout([("cluster.arpa", .cluster), ("in-addr.arpa", .reverse)])
        XCTAssertFalse(ServiceAnswers.applies(to: arpa, collectsPointers: false), "PTR targets would be compressed")
        XCTAssertEqual(cluster, plain.clusterDomain)
    }

    /// A Service (mostly ClusterIP, some headless) or a slice for one.
    private static func randomChange(_ random: inout SplitMix64, number: Int) -> ObjectChange {
        func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
        func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        let namespace = pick(["ns0", "ns1", "kube-system"])
        let name = "s\(Int.random(in: 0..<40, using: &random))"
        if chance(30) {
            // Endpoints named by address, hostname or pod; addresses now and then shared with
            // another endpoint or a ClusterIP; some not ready, some without an address.
            let endpoints = (0..<Int.random(in: 1..<4, using: &random)).map { index in
                // In no particular order: a headless Service's name lists them sorted.
                let low = UInt32.random(in: 0..<4096, using: &random)
                var addresses: [IPAddress] = chance(10) ? [] : [chance(10) ? .v4(0x0A00_0001) : .v4(0x0A02_0000 | low)]
                if chance(15) { addresses.append(.v6(0xFD00_0000_0000_0002, UInt64(low))) }
                return Endpoint(
                    addresses: addresses, hostname: pick([nil, nil, "h", "web-\(index)", "Web-\(index)", "_x", "a.b"]),
                    podName: chance(50) ? "pod-\(number)-\(index)" : nil, ready: chance(85))
            }
            let ports = (0..<Int.random(in: 0..<3, using: &random)).map { _ in
                EndpointPort(name: pick([nil, "http", "dns"]), port: pick([80, 53, 8080]), proto: pick(TransportProtocol.allCases))
            }
            let group = EndpointGroup(serviceName: name, namespace: namespace, origin: .endpointSlice, endpoints: endpoints, ports: ports)
            return ObjectChange(key: ObjectKey(origin: "slices/\(namespace)/\(name)/\(Int.random(in: 0..<2, using: &random))"), object: .endpoints(group))
        }
        let pool: [IPAddress] = [.v4(0x0A00_0001), .v4(0x0A00_0002), .v4(0x0A00_0003), .v6(0xFD00_0000_0000_0000, 1), .v6(0xFD00_0000_0000_0000, 2)]
        var addresses = (0..<Int.random(in: 0..<3, using: &random)).map { _ in pick(pool) }
        if addresses.isEmpty, chance(70) { addresses = [.v4(0x0A10_0000 | UInt32(number))] }
        let portNames: [String?] = [nil, "", "http", "HTTP", "grpc", "dns", "metrics", String(repeating: "p", count: 62)]
        let ports = (0..<Int.random(in: 0..<5, using: &random)).map { _ in
            ServicePort(name: pick(portNames), port: pick([53, 80, 443, 8080, 9090, 70_000]), proto: pick(TransportProtocol.allCases))
        }
        let kind: Service.Kind = chance(30) ? .headless : .clusterIP(addresses)
        let service = Service(name: name, namespace: namespace, kind: kind, ports: ports)
        // Now and then a second object for the same Service: declared twice, it warns.
        let key = chance(8) ? "services/\(number)" : "services/\(namespace)/\(name)"
        return ObjectChange(key: ObjectKey(origin: key), object: .service(service))
    }
}
