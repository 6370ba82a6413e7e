@testable import ClusterRegistry
import XCTest

/// Issue #11 item 4: YAML aliases cannot make a short manifest yield more objects than its
/// text could spell out.
final class AliasBombTests: XCTestCase {
    /// Lists of aliased lists: four levels of ten make 10,000 Services from about 700 bytes.
    static let bomb = """
        apiVersion: v1
        kind: List
        items:
        - &l0 {apiVersion: v1, kind: Service, metadata: {name: s, namespace: x}, spec: {clusterIP: None}}
        - &l1 {apiVersion: v1, kind: List, items: [*l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0, *l0]}
        - &l2 {apiVersion: v1, kind: List, items: [*l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1, *l1]}
        - &l3 {apiVersion: v1, kind: List, items: [*l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2, *l2]}
        - {apiVersion: v1, kind: List, items: [*l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3, *l3]}
        """

    func testAliasesCannotMultiplyObjects() {
        let decoded = ManifestDecoder.decode(text: Self.bomb, file: "bomb.yaml")
        XCTAssertLessThanOrEqual(decoded.objects.count, 64 + Self.bomb.utf8.count / ManifestDecoder.bytesPerObject)
        XCTAssertTrue(decoded.errors.contains { $0.message.contains("YAML aliases") }, "\(decoded.errors.prefix(3))")
    }

    /// A List written out, however long, is read whole.
    func testAWrittenOutListIsReadWhole() {
        let items = (0..<2_000).map { "- {apiVersion: v1, kind: Namespace, metadata: {name: n\($0)}}" }.joined(separator: "\n")
        let decoded = ManifestDecoder.decode(text: "apiVersion: v1\nkind: List\nitems:\n" + items, file: "long.yaml")
        XCTAssertEqual(decoded.errors, [])
        XCTAssertEqual(decoded.objects.count, 2_000)
    }
}
