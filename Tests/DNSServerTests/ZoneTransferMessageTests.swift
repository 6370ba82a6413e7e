import ClusterRegistry
import DNSWire
import XCTest

@testable import DNSServer

/// How a transfer is cut into messages (RFC 5936 §2.2): the SOA first and last, the question
/// in the first message only, every message within its budget and the DNS limit, each
/// decodable on its own, and nothing lost or repeated across them.
final class ZoneTransferMessageTests: XCTestCase {
    func testLargeZoneSpansMessagesThatEachDecode() throws {
        let services = (0..<600).map { index in
            KubernetesObject.service(Service(
                name: "svc-\(index)", namespace: "ns\(index % 7)", kind: .clusterIP([.v4(0x0A00_0000 | UInt32(index))]),
                ports: [ServicePort(name: "http", port: 80), ServicePort(name: "grpc", port: 9090)]))
        }
        let snapshot = SnapshotBuilder.build(objects: services, staticZones: [], configuration: RegistryConfiguration()).snapshot
        let transfer = ZoneTransfer(allowed: AccessControl(networks: [AccessControl.Network("127.0.0.0/8")!]))
        let query = DNSMessage(questions: [DNSQuestion(name: try DomainName("Cluster.Local"), type: .axfr)]).encoded()
        let request = try XCTUnwrap(transfer.accept(query, client: IPAddress("127.0.0.1")))
        let messages = ZoneTransfer.messages(answering: request, from: snapshot)
        XCTAssertGreaterThan(messages.count, 3)

        var records: [ResourceRecord] = []
        for (index, bytes) in messages.enumerated() {
            XCTAssertLessThanOrEqual(bytes.count, ZoneTransfer.messageBudget + 600, "message \(index)")
            let message = try DNSMessage(decoding: bytes)
            XCTAssertTrue(message.header[.response] && message.header[.authoritative])
            XCTAssertEqual(message.responseCode, .noError)
            XCTAssertEqual(message.questions.count, index == 0 ? 1 : 0, "message \(index)")
            records += message.answers
        }
        let expected = snapshot.records(ofZone: 0)
        let soa = try XCTUnwrap(expected.first { $0.type == .soa })
        XCTAssertEqual(records.first, soa)
        XCTAssertEqual(records.last, soa)
        XCTAssertEqual(Array(records.dropFirst().dropLast()), expected.filter { $0.type != .soa })
    }

    func testOnlyTransferQuestionsFromAllowedClientsAreAccepted() throws {
        let transfer = ZoneTransfer(allowed: AccessControl(networks: [AccessControl.Network("10.0.0.0/8")!]))
        let axfr = DNSMessage(questions: [DNSQuestion(name: try DomainName("cluster.local"), type: .axfr)]).encoded()
        let soa = DNSMessage(questions: [DNSQuestion(name: try DomainName("cluster.local"), type: .soa)]).encoded()
        XCTAssertNotNil(transfer.accept(axfr, client: IPAddress("10.1.2.3")))
        XCTAssertNil(transfer.accept(axfr, client: IPAddress("127.0.0.1")))
        XCTAssertNil(transfer.accept(axfr, client: nil))
        XCTAssertNil(transfer.accept(soa, client: IPAddress("10.1.2.3")))
        XCTAssertTrue(axfr.withUnsafeBytes(ZoneTransfer.mayAskForTransfer))
        XCTAssertFalse(soa.withUnsafeBytes(ZoneTransfer.mayAskForTransfer))
        XCTAssertFalse([UInt8](axfr.prefix(14)).withUnsafeBytes(ZoneTransfer.mayAskForTransfer), "cut short")
    }
}
