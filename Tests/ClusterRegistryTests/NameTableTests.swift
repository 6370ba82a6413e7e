@testable import ClusterRegistry
import XCTest

/// The snapshot's name index: every key finds its own entry, nothing else finds one, whatever
/// the probe sequences and fingerprints do.
final class NameTableTests: XCTestCase {
    private static func wire(_ labels: [String]) -> [UInt8] {
        labels.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } + [0]
    }

    func testEveryKeyFindsItsEntryAndOtherNamesFindNone() {
        let keys = (0..<5000).map { Self.wire(["svc-\($0)", "ns-\($0 % 17)", "svc", "cluster", "local"]) }
        let table = NameTable(keys: keys)
        XCTAssertEqual(table.count, keys.count)
        for (entry, key) in keys.enumerated() {
            XCTAssertEqual(key.withUnsafeBytes { table.lookup($0) }, entry)
            XCTAssertEqual(Array(table.key(entry)), key)
        }
        let misses = (0..<5000).map { Self.wire(["svc-\($0)", "ns-\($0 % 17 + 1)", "svc", "cluster", "local"]) }
            + [Self.wire([]), Self.wire(["local"]), Array(keys[0].dropLast(2)) + [0]]
        let known = Set(keys)
        for name in misses where !known.contains(name) {
            XCTAssertNil(name.withUnsafeBytes { table.lookup($0) }, "\(name)")
        }
    }

    /// Tables of every small size: slots are not a power of two and probes wrap past the last
    /// one, so each size is its own case (a probe that stopped at the end, or ran on with no
    /// empty slot, fails here).
    func testEverySmallTableSizeFindsItsKeysAndNoOthers() {
        for size in 0..<300 {
            let keys = (0..<size).map { Self.wire(["p\($0)", "s\(size)", "svc"]) }
            let table = NameTable(keys: keys)
            for (entry, key) in keys.enumerated() {
                XCTAssertEqual(key.withUnsafeBytes { table.lookup($0) }, entry, "size \(size)")
            }
            for miss in 0..<50 {
                let name = Self.wire(["q\(miss)", "s\(size)", "svc"])
                XCTAssertNil(name.withUnsafeBytes { table.lookup($0) }, "size \(size)")
            }
        }
    }

    func testAnEmptyTableFindsNothing() {
        let table = NameTable(keys: [])
        XCTAssertNil(Self.wire(["a"]).withUnsafeBytes { table.lookup($0) })
    }
}
