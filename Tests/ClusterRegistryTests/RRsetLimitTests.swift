@testable import ClusterRegistry
import DNSWire
import XCTest

/// Issue #11 items 1 and 5: no object can make the compiler trap or work quadratically. An
/// RRset too large for any DNS message is cut to its leading records, with a warning.
final class RRsetLimitTests: XCTestCase {
    /// 700 ready endpoints × 100 named ports: 70,000 SRV records at the Service name, more
    /// than a 16-bit record count holds.
    private func hugeHeadless() -> [ObjectChange] {
        let ports = (0..<100).map { EndpointPort(name: "p\($0)", port: 1000 + $0) }
        let endpoints = (0..<700).map { Endpoint(addresses: [.v4(0x0A00_0000 | UInt32($0))]) }
        let service = Service(
            name: "huge", namespace: "shop", kind: .headless, ports: ports.map { ServicePort(name: $0.name, port: $0.port) })
        let slice = EndpointGroup(serviceName: "huge", namespace: "shop", origin: .endpointSlice, endpoints: endpoints, ports: ports)
        return [
            ObjectChange(key: ObjectKey(origin: "services/shop/huge"), object: .service(service)),
            ObjectChange(key: ObjectKey(origin: "endpointslices/shop/huge-1"), object: .endpoints(slice)),
        ]
    }

    private func answer(_ name: String, _ type: RecordType, in snapshot: RegistrySnapshot) throws -> PreparedAnswer? {
        let wire = try DomainName(name).lowercased().wire
        return wire.withUnsafeBytes { bytes in
            snapshot.lookup(bytes).flatMap { $0.segment.answer(in: $0.entry, type: type) }
        }
    }

    func testHugeRRsetIsCutToFitOneMessageWithAWarning() throws {
        let registry = SegmentedRegistry(
            configuration: RegistryConfiguration(), staticZones: [], changes: hugeHeadless(), serial: 1, clusterSynced: true,
            parallel: false)
        let snapshot = registry.snapshot()
        let srv = try XCTUnwrap(try answer("huge.shop.svc.cluster.local", .srv, in: snapshot))
        XCTAssertLessThanOrEqual(srv.answerLength + srv.authorityLength, SnapshotCompiler.sectionByteLimit)
        XCTAssertGreaterThan(srv.answerLength, SnapshotCompiler.sectionByteLimit - 100, "as many records as fit")
        XCTAssertLessThan(Int(srv.answerCount), 70_000)
        XCTAssertEqual(srv.additionalCount, 0, "the optional section goes first")
        let a = try XCTUnwrap(try answer("huge.shop.svc.cluster.local", .a, in: snapshot))
        XCTAssertEqual(a.answerCount, 700, "an RRset that fits is whole")
        XCTAssertTrue(
            snapshot.statistics.warnings.contains { $0.contains("huge.shop.svc.cluster.local.") && $0.contains("70000 records") },
            "\(snapshot.statistics.warnings)")
    }

    /// The same objects arriving as a change: the incremental path cuts and warns alike.
    func testHugeRRsetThroughAChange() throws {
        var registry = SegmentedRegistry(configuration: RegistryConfiguration(), changes: [], serial: 1)
        registry.apply(hugeHeadless(), serial: 2)
        let srv = try XCTUnwrap(try answer("huge.shop.svc.cluster.local", .srv, in: registry.snapshot()))
        XCTAssertLessThanOrEqual(srv.answerLength, SnapshotCompiler.sectionByteLimit)
        XCTAssertEqual(registry.snapshot().statistics.warnings.count, 1)
        registry.apply([ObjectChange(key: ObjectKey(origin: "endpointslices/shop/huge-1"), object: nil)], serial: 3)
        XCTAssertEqual(registry.snapshot().statistics.warnings, [], "the warning goes with the cause")
    }

    /// SRV additional records read each distinct target once: 20,000 ports pointing at one
    /// name cost one lookup, not 20,000 (which made one Service stall every build for 33 s).
    func testAdditionalRecordsReadEachTargetOnce() throws {
        let target = try DomainName("big.shop.svc.cluster.local")
        let owner = try DomainName("_http._tcp.big.shop.svc.cluster.local")
        let srv = (0..<20_000).map { port in
            ResourceRecord(name: owner, ttl: 5, data: .srv(SRVData(priority: 0, weight: 1, port: UInt16(port), target: target)))
        }
        var lookup = CountingLookup(records: [ResourceRecord(name: target, ttl: 5, data: .a(.v4(0x0A00_0001)))])
        let layout = ZoneLayout(ClusterRecordsBuilder.empty(configuration: RegistryConfiguration(), serial: 1).zones)
        var compiler = SnapshotCompiler(layout: layout)
        compiler.compileNode(owner, records: srv, zone: 0, synthesizesPods: false, lookup: &lookup)
        XCTAssertEqual(lookup.calls, 1)
        XCTAssertEqual(compiler.answers.last?.additionalCount, 0, "20,000 SRV records leave no room for additional ones")
    }

    /// SRV records at a Service's own name point at that name: its addresses are read from the
    /// node being compiled, with no lookup, and go in the additional section.
    func testSRVAtItsOwnTargetReadsTheNodesAddresses() throws {
        let name = try DomainName("web.shop.svc.cluster.local")
        let records = [
            ResourceRecord(name: name, ttl: 5, data: .a(.v4(0x0A00_0001))),
            ResourceRecord(name: name, ttl: 5, data: .srv(SRVData(priority: 0, weight: 100, port: 80, target: name))),
        ]
        var lookup = CountingLookup(records: [])
        let layout = ZoneLayout(ClusterRecordsBuilder.empty(configuration: RegistryConfiguration(), serial: 1).zones)
        var compiler = SnapshotCompiler(layout: layout)
        compiler.compileNode(name, records: records, zone: 0, synthesizesPods: false, lookup: &lookup)
        XCTAssertEqual(lookup.calls, 0)
        XCTAssertEqual(compiler.answers.map(\.type), [.a, .srv])
        XCTAssertEqual(compiler.answers.last?.additionalCount, 1, "the node's own A record")
    }
}

/// A lookup that answers every name with the same records and counts the questions.
private struct CountingLookup: RecordLookup {
    let records: [ResourceRecord]
    var calls = 0

    mutating func records(at name: DomainName, zone: Int) -> [ResourceRecord]? {
        calls += 1
        return records
    }

    func synthesizesChildren(of name: DomainName, zone: Int) -> Bool { false }

    func embedsSOA(of zone: Int) {}
}
