@testable import ClusterRegistry
import DNSWire
import XCTest

/// The objects' store: one copy per object, found from its key, grouped by Service name in key
/// order, with port lists shared.
final class ClusterObjectsTests: XCTestCase {
    private func service(_ name: String, namespace: String = "shop", ports: [ServicePort]) -> KubernetesObject {
        .service(Service(name: name, namespace: namespace, kind: .headless, ports: ports))
    }

    func testEqualPortListsShareOneArray() {
        var objects = ClusterObjects(configuration: RegistryConfiguration())
        let ports = [ServicePort(name: "http", port: 80)]
        objects.apply(ObjectChange(key: ObjectKey(origin: "a"), object: service("a", ports: ports)))
        objects.apply(ObjectChange(key: ObjectKey(origin: "b"), object: service("b", ports: ports.map { $0 })))
        objects.apply(ObjectChange(key: ObjectKey(origin: "c"), object: service("c", ports: [ServicePort(name: "dns", port: 53)])))
        func storage(_ key: String) -> UnsafeRawPointer? {
            guard case .service(let stored)? = objects[ObjectKey(origin: key)] else { return nil }
            return stored.ports.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) }
        }
        XCTAssertNotNil(storage("a"))
        XCTAssertEqual(storage("a"), storage("b"))
        XCTAssertNotEqual(storage("a"), storage("c"))
    }

    /// Distinct port lists beyond the limit are stored as given, not remembered.
    func testPortListsStopRememberingAtTheLimit() {
        var lists = PortLists()
        for port in 0..<PortLists.limit + 10 { _ = lists.sharing(service("s", ports: [ServicePort(name: "p", port: port)])) }
        let late = [ServicePort(name: "p", port: PortLists.limit + 5)]
        guard case .service(let first) = lists.sharing(service("x", ports: late)),
              case .service(let second) = lists.sharing(service("y", ports: late.map { $0 })) else { return XCTFail("not a Service") }
        XCTAssertNotEqual(
            first.ports.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) },
            second.ports.withUnsafeBufferPointer { UnsafeRawPointer($0.baseAddress) })
    }

    /// Duplicates of one Service name (manifests) are read in key order whatever the order
    /// they were stored in, and each is found, replaced and removed by its own key.
    func testServicesOfOneNameAreKeptInKeyOrder() {
        var objects = ClusterObjects(configuration: RegistryConfiguration())
        for (key, port) in [("c", 3), ("a", 1), ("b", 2)] {
            objects.apply(ObjectChange(key: ObjectKey(origin: key), object: service("Web", ports: [ServicePort(name: nil, port: port)])))
        }
        XCTAssertEqual(objects.services("shop", "web").map { $0.ports[0].port }, [1, 2, 3])
        objects.apply(ObjectChange(key: ObjectKey(origin: "b"), object: service("web", ports: [ServicePort(name: nil, port: 9)])))
        XCTAssertEqual(objects.services("shop", "web").map { $0.ports[0].port }, [1, 9, 3])
        objects.apply(ObjectChange(key: ObjectKey(origin: "a"), object: nil))
        XCTAssertEqual(objects.services("shop", "web").map { $0.ports[0].port }, [9, 3])
        XCTAssertEqual(objects.count, 2)
        XCTAssertNil(objects[ObjectKey(origin: "a")])
    }

    /// A manifest object's key holds no text of its own and fits 24 bytes (issue #9: 200k keys
    /// are stored several times over); the objects of one document get keys of their own.
    func testManifestKeysAreCompactAndDistinct() {
        XCTAssertEqual(MemoryLayout<ObjectKey>.stride, 24)
        let file = "/manifests/shop.yaml"
        let keys = (0..<1000).map { ObjectKey.manifest(file: file, document: 0xFFFF_FFFF_FFFF_FFF0, position: $0) }
            + (0..<1000).map { ObjectKey.manifest(file: file, document: 0, position: $0) }
        XCTAssertEqual(Set(keys).count, keys.count)
        XCTAssertTrue(keys.allSatisfy(\.isManifest))
        XCTAssertFalse(ObjectKey(origin: "services/shop/web").isManifest)
        XCTAssertFalse(ObjectKey(origin: "", position: 41).isManifest)
        XCTAssertNotEqual(ObjectKey.manifest(file: file, document: 7, position: 0), ObjectKey.manifest(file: "/other.yaml", document: 7, position: 0))
    }
}
