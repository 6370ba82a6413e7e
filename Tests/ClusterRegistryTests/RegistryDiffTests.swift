import ClusterRegistry
import DNSWire
import XCTest

/// The reload log's diff: what applying a change added, removed and changed.
final class RegistryDiffTests: XCTestCase {
    private static func keyed(_ objects: [KubernetesObject]) -> [ObjectChange] {
        objects.enumerated().map { ObjectChange(key: ObjectKey(origin: "test", position: $0), object: $1) }
    }

    private func registry(_ objects: [KubernetesObject]) -> SegmentedRegistry {
        SegmentedRegistry(configuration: RegistryConfiguration(), changes: Self.keyed(objects), serial: 1)
    }

    /// Applies `after` over `before` (objects matched by position; missing ones removed).
    private func diff(from before: [KubernetesObject], to after: [KubernetesObject]) -> RegistryDiff {
        var registry = registry(before)
        var changes = Self.keyed(after)
        for position in after.count..<max(after.count, before.count) {
            changes.append(ObjectChange(key: ObjectKey(origin: "test", position: position), object: nil))
        }
        return registry.apply(changes, serial: 2)
    }

    private func service(_ name: String, ip: String, namespace: String = "shop", port: String = "http") -> KubernetesObject {
        .service(Service(name: name, namespace: namespace, kind: .clusterIP([IPAddress(ip)!]),
                         ports: [ServicePort(name: port, port: 80)]))
    }

    private func slice(_ service: String, _ endpoints: [(String, Bool)], namespace: String = "shop") -> KubernetesObject {
        .endpoints(EndpointGroup(
            serviceName: service, namespace: namespace, origin: .endpointSlice,
            endpoints: endpoints.map { Endpoint(addresses: [IPAddress($0.0)!], ready: $0.1) },
            ports: [EndpointPort(name: "http", port: 80)]))
    }

    private var base: [KubernetesObject] {
        [service("web", ip: "10.96.0.10"), service("db", ip: "10.96.0.11"),
         slice("db", [("10.1.0.1", true), ("10.1.0.2", true)])]
    }

    func testSameObjectsGiveAnEmptyDiff() {
        let diff = diff(from: base, to: base)
        XCTAssertTrue(diff.isEmpty, "\(diff)")
        XCTAssertEqual(diff.objectChanges, 0)
    }

    func testTotalMatchesAFullBuildsStatistics() {
        var after = base
        after[0] = service("web", ip: "10.96.0.99")
        let full = SnapshotBuilder.build(objects: after, staticZones: [], configuration: RegistryConfiguration(), serial: 1)
        XCTAssertEqual(diff(from: base, to: after).totalRecords, full.snapshot.statistics.records)
        let records = full.zones.reduce(0) { $0 + $1.nodes.values.reduce(0) { $0 + $1.count } }
        XCTAssertEqual(full.snapshot.statistics.records, records)
    }

    func testAddedService() {
        let diff = diff(from: base, to: base + [service("cache", ip: "10.96.0.12")])
        XCTAssertEqual(diff.services, .init(added: 1))
        XCTAssertEqual(diff.endpoints, .init())
        // A, SRV for the named port, the port's SRV owner and PTR: at least the A and the PTR.
        XCTAssertGreaterThanOrEqual(diff.records.added, 2, "\(diff)")
        XCTAssertEqual(diff.records.removed, 0, "\(diff)")
    }

    func testRemovedServiceAndItsEndpoints() {
        let after = [service("web", ip: "10.96.0.10")]
        let diff = diff(from: base, to: after)
        XCTAssertEqual(diff.services, .init(removed: 1))
        XCTAssertEqual(diff.endpoints, .init(removed: 2))
        XCTAssertEqual(diff.records.added, 0, "\(diff)")
        XCTAssertGreaterThan(diff.records.removed, 2, "\(diff)")
    }

    func testChangedClusterIPIsOneChangedServiceAndReplacedRecords() {
        var after = base
        after[0] = service("web", ip: "10.96.0.99")
        let diff = diff(from: base, to: after)
        XCTAssertEqual(diff.services, .init(changed: 1))
        // The A record and the PTR record are replaced.
        XCTAssertEqual(diff.records, .init(added: 2, removed: 2), "\(diff)")
    }

    func testEndpointThatStopsBeingReadyIsRemovedAndAdded() {
        var after = base
        after[2] = slice("db", [("10.1.0.1", true), ("10.1.0.2", false)])
        let diff = diff(from: base, to: after)
        XCTAssertEqual(diff.services, .init())
        XCTAssertEqual(diff.endpoints, .init(added: 1, removed: 1))
        XCTAssertEqual(diff.records.added, 0, "a not-ready endpoint has no records\n\(diff)")
        XCTAssertGreaterThan(diff.records.removed, 0, "\(diff)")
    }

    func testSourceLocationIsNotContent() {
        var moved = Service(name: "web", namespace: "shop", kind: .clusterIP([IPAddress("10.96.0.10")!]),
                            ports: [ServicePort(name: "http", port: 80)])
        moved.source = SourceLocation(file: "other.yaml", document: 3, line: 40)
        var after = base
        after[0] = .service(moved)
        XCTAssertTrue(diff(from: base, to: after).isEmpty)
    }

    func testAFirstLoadAddsEverything() {
        let registry = registry(base)
        let diff = RegistryDiff(everythingIn: registry)
        XCTAssertEqual(diff.services, .init(added: 2))
        XCTAssertEqual(diff.endpoints, .init(added: 2))
        XCTAssertEqual(diff.records.added, registry.snapshot().statistics.records)
    }

    func testAppliedFromEmptyEqualsTheFirstLoadsCounts() {
        let diff = diff(from: [], to: base)
        XCTAssertEqual(diff.services, .init(added: 2))
        XCTAssertEqual(diff.endpoints, .init(added: 2))
        XCTAssertEqual(diff.totalRecords, registry(base).snapshot().statistics.records)
    }

    /// Pod names are kept only for `--endpoint-pod-names`: without it, a change to a pod name
    /// alone changes nothing (and nothing is recompiled).
    func testAPodNameAloneIsAChangeOnlyWithEndpointPodNames() {
        let named = { (pod: String) -> KubernetesObject in
            .endpoints(EndpointGroup(
                serviceName: "db", namespace: "shop", origin: .endpointSlice,
                endpoints: [Endpoint(addresses: [IPAddress("10.1.0.1")!], podName: pod)], ports: []))
        }
        for (podNames, expected) in [(false, 0), (true, 1)] {
            var registry = SegmentedRegistry(
                configuration: RegistryConfiguration(endpointPodNames: podNames),
                changes: Self.keyed([service("db", ip: "10.96.0.11"), named("db-0")]), serial: 1)
            let diff = registry.apply([ObjectChange(key: ObjectKey(origin: "test", position: 1), object: named("db-1"))], serial: 2)
            XCTAssertEqual(diff.objectChanges, expected, "endpoint pod names \(podNames)")
        }
    }

    func testDescription() {
        let diff = RegistryDiff(
            services: .init(added: 1, removed: 0, changed: 2), endpoints: .init(added: 2, removed: 1),
            records: .init(added: 5, removed: 3), totalRecords: 123)
        XCTAssertEqual(diff.description, "services +1 -0 ~2, endpoints +2 -1, records +5 -3 (123 total)")
    }
}
