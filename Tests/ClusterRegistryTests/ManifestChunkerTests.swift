@testable import ClusterRegistry
import Foundation
import XCTest

/// Cutting a file into documents must give what parsing it whole gives: the same objects, the
/// same errors at the same document and line.
final class ManifestChunkerTests: XCTestCase {
    private typealias Decoded = (objects: [KubernetesObject], errors: [ManifestError], skippedKinds: [String: Int])

    private func chunked(_ text: String, file: String = "f.yaml") -> Decoded? {
        guard let chunks = ManifestChunker.split(text) else { return nil }
        var merged: Decoded = ([], [], [:])
        for chunk in chunks where chunk.documents > 0 {
            let part = ManifestDecoder.decode(
                text: String(decoding: Array(text.utf8)[chunk.range], as: UTF8.self), file: file, firstDocument: chunk.document,
                firstLine: chunk.firstLine)
            merged.objects += part.objects
            merged.errors += part.errors
            merged.skippedKinds.merge(part.skippedKinds, uniquingKeysWith: +)
        }
        return merged
    }

    private func assertSameAsWhole(_ text: String, file: StaticString = #filePath, line: UInt = #line) {
        let whole = ManifestDecoder.decode(text: text, file: "f.yaml")
        guard let parts = chunked(text) else { return XCTFail("not cut", file: file, line: line) }
        XCTAssertEqual(parts.objects, whole.objects, file: file, line: line)
        XCTAssertEqual(parts.errors, whole.errors, file: file, line: line)
        XCTAssertEqual(parts.skippedKinds, whole.skippedKinds, file: file, line: line)
    }

    func testEveryDemoManifestParsesTheSameCut() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let directory = root.appendingPathComponent("zones/cluster").path
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }
        XCTAssertFalse(files.isEmpty)
        for name in files {
            assertSameAsWhole(try String(contentsOfFile: directory + "/" + name, encoding: .utf8))
        }
    }

    func testLeadingCommentsEmptyDocumentsAndErrorsKeepTheirNumbers() {
        let text = """
            # a comment before the first document

            ---
            apiVersion: v1
            kind: Service
            metadata: {name: a, namespace: x}
            spec: {clusterIP: 10.0.0.1}
            ---
            ---
            apiVersion: v1
            kind: Service
            metadata: {name: b, namespace: x}
            spec: {clusterIP: 10.0.0.999}
            --- # a comment on the marker
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: c}
            """
        assertSameAsWhole(text)
        XCTAssertEqual(chunked(text)?.errors.first?.location.document, 2)
    }

    func testABlockScalarWithDashesInsideIsNotCut() {
        let text = """
            apiVersion: v1
            kind: Service
            metadata:
              name: a
              annotations:
                note: |
                  ---- not a marker (four dashes)
                   --- indented, not a marker
            spec: {clusterIP: 10.0.0.1}
            """
        XCTAssertEqual(ManifestChunker.split(text)?.count, 1)
        assertSameAsWhole(text)
    }

    func testDirectivesAndDocumentEndsAreParsedWhole() {
        XCTAssertNil(ManifestChunker.split("%YAML 1.2\n---\na: 1\n"))
        XCTAssertNil(ManifestChunker.split("a: 1\n...\n---\nb: 2\n"))
    }

    func testAnEditedDocumentChangesOnlyItsHash() throws {
        let before = try XCTUnwrap(ManifestChunker.split("a: 1\n---\nb: 2\n---\nc: 3\n"))
        let after = try XCTUnwrap(ManifestChunker.split("a: 1\n---\nb: 22\n---\nc: 3\n"))
        XCTAssertEqual(before.map(\.document), [0, 1, 2])
        XCTAssertEqual(zip(before, after).map { $0.hash == $1.hash }, [true, false, true])
        XCTAssertEqual(after.map(\.firstLine), [1, 2, 4])
    }
}
