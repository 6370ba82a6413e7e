@testable import ClusterRegistry
import DNSTestSupport
import Foundation
import XCTest
import YamsReference

/// Manifests read from libyaml's events into tapes (`YAMLDocumentReader`) must decode exactly as
/// they did through Yams' node trees (issue #9): the same objects, and the same errors with the
/// same documents, lines, fields and messages. Seeded mutations of the demo cluster and of
/// samples that use what YAML allows (anchors, aliases, every null, quoting and block styles,
/// typed lists, empty documents, duplicate keys, containers as keys) are read both ways and
/// compared. It found two defects while it was written: a container key misread the pairs after
/// it, and duplicate container keys went unreported.
final class YAMLTapeEquivalenceTests: XCTestCase {
    static let samples = [
        """
        apiVersion: v1
        kind: List
        items:
        - &svc {apiVersion: v1, kind: Service, metadata: {name: a, namespace: x, labels: &labels {app: a, tier: ~}}, spec: {clusterIP: 10.0.0.1, ports: [{name: http, port: 80}]}}
        - {apiVersion: v1, kind: Service, metadata: {name: b, namespace: x, labels: *labels}, spec: {clusterIP: None, ports: [{port: "80", name: 'web'}]}}
        - *svc
        ---
        apiVersion: v1
        kind: Namespace
        metadata:
          name: "quoted"
          labels:
            a: null
            b: NULL
            c: Null
            d:
            e: "null"
            f: ''
        ---
        ---
        # a comment only
        """,
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: web-abc
          namespace: x
          labels: {kubernetes.io/service-name: web}
        addressType: IPv4
        endpoints:
        - addresses: ["10.1.0.1"]
          conditions: {ready: true}
          hostname: >-
            web-0
        - addresses: [10.1.0.2]
          conditions:
            ready: false
            serving: ~
          targetRef: {kind: Pod, name: web-1, namespace: x}
        - addresses:
          - 10.1.0.3
          hostname: |
            multi
            line
        ports: [{name: http, port: 8080, protocol: TCP}, {name: ~, port: !!str 53, protocol: UDP}]
        """,
        """
        kind: ServiceList
        apiVersion: v1
        items:
        - metadata: {name: typed, namespace: y}
          spec:
            type: ExternalName
            externalName: example.org.
        - metadata: {name: headless, namespace: y}
          spec: {clusterIP: None, clusterIPs: [None], ipFamilies: [IPv4, IPv6]}
        - metadata: {name: bad, namespace: y}
          spec: {ports: [{port: 0}, {port: 70000}, {port: x}]}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: y}
        spec: {hostname: h, subdomain: headless}
        status: {podIP: 10.2.0.4, podIPs: [{ip: 10.2.0.4}, {ip: "fd00::4"}]}
        """,
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: dup
          namespace: z
          name: again
        ? [complex, key]
        : value
        ? {a: b}
        spec: {clusterIP: 10.0.0.9}
        """,
        """
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "json", "namespace": "j",
          "annotations": {"x": "y\\u0041"}}, "spec": {"clusterIP": "10.0.0.10", "ports": [{"port": 53, "name": "dns"}]}}
        """,
        """
        apiVersion: multicluster.x-k8s.io/v1alpha1
        kind: ServiceImport
        metadata: {name: imp, namespace: m}
        spec:
          type: ClusterSetIP
          ips: [10.3.0.1]
          ports: [{name: http, port: 80, protocol: TCP}]
        ---
        - not a mapping
        ---
        plain scalar document
        """,
    ]

    private static func corpus() throws -> [[UInt8]] {
        try ManifestMutations.demoCluster(suffixes: [".yaml", ".json"]) + samples.map { Array($0.utf8) }
    }

    private static let special = Array(" :-\n\t&*!|>'\"#{}[],?~0".utf8) + Array("---\n".utf8) + Array(" &a ".utf8) + Array(" *a".utf8)

    /// Yams names a duplicated container key "<uncovertable>"; the tape says which it is.
    private static func normalized(_ errors: [ManifestError]) -> [ManifestError] {
        errors.map { error in
            var error = error
            error.message = error.message.replacingOccurrences(of: "\"<a list>\"", with: "\"<uncovertable>\"")
                .replacingOccurrences(of: "\"<a mapping>\"", with: "\"<uncovertable>\"")
            return error
        }
    }

    private func assertAlike(_ text: String, _ context: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        let tape = ManifestDecoder.decode(text: text, file: "m.yaml")
        let reference = YamsManifestReader.decode(text: text, file: "m.yaml")
        XCTAssertEqual(tape.objects, reference.objects, context(), file: file, line: line)
        XCTAssertEqual(Self.normalized(tape.errors), reference.errors, "\(context())\n\(text)", file: file, line: line)
    }

    func testTheSamplesDecodeAsWithYams() throws {
        for (index, text) in try Self.corpus().enumerated() {
            assertAlike(String(decoding: text, as: UTF8.self), "text \(index)")
        }
        // The samples mean something: objects and errors both.
        let decoded = Self.samples.map { ManifestDecoder.decode(text: $0, file: "m.yaml") }
        XCTAssertGreaterThan(decoded.map(\.objects.count).reduce(0, +), 8)
        XCTAssertGreaterThan(decoded.map(\.errors.count).reduce(0, +), 3)
    }

    func testMutatedTextsDecodeAsWithYams() throws {
        let corpus = try Self.corpus()
        let seed: UInt64 = 0x7A9E_0009
        var random = SplitMix64(seed: seed)
        var withObjects = 0, withErrors = 0
        for iteration in 0..<10_000 {
            let text = String(decoding: ManifestMutations.mutate(corpus[iteration % corpus.count], &random, special: Self.special, maxEdits: 3), as: UTF8.self)
            let tape = ManifestDecoder.decode(text: text, file: "m.yaml")
            let reference = YamsManifestReader.decode(text: text, file: "m.yaml")
            if !tape.objects.isEmpty { withObjects += 1 }
            if !tape.errors.isEmpty { withErrors += 1 }
            guard tape.objects == reference.objects, Self.normalized(tape.errors) == reference.errors else {
                XCTAssertEqual(tape.objects, reference.objects, "seed \(seed), iteration \(iteration)")
                XCTAssertEqual(Self.normalized(tape.errors), reference.errors, "seed \(seed), iteration \(iteration):\n\(text)")
                return
            }
        }
        XCTAssertGreaterThan(withObjects, 2_500, "seed \(seed)")
        XCTAssertGreaterThan(withErrors, 2_500, "seed \(seed)")
    }

    /// Mappings of more than 32 keys are checked through a set, not pairwise.
    func testDuplicateKeysInALargeMapping() {
        let labels = (0..<40).map { "    k\($0): v\($0)\n" }.joined() + "    k7: again\n    k31: again\n"
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n  labels:\n" + labels
        let tape = ManifestDecoder.decode(text: text, file: "m.yaml")
        XCTAssertEqual(tape.errors.map(\.message), ["duplicate key \"k31\", \"k7\" in a mapping"])
        XCTAssertEqual(tape.errors.first?.location.line, 37, "the first of the sorted keys, where it first occurs")
        assertAlike(text, "40 keys")
        assertAlike(text.replacingOccurrences(of: "    k7: again\n    k31: again\n", with: ""), "40 distinct keys")
    }

    /// An alias copies its anchor's entries: what it names reads the same at both places, and
    /// a container inside it ends where its copy ends.
    func testAnAliasReadsAsItsAnchor() throws {
        let text = "a: &x {b: [1, {c: d}], e: f}\ng: *x\nh: i\n"
        var tapes: [JSONDocument] = []
        let bytes = Array(text.utf8)
        try bytes.withUnsafeBufferPointer { buffer throws(YAMLReadError) in
            try YAMLDocumentReader.readDocuments(buffer) { tapes.append($0) }
        }
        let root = try XCTUnwrap(tapes.first?.root.mapping)
        XCTAssertEqual(root.count, 3)
        let copy = try XCTUnwrap(root.field("g")?.mapping)
        XCTAssertEqual(copy.field("e")?.scalarText, "f")
        XCTAssertEqual(copy.field("b")?.sequence?.count, 2)
        XCTAssertEqual(copy.field("b")?.sequence?.dropFirst().first?.mapping?.field("c")?.scalarText, "d")
        XCTAssertEqual(root.field("h")?.scalarText, "i", "the field after the copy")
    }

    /// What the tape holds for each kind of scalar, as `Resolver.basic` reads it.
    func testScalarsReadAsTheBasicResolverReadsThem() throws {
        let text = "a: ~\nb: null\nc: NULL\nd:\ne: 'null'\nf: 80\ng: \"80\"\nh: true\ni: |\n  x\n"
        let object = try XCTUnwrap(JSONDocument.parseYAML(text)?.root.mapping)
        for key in ["a", "b", "c", "d"] {
            XCTAssertEqual(object[key]?.isNull, true, key)
            XCTAssertNil(object.field(key), key)
        }
        XCTAssertEqual(object.field("e")?.scalarText, "null")
        XCTAssertEqual(object.field("f")?.scalarText, "80")
        XCTAssertEqual(object.field("g")?.scalarText, "80")
        XCTAssertEqual(object.field("h")?.scalarText, "true")
        XCTAssertEqual(object.field("i")?.scalarText, "x\n")
        XCTAssertEqual(object.field("i")?.line, 9)
    }

    func testAnEmptyTextHoldsNoDocument() throws {
        XCTAssertNil(try JSONDocument.parseYAML(""))
        XCTAssertNil(try JSONDocument.parseYAML("# only a comment\n"))
        let decoded = ManifestDecoder.decode(text: "", file: "m.yaml")
        XCTAssertEqual(decoded.objects, [])
        XCTAssertEqual(decoded.errors, [])
    }

    func testErrorsArePlaced() {
        XCTAssertThrowsError(try JSONDocument.parseYAML("a: *nowhere\n")) { error in
            XCTAssertEqual((error as? YAMLReadError)?.kind, .undefinedAlias)
            XCTAssertEqual((error as? YAMLReadError)?.line, 1)
        }
        XCTAssertThrowsError(try JSONDocument.parseYAML("a: b\n  c: d\n")) { error in
            XCTAssertEqual((error as? YAMLReadError)?.kind, .syntax)
            XCTAssertEqual((error as? YAMLReadError)?.line, 2)
        }
        XCTAssertThrowsError(try JSONDocument.parseYAML("a: b\nc: \u{1}\n")) { error in
            XCTAssertEqual((error as? YAMLReadError)?.kind, .reader)
            XCTAssertEqual((error as? YAMLReadError)?.line, 2)
        }
    }
}
