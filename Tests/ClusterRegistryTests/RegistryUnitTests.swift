@testable import ClusterRegistry
import DNSTestSupport
import DNSWire
import XCTest

/// `RegistryUnit.holds` is the allocation-free form of `RegistryUnit.of(name.lowercased()) ==
/// unit` that a build asks for every name (issue #9): the two must agree for every name and
/// unit, whatever the case, depth or zone.
final class RegistryUnitTests: XCTestCase {
    func testHoldsAgreesWithOfForRandomNames() throws {
        let domain = try DomainName("cluster.local")
        let labels = ["svc", "pod", "SVC", "Pod", "ns1", "ns2", "NS1", "web", "Web", "db", "_http", "_tcp", "10-1-2-3",
                      "dns", "ns", "cluster", "local", "example", "com", "a"]
        var generator = SplitMix64(seed: 1645)
        func pick() -> String { labels[Int(generator.next() % UInt64(labels.count))] }
        let units: [RegistryUnit] = [
            .apex, .namespace("ns1"), .namespace("ns2"), .namespace("svc"),
            .service(ServiceUnit(namespace: "ns1", name: "web")), .service(ServiceUnit(namespace: "ns1", name: "db")),
            .service(ServiceUnit(namespace: "ns2", name: "web")), .service(ServiceUnit(namespace: "svc", name: "pod")),
        ]
        var compared = 0, held = 0
        for _ in 0..<5_000 {
            let depth = Int(generator.next() % 6)
            let text = (0..<depth).map { _ in pick() }.joined(separator: ".")
            // Most names end in the cluster domain, in any case; some lie outside it.
            let suffix = generator.next() % 5 == 0 ? "example.com" : (generator.next() % 2 == 0 ? "cluster.local" : "Cluster.LOCAL")
            let name = try DomainName(text.isEmpty ? suffix : text + "." + suffix)
            for unit in units {
                let expected = RegistryUnit.of(name.lowercased(), domain: domain) == unit
                XCTAssertEqual(unit.holds(name, domain: domain), expected, "\(name) in \(unit)")
                compared += 1
                if expected { held += 1 }
            }
        }
        // The sample reaches every kind of unit, held and not.
        XCTAssertGreaterThan(held, 1_000)
        XCTAssertGreaterThan(compared - held, 1_000)
        for unit in units {
            XCTAssertTrue(try unit.holds(Self.someName(of: unit), domain: domain), "\(unit)")
        }
    }

    private static func someName(of unit: RegistryUnit) throws -> DomainName {
        switch unit {
        case .apex: return try DomainName("ns.dns.cluster.local")
        case .namespace(let namespace): return try DomainName("10-1-2-3.\(namespace).POD.cluster.local")
        case .service(let service): return try DomainName("_http._tcp.\(service.name).\(service.namespace).svc.cluster.local")
        }
    }
}
