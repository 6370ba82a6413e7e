@testable import ClusterRegistry
import DNSTestSupport
import Foundation
import XCTest

/// `ManifestFileReader` parses runs of consecutive documents as one text (issue #9). Parsing
/// every document alone (runs of 1) is the reference: over seeded random files, with errors of
/// every kind, skipped kinds, empty, repeated and reused documents, runs of any length give the
/// same objects under the same keys, and the same errors and skipped kinds per document.
final class ManifestRunEquivalenceTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "manifest-runs-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Documents of every shape the reader must keep apart.
    private static func document(_ random: inout SplitMix64, _ serial: Int) -> String {
        let name = "svc-\(serial % 40)"
        switch random.next() % 12 {
        case 0, 1, 2:
            return """
                apiVersion: v1
                kind: Service
                metadata:
                  name: \(name)
                  namespace: ns-\(serial % 3)
                spec:
                  clusterIP: 10.0.\(serial % 200).\(1 + serial % 250)
                  ports:
                  - name: http
                    port: \(80 + serial % 5)
                    protocol: TCP

                """
        case 3:
            return """
                apiVersion: v1
                kind: Service
                metadata: {name: \(name), namespace: ns-1}
                spec: {clusterIP: None, ports: [{name: dns, port: 53, protocol: UDP}]}

                """
        case 4:
            return """
                apiVersion: discovery.k8s.io/v1
                kind: EndpointSlice
                metadata:
                  name: \(name)-abc
                  namespace: ns-1
                  labels: {kubernetes.io/service-name: \(name)}
                addressType: IPv4
                endpoints:
                - addresses: [10.1.\(serial % 200).\(1 + serial % 250)]
                  conditions: {ready: true}

                """
        case 5:
            return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: \(name)}\nspec: {replicas: 2}\n"
        case 6:
            return "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \(name)}\ndata: {a: b}\n"
        case 7:
            // A semantic error: the rest of the run is read on.
            return "apiVersion: v1\nkind: Service\nmetadata: {name: \(name)}\nspec: {clusterIP: 10.0.0.1, ports: [{port: 99999}]}\n"
        case 8:
            // A syntax error: the parser stops, so the run is read again document by document.
            return "apiVersion: v1\nkind: Service\nmetadata: {name: \(name)\nspec: [\n"
        case 9:
            return "# only a comment\n"
        case 10:
            return """
                apiVersion: v1
                kind: List
                items:
                - apiVersion: v1
                  kind: Namespace
                  metadata: {name: ns-\(serial % 7)}
                - apiVersion: v1
                  kind: Secret
                  metadata: {name: s}

                """
        default:
            return "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-\(serial % 5)\n"
        }
    }

    /// A file of up to 150 documents; some repeated word for word, some files opening with a
    /// comment before the first marker.
    private static func file(_ random: inout SplitMix64, serial: inout Int) -> String {
        var documents: [String] = []
        for _ in 0..<(1 + Int(random.next() % 150)) {
            if !documents.isEmpty, random.next() % 10 == 0 {
                documents.append(documents[Int(random.next() % UInt64(documents.count))])
            } else {
                serial += 1
                documents.append(document(&random, serial))
            }
        }
        let opening = random.next() % 3 == 0 ? "# manifests\n" : ""
        return opening + documents.map { "---\n" + $0 }.joined()
    }

    private struct Summary: Equatable {
        var upserts: [String]
        var files: [[String]]
    }

    /// The keys and objects, and each document's hash, keys, errors and skipped kinds.
    private static func summary(_ results: ManifestFileReader.Results, _ files: [String]) -> Summary {
        Summary(
            upserts: results.upserts.map { "\($0.key) \(String(describing: $0.object))" },
            files: zip(files, results.files).map { file, result in
                ["parsed \(result.parsedDocuments)"] + result.documents.map { document in
                    "\(document.hash) \(document.keys(in: file)) \(document.errors) \(document.skippedKinds.sorted { $0.key < $1.key })"
                }
            })
    }

    func testRunsOfAnyLengthReadLikeOneDocumentAtATime() throws {
        var random = SplitMix64(seed: 0x5EED_9)
        var serial = 0
        var compared = 0
        for round in 0..<12 {
            let files = (0..<3).map { "\(directory)/r\(round)-\($0).yaml" }
            for file in files { try Self.file(&random, serial: &serial).write(toFile: file, atomically: true, encoding: .utf8) }
            let reference = ManifestFileReader.read(files, previous: [:], runDocuments: 1, runBytes: 0)
            let runLength = 2 + Int(random.next() % 70)
            let runs = ManifestFileReader.read(files, previous: [:], runDocuments: runLength, runBytes: 1 << 20)
            XCTAssertEqual(Self.summary(runs, files), Self.summary(reference, files), "round \(round), runs of \(runLength)")
            XCTAssertEqual(
                Self.summary(ManifestFileReader.read(files, previous: [:]), files), Self.summary(reference, files), "round \(round)")

            // A reload: some documents edited, so reused documents break the runs.
            let previous = Dictionary(uniqueKeysWithValues: zip(files, reference.files.map(\.documents)))
            for file in files {
                var text = try String(contentsOfFile: file, encoding: .utf8).components(separatedBy: "---\n")
                for index in text.indices where index > 0 && random.next() % 4 == 0 {
                    serial += 1
                    text[index] = Self.document(&random, serial)
                }
                try text.joined(separator: "---\n").write(toFile: file, atomically: true, encoding: .utf8)
            }
            let reloadReference = ManifestFileReader.read(files, previous: previous, runDocuments: 1, runBytes: 0)
            let reloadRuns = ManifestFileReader.read(files, previous: previous, runDocuments: runLength, runBytes: 1 << 20)
            XCTAssertEqual(Self.summary(reloadRuns, files), Self.summary(reloadReference, files), "reload of round \(round)")
            XCTAssertLessThan(
                reloadRuns.files.map(\.parsedDocuments).reduce(0, +), reference.files.map(\.parsedDocuments).reduce(0, +),
                "documents reused on reload")
            compared += reference.files.map(\.documents.count).reduce(0, +)
        }
        XCTAssertGreaterThan(compared, 500)
    }

    /// A byte that is not UTF-8 in one document of a run, and a syntax error after it: the run
    /// is read again document by document from the file's own bytes, so the documents after
    /// the bad byte are cut where they are (a repaired text is longer than its bytes).
    func testABadByteCostsOnlyItsOwnDocument() throws {
        let file = "\(directory)/bytes.yaml"
        var bytes = Array("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n".utf8)
        bytes += Array("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: ".utf8) + [0xFF, 0xFE] + Array("x}\n".utf8)
        // A syntax error after it sends the run back to be read document by document.
        bytes += Array("---\napiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: [\n".utf8)
        for name in ["b", "c"] {
            bytes += Array("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: \(name)}\n".utf8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: file))
        let reference = ManifestFileReader.read([file], previous: [:], runDocuments: 1, runBytes: 0)
        let runs = ManifestFileReader.read([file], previous: [:], runDocuments: 64, runBytes: 1 << 20)
        XCTAssertEqual(Self.summary(runs, [file]), Self.summary(reference, [file]))
        XCTAssertEqual(runs.files[0].documents.count, 5)
    }

    /// The reference itself: a syntax error in one document of a run loses no other document.
    func testASyntaxErrorCostsOnlyItsOwnDocument() throws {
        let file = "\(directory)/broken.yaml"
        let good = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
        let bad = "apiVersion: v1\nkind: Service\nmetadata: {name: x\nspec: [\n"
        try ("---\n" + good + "---\n" + bad + "---\n" + good.replacingOccurrences(of: "name: a", with: "name: b"))
            .write(toFile: file, atomically: true, encoding: .utf8)
        let results = ManifestFileReader.read([file], previous: [:], runDocuments: 64, runBytes: 1 << 20)
        XCTAssertEqual(results.upserts.count, 2)
        XCTAssertEqual(results.files[0].documents.map(\.errors.count), [0, 1, 0])
        XCTAssertEqual(results.files[0].documents[1].errors.first?.location.document, 1)
    }
}
