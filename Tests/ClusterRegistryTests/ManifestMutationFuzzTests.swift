@testable import ClusterRegistry
import DNSTestSupport
import Foundation
import XCTest

/// A seeded mutation fuzzer over manifest decoding (issue #11: "no input can trap"): the demo
/// cluster's own manifests, mutated where YAML is fragile (indentation, colons, dashes, anchors
/// and aliases, quotes, document markers), must load or be refused with an error naming the
/// place, never trap. A trap ends the test process, which fails the run.
final class ManifestMutationFuzzTests: XCTestCase {
    private static func mutate(_ text: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = text
        let special = Array(" :-\n\t&*!|>'\"#{}[],?%@`\\0".utf8) + Array("---\n".utf8) + [0xFF, 0xC3]
        for _ in 0..<(1 + Int(random.next() % 4)) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0 where !bytes.isEmpty: bytes[position] = special[Int(random.next() % UInt64(special.count))]
            case 1: bytes.insert(special[Int(random.next() % UInt64(special.count))], at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 60))
                bytes.insert(contentsOf: bytes[position..<end], at: end)
            default: bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }

    func testMutatedManifestsLoadOrFailCleanly() throws {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("zones/cluster")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".yaml") }.sorted()
        let corpus = try files.map { Array(try String(contentsOfFile: directory.appendingPathComponent($0).path, encoding: .utf8).utf8) }
        XCTAssertFalse(corpus.isEmpty)
        let seed: UInt64 = 0x7A_F022
        var random = SplitMix64(seed: seed)
        var loaded = 0, refused = 0
        for iteration in 0..<10_000 {
            let text = String(decoding: Self.mutate(corpus[iteration % corpus.count], &random), as: UTF8.self)
            do {
                _ = try ManifestLoader.parse(text: text, file: "fuzz.yaml")
                loaded += 1
            } catch {
                XCTAssertTrue("\(error)".contains("fuzz.yaml"), "an error names the file: \(error)")
                refused += 1
            }
        }
        XCTAssertGreaterThan(loaded, 500, "seed \(seed)")
        XCTAssertGreaterThan(refused, 500, "seed \(seed)")
    }
}
