import ClusterRegistry
import DNSTestSupport
@testable import KubernetesSource
import XCTest

/// A seeded mutation fuzzer over the API decoder (issue #11: "no input can trap"): list pages
/// and watch events shaped as a real API server writes them (managedFields, annotations,
/// ownerReferences), mutated byte by byte, must decode or be refused with an error, never trap
/// and never loop. A trap ends the test process, which fails the run.
final class APIMutationFuzzTests: XCTestCase {
    typealias API = FakeKubernetesAPIServer

    private static func page(_ items: [String], kind: String) -> [UInt8] {
        Array(#"{"kind":"\#(kind)","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"x"},"items":["#.utf8)
            + Array(items.joined(separator: ",").utf8) + Array("]}".utf8)
    }

    private static func mutate(_ bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        // The characters JSON turns on, and a few that should never appear.
        let special: [UInt8] = Array(#"{}[]",:\\u0 -+.eE"#.utf8) + [0, 0xFF, 0xC3, 0x0A]
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0 where !bytes.isEmpty: bytes[position] = special[Int(random.next() % UInt64(special.count))]
            case 1 where !bytes.isEmpty: bytes[position] = UInt8(truncatingIfNeeded: random.next())
            case 2: bytes = Array(bytes.prefix(position))
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 40))
                bytes.insert(contentsOf: bytes[position..<end], at: end)
            case 4 where !bytes.isEmpty: bytes.remove(at: position)
            default: bytes.append(special[Int(random.next() % UInt64(special.count))])
            }
        }
        return bytes
    }

    func testMutatedListPagesAndEventsDecodeOrFailCleanly() {
        let services = Self.page(
            (0..<3).map {
                API.service(
                    namespace: "ns", name: "svc\($0)", clusterIP: "10.96.0.\($0 + 1)", ports: [("http", 80, "TCP")],
                    headless: $0 == 2)
            } + [API.service(namespace: "ns", name: "ext", externalName: "example.com")], kind: "ServiceList")
        let slices = Self.page(
            (0..<2).map {
                API.endpointSlice(
                    namespace: "ns", name: "svc\($0)-abcde", service: "svc\($0)",
                    addresses: [("10.1.0.\($0 + 1)", true, "web-\($0)", "web-\($0)"), ("fd00::\($0 + 1)", false, nil, nil)],
                    ports: [("http", 8080, "TCP")], lastChangeTriggerTime: "2026-12-03T10:00:00Z")
            }, kind: "EndpointSliceList")
        let event = Array(#"{"type":"MODIFIED","object":"#.utf8)
            + Array(API.service(namespace: "ns", name: "web", clusterIP: "10.96.9.9", ports: [("dns", 53, "UDP")]).utf8) + [UInt8(ascii: "}")]
        let inputs: [(APIResponseDecoder, [UInt8], isEvent: Bool)] = [
            (APIResponseDecoder(resource: .services), services, false),
            (APIResponseDecoder(resource: .endpointSlices), slices, false),
            (APIResponseDecoder(resource: .services), event, true),
        ]
        let seed: UInt64 = 0xA11_F022
        var random = SplitMix64(seed: seed)
        var decoded = 0, refused = 0
        for _ in 0..<20_000 {
            let (decoder, original, isEvent) = inputs[Int(random.next() % UInt64(inputs.count))]
            let bytes = Self.mutate(original, &random)
            do {
                if isEvent { _ = try decoder.decodeEvent(bytes) } else { _ = try decoder.decodeList(bytes) }
                decoded += 1
            } catch {
                refused += 1
            }
        }
        // Both paths must be reached, or the mutations test little.
        XCTAssertGreaterThan(decoded, 1_000, "seed \(seed)")
        XCTAssertGreaterThan(refused, 1_000, "seed \(seed)")
    }
}
