@testable import ClusterRegistry
import DNSWire
@testable import KubernetesSource
import XCTest

/// What a completed list deletes (issue #9): a first list, begun with nothing of its resource
/// queued, names no keys and deletes nothing; any later list deletes what it did not see, in
/// the registry and earlier in the same queue.
final class ClusterObjectStoreTests: XCTestCase {
    private static func service(_ name: String) -> KubernetesObject {
        .service(Service(name: name, namespace: "shop", kind: .clusterIP([IPAddress("10.96.0.1")!])))
    }

    private static func deletions(_ changes: [ObjectChange]) -> [String] {
        changes.filter { $0.object == nil }.map(\.key.origin)
    }

    func testAFirstListNamesNoKeysAndDeletesNothing() {
        let store = ClusterObjectStore(resources: [.services])
        XCTAssertFalse(store.hasReceived(.services))
        store.upsert(.services, ["shop/web": Self.service("web")], receivedAt: 1)
        XCTAssertTrue(store.hasReceived(.services), "a retried list must name its keys")
        store.listCompleted(.services, seen: nil)
        let (queued, synced) = store.drain()
        XCTAssertTrue(synced)
        XCTAssertEqual(queued.last, .relisted(.services, seen: nil))
        let (changes, _) = KubernetesRegistrySource.changes(
            from: queued, against: ClusterObjects(configuration: RegistryConfiguration()))
        XCTAssertEqual(changes.map(\.key.origin), ["services/shop/web"])
        XCTAssertEqual(Self.deletions(changes), [])
    }

    func testALaterListDeletesWhatItDidNotSee() {
        var objects = ClusterObjects(configuration: RegistryConfiguration())
        objects.apply(ObjectChange(key: ObjectKey(origin: "services/shop/old"), object: Self.service("old")))
        let store = ClusterObjectStore(resources: [.services])
        // An attempt that failed after one page, then the list that completed without it.
        store.upsert(.services, ["shop/gone": Self.service("gone")], receivedAt: 1)
        store.upsert(.services, ["shop/web": Self.service("web")], receivedAt: 2)
        store.apply(.services, key: "shop/event", object: Self.service("event"), deleted: false, receivedAt: 3)
        store.listCompleted(.services, seen: ["shop/web"])
        let (changes, _) = KubernetesRegistrySource.changes(from: store.drain().changes, against: objects)
        XCTAssertEqual(
            Self.deletions(changes), ["services/shop/event", "services/shop/gone", "services/shop/old"],
            "what the registry held and what the queue added before the list, unseen by it")
    }
}
