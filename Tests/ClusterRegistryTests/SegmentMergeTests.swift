import DNSWire
import XCTest

@testable import ClusterRegistry

/// The full build's merge of a shard's pieces appends whole builders at once
/// (`SegmentBuilder.append(contentsOf:)`): it must give the very arrays that appending their
/// entries one by one gives.
final class SegmentMergeTests: XCTestCase {
    func testBulkAppendEqualsEntryByEntry() {
        var configuration = RegistryConfiguration()
        configuration.aliasDomains = [try! DomainName("example.com")]
        var random = RandomCluster(seed: 7, namespaces: 5, servicesPerNamespace: 30)
        var objects: [ObjectKey: KubernetesObject] = [:]
        for _ in 0..<400 {
            let change = random.change(existing: objects)
            objects[change.key] = change.object
        }
        // CNAME chains through the zone (RRset boundaries), to a missing name (NXDOMAIN) and
        // out of the zones (an external target), beside the random ones.
        let targets = ["s1.ns1.svc.cluster.local", "missing.ns1.svc.cluster.local", "db.external.test"]
        objects[ObjectKey(origin: "services/ns1/s1")] = .service(Service(name: "s1", namespace: "ns1", kind: .clusterIP([IPAddress("10.0.9.1")!])))
        for (index, target) in targets.enumerated() {
            objects[ObjectKey(origin: "services/ns2/chain\(index)")] = .service(
                Service(name: "chain\(index)", namespace: "ns2", kind: .externalName(target)))
        }
        let snapshot = SegmentedRegistry(
            configuration: configuration, staticZones: [], changes: objects.map { ObjectChange(key: $0.key, object: $0.value) },
            serial: 1, clusterSynced: true
        ).snapshot()
        let segments = snapshot.shards.filter { $0.count > 0 }
        XCTAssertGreaterThan(segments.count, 20, "a cluster worth comparing")
        // Pieces of a few segments each, as the threads of a build hand them over.
        let pieces: [SegmentBuilder] = stride(from: 0, to: segments.count, by: 7).map { start in
            var piece = SegmentBuilder()
            for segment in segments[start..<min(start + 7, segments.count)] {
                for index in segment.entries.indices { piece.append(entry: index, of: segment) }
            }
            return piece
        }
        var oneByOne = SegmentBuilder(), bulk = SegmentBuilder()
        for piece in pieces {
            for index in piece.entries.indices { oneByOne.append(entry: index, of: piece) }
            bulk.append(contentsOf: piece)
        }
        XCTAssertTrue(pieces.contains { !$0.extras.isEmpty && !$0.boundaries.isEmpty }, "answers with extras and boundaries")
        XCTAssertTrue(pieces.contains { !$0.externalTargets.isEmpty }, "answers that lead out of the zones")
        XCTAssertEqual(Self.describe(bulk), Self.describe(oneByOne))
        XCTAssertEqual(bulk.answerBytes, oneByOne.answerBytes)
        XCTAssertEqual(bulk.keys.bytes, oneByOne.keys.bytes)
        XCTAssertEqual(bulk.keys.starts, oneByOne.keys.starts)
        XCTAssertEqual(bulk.boundaries, oneByOne.boundaries)
        XCTAssertEqual(bulk.externalTargets, oneByOne.externalTargets)
    }

    /// Every index a builder holds, in text: its entries, answers and extras.
    private static func describe(_ builder: SegmentBuilder) -> [String] {
        builder.entries.map { "entry zone \($0.zone) answers \($0.answers) pods \($0.synthesizesPods)" }
            + builder.answers.map {
                "answer \($0.type) \($0.answerCount)/\($0.additionalCount) lengths \($0.answerLength)/\($0.additionalLength) "
                    + "at \($0.start) extras \($0.extras)"
            }
            + builder.extras.map {
                "extras authority \($0.authorityLength)/\($0.authorityCount) boundaries \($0.boundaries.range) "
                    + "target \($0.externalTarget) nxdomain \($0.nameError)"
            }
    }
}
