@testable import ClusterRegistry
import DNSTestSupport
import Foundation
import XCTest

/// A seeded mutation fuzzer over manifest decoding (issue #11: "no input can trap"): the demo
/// cluster's own manifests, mutated where YAML is fragile (indentation, colons, dashes, anchors
/// and aliases, quotes, document markers), must load or be refused with an error naming the
/// place, never trap. A trap ends the test process, which fails the run.
final class ManifestMutationFuzzTests: XCTestCase {
    private static let special = Array(" :-\n\t&*!|>'\"#{}[],?%@`\\0".utf8) + Array("---\n".utf8) + [0xFF, 0xC3]

    func testMutatedManifestsLoadOrFailCleanly() throws {
        let corpus = try ManifestMutations.demoCluster(suffixes: [".yaml"])
        XCTAssertFalse(corpus.isEmpty)
        let seed: UInt64 = 0x7A_F022
        var random = SplitMix64(seed: seed)
        var loaded = 0, refused = 0
        for iteration in 0..<10_000 {
            let text = String(decoding: ManifestMutations.mutate(corpus[iteration % corpus.count], &random, special: Self.special, maxEdits: 4), as: UTF8.self)
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
