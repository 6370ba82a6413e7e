import DNSWire
import XCTest

@testable import ClusterRegistry

/// A zone transfer reads a zone's records back from the prepared answers
/// (`RegistrySnapshot.records(ofZone:)`): after seeded random changes, they must be exactly the
/// records a whole-model build makes from the same objects, in `clusterdns records` order.
final class ZoneContentsTests: XCTestCase {
    func testRecordsReadBackFromAnswersEqualTheModel() {
        var multicluster = RegistryConfiguration()
        multicluster.multicluster = try! DomainName("clusterset.local")
        for (configuration, seeds) in [
            (RegistryConfiguration(), UInt64(500)..<505),
            (RegistryConfiguration(pods: .verified, endpointPodNames: true), 510..<513),
            (RegistryConfiguration(singlePointer: true), 520..<523),
            (multicluster, 530..<534),
        ] {
            for seed in seeds {
                var random = RandomCluster(seed: seed)
                random.multicluster = configuration.multicluster != nil
                let staticZones = [RandomCluster.staticZone()]
                var registry = SegmentedRegistry(configuration: configuration, staticZones: staticZones, changes: [], serial: 7)
                for step in 0..<12 {
                    let current = Dictionary(uniqueKeysWithValues: registry.objects.keys.map { ($0, registry.objects[$0]!) })
                    registry.apply((0..<random.int(1..<8)).map { _ in random.change(existing: current) }, serial: registry.serial + 1)
                    let snapshot = registry.snapshot()
                    let model = ClusterRecordsBuilder.build(
                        objects: registry.objects.allObjects, configuration: configuration, serial: snapshot.serial
                    ).zones
                    let context = "seed \(seed), step \(step)"
                    // Every zone a transfer may ask for: the cluster zone and the clusterset zone.
                    for zone in model.indices where model[zone].kind.ownsEveryName {
                        XCTAssertEqual(lines(snapshot.records(ofZone: zone)), lines(model[zone].sortedRecords), context)
                    }
                    let staticIndex = snapshot.zones.count - 1
                    XCTAssertEqual(lines(snapshot.records(ofZone: staticIndex)), lines(staticZones[0].sortedRecords), context)
                }
            }
        }
    }

    /// The demo-sized control: a CNAME owner's chased A answer and an SRV answer's additional
    /// addresses are not records of the owner.
    func testChasedAndAdditionalRecordsAreNotTheOwners() throws {
        let configuration = RegistryConfiguration()
        let objects: [KubernetesObject] = [
            .service(Service(name: "db", namespace: "shop", kind: .clusterIP([.v4(0x0A00_0001)]), ports: [ServicePort(name: "sql", port: 5432)])),
            .service(Service(name: "alias", namespace: "shop", kind: .externalName("db.shop.svc.cluster.local"))),
        ]
        let snapshot = SnapshotBuilder.build(objects: objects, staticZones: [], configuration: configuration).snapshot
        let records = lines(snapshot.records(ofZone: 0))
        XCTAssertEqual(records.filter { $0.hasPrefix("alias.shop.svc.cluster.local.") }, [
            "alias.shop.svc.cluster.local. 5 IN CNAME db.shop.svc.cluster.local."
        ])
        XCTAssertEqual(records.filter { $0.hasPrefix("_sql._tcp.db.") }, [
            "_sql._tcp.db.shop.svc.cluster.local. 5 IN SRV 0 100 5432 db.shop.svc.cluster.local."
        ])
    }

    /// Presentation lines, blanks collapsed.
    private func lines(_ records: [ResourceRecord]) -> [String] {
        records.map { RecordPresentation.line($0).split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
    }
}
