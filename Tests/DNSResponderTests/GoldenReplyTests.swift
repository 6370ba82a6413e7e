import ClusterRegistry
import DNSResponder
import DNSTestSupport
import DNSWire
import Foundation
import XCTest

/// Exact reply bytes for representative queries, stored as hex (`Golden/<name>.hex`) beside
/// ldns's rendering (`Golden/<name>.txt`). A change in either is a change in what clients
/// receive: review the new text by eye before accepting it. Regenerate with `UPDATE_GOLDEN=1`
/// (writes into the source tree; rebuild so the bundle picks the files up).
final class GoldenReplyTests: XCTestCase {
    private struct Golden {
        var name: String
        var query: TestQuery
        var transport: Transport = .udp
    }

    private static let goldens: [Golden] = [
        Golden(name: "clusterip-a", query: TestQuery(name: "svc1.testns.svc.cluster.local", type: .a)),
        Golden(name: "clusterip-aaaa-nodata", query: TestQuery(name: "svc1.testns.svc.cluster.local", type: .aaaa)),
        Golden(name: "nxdomain", query: TestQuery(name: "nosuch.testns.svc.cluster.local", type: .a)),
        Golden(name: "dual-stack-srv", query: TestQuery(name: "_http._tcp.dual.testns.svc.cluster.local", type: .srv)),
        Golden(name: "headless-srv", query: TestQuery(name: "_http._tcp.hdls.testns.svc.cluster.local", type: .srv)),
        Golden(name: "externalname-in-zone", query: TestQuery(name: "alias.testns.svc.cluster.local", type: .a)),
        Golden(name: "ptr-two-names", query: TestQuery(name: "2.1.17.172.in-addr.arpa", type: .ptr)),
        Golden(name: "mixed-case-edns-do", query: TestQuery(
            name: "SVC1.TestNS.Svc.Cluster.Local", type: .a, edns: EDNSRecord(udpPayloadSize: 4096, dnssecOK: true))),
        Golden(name: "apex-ns-glue", query: TestQuery(name: "cluster.local", type: .ns)),
        Golden(name: "dns-version", query: TestQuery(name: "dns-version.cluster.local", type: .txt)),
        Golden(name: "any-hinfo", query: TestQuery(name: "svc1.testns.svc.cluster.local", type: .any)),
        Golden(name: "pod-insecure", query: TestQuery(name: "1-2-3-4.testns.pod.cluster.local", type: .a)),
        Golden(name: "truncated-headless", query: TestQuery(name: "big.testns.svc.cluster.local", type: .a)),
        Golden(name: "badvers", query: TestQuery(
            name: "svc1.testns.svc.cluster.local", type: .a, edns: EDNSRecord(udpPayloadSize: 4096, version: 1))),
        Golden(name: "static-mx", query: TestQuery(name: "example.internal", type: .mx)),
    ]

    /// Lines of `ldns_pkt2str` that describe the exchange rather than the packet.
    private static let volatilePrefixes = [";; Query time:", ";; SERVER:", ";; WHEN:"]

    static func text(_ bytes: [UInt8]) throws -> String {
        try LDNSOracle.packetText(bytes).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in !volatilePrefixes.contains { line.hasPrefix($0) } }
            .joined(separator: "\n")
    }

    static func hex(_ bytes: [UInt8]) -> String {
        stride(from: 0, to: bytes.count, by: 16).map { start in
            bytes[start..<min(start + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " ")
        }.joined(separator: "\n") + "\n"
    }

    private var sourceDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    }

    func testGoldenReplies() throws {
        let update = ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1"
        let directory = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
        for golden in Self.goldens {
            let exchange = Harness.exchange(golden.query, transport: golden.transport)
            XCTAssertFalse(exchange.reply.isEmpty, golden.name)
            verifyPacket(exchange.reply, query: golden.query, label: golden.name)
            let hex = Self.hex(exchange.reply)
            let text = try Self.text(exchange.reply)
            if update {
                try hex.write(to: sourceDirectory.appendingPathComponent(golden.name + ".hex"), atomically: true, encoding: .utf8)
                try text.write(to: sourceDirectory.appendingPathComponent(golden.name + ".txt"), atomically: true, encoding: .utf8)
                continue
            }
            let storedHex = try? String(contentsOf: directory.appendingPathComponent(golden.name + ".hex"), encoding: .utf8)
            let storedText = try? String(contentsOf: directory.appendingPathComponent(golden.name + ".txt"), encoding: .utf8)
            XCTAssertEqual(storedText, text, "\(golden.name).txt (UPDATE_GOLDEN=1 regenerates)")
            XCTAssertEqual(storedHex, hex, "\(golden.name).hex (UPDATE_GOLDEN=1 regenerates)")
        }
    }

    /// The stored hex must itself be a reply ldns accepts and renders as the stored text, so a
    /// hand-edited golden cannot drift from its description.
    func testStoredGoldensAreConsistent() throws {
        let directory = try XCTUnwrap(Bundle.module.url(forResource: "Golden", withExtension: nil))
        for golden in Self.goldens {
            guard let hex = try? String(contentsOf: directory.appendingPathComponent(golden.name + ".hex"), encoding: .utf8),
                  let text = try? String(contentsOf: directory.appendingPathComponent(golden.name + ".txt"), encoding: .utf8)
            else {
                XCTFail("\(golden.name): golden files missing")
                continue
            }
            let bytes = hex.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { UInt8($0, radix: 16) }
            XCTAssertEqual(try Self.text(bytes), text, golden.name)
        }
    }
}
