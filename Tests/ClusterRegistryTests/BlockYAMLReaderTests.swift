@testable import ClusterRegistry
import DNSTestSupport
import XCTest

/// The block-subset reader (`BlockYAMLReader`) must give the tapes libyaml's events give, entry
/// for entry and line for line, or give up. Seeded random documents in the subset, and the same
/// with forms outside it mixed in (anchors, flow content, block scalars, escapes, tabs, bad
/// indentation, duplicate keys), are read both ways; so are the demo cluster's manifests.
final class BlockYAMLReaderTests: XCTestCase {
    /// What libyaml makes of `text`: its documents, and the error it stopped at.
    private static func throughLibYAML(_ text: [UInt8]) -> (documents: [JSONDocument], error: YAMLReadError?) {
        var documents: [JSONDocument] = []
        let error: YAMLReadError? = text.withUnsafeBufferPointer { buffer in
            do throws(YAMLReadError) {
                try YAMLDocumentReader.readDocumentsThroughLibYAML(buffer) { documents.append($0) }
                return nil
            } catch {
                return error
            }
        }
        return (documents, error)
    }

    /// What the fast path hands over before it stops, and whether it read the whole text.
    private static func fastPathPrefix(_ text: [UInt8]) -> (documents: [JSONDocument], complete: Bool) {
        var documents: [JSONDocument] = []
        let read = text.withUnsafeBufferPointer { BlockYAMLReader.readDocuments($0) { documents.append($0) } }
        XCTAssertEqual(read.count, documents.count)
        return (documents, read.complete)
    }

    /// The fast path's documents, when it reads the whole text.
    private static func fastPath(_ text: [UInt8]) -> [JSONDocument]? {
        let read = fastPathPrefix(text)
        return read.complete ? read.documents : nil
    }

    /// Every field of every entry, and the bytes the scalars point at.
    private static func describe(_ documents: [JSONDocument]) -> [String] {
        documents.map { document in
            document.entries.map { entry in
                let value = entry.isContainer ? "" : " " + String(decoding: document.bytes[Int(entry.a)..<Int(entry.b)], as: UTF8.self)
                return "\(entry.kind) line \(entry.line) \(entry.a)/\(entry.b) \(entry.escaped)\(value)"
            }.joined(separator: "\n")
        }
    }

    /// The fast path, when it reads `text`, agrees with libyaml; returns whether it read it.
    /// A fast path that stops early has handed over libyaml's first documents, unchanged.
    @discardableResult
    private func assertAgrees(_ text: [UInt8], _ context: String, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let read = Self.fastPathPrefix(text)
        let reference = Self.throughLibYAML(text)
        guard read.complete else {
            XCTAssertEqual(
                Self.describe(read.documents), Self.describe(Array(reference.documents.prefix(read.documents.count))),
                "the documents read before giving up: \(context)\n\(String(decoding: text, as: UTF8.self))", file: file, line: line)
            return false
        }
        let fast = read.documents
        XCTAssertNil(reference.error, "libyaml refuses what the fast path read: \(context)\n\(String(decoding: text, as: UTF8.self))", file: file, line: line)
        XCTAssertEqual(
            Self.describe(fast), Self.describe(reference.documents), "\(context)\n\(String(decoding: text, as: UTF8.self))",
            file: file, line: line)
        return true
    }

    func testTheSubsetIsReadAsLibYAMLReadsIt() {
        let accepted: [String] = [
            "",
            "# only a comment\n",
            "---\n",
            "---",
            "---\n---\n",
            "a: 1\n---\n",
            "a: 1\n---\n# c\n---\nb: 2",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n  labels: {}\nspec:\n  ports:\n  - name: http\n    port: 80\n  - port: 81\n",
            "items:\n- a\n- 'b'\n- \"c\"\n-\n- ~\n- null\n-   d   # comment\nnext: x\n",
            "a:\n  - b: 1\n    c:\n    d: []\n  -\n    e: 2\n",
            "a:    \n  # comment at 2\n# at 0\n      # at 6\n  b: http://x:80/p#frag\n  c: x #y\n  'q k': v\n  \"q\": ''\n",
            "a: -1\nb: -x\nc: 1.5e3\nd: a,b [c] {d}\n",
            "- a: 1\n  b:\n  - x\n  c: 2\n- []\n- {}\n",
            "metadata: {name: svc-0, namespace: ns-1}\nspec:\n  ports: [{name: http, port: 80, protocol: TCP}]\n",
            "a: [fd00::1, 'x', \"y\", http://h:80/p,  {  b : c  }, [], {}]  # c\n- x\n".replacingOccurrences(of: "\n- x", with: ""),
            "- [a#b, {k: [1, [2, {}]]}]\n",
            "--- ", "a: 1\n---   \n",
        ]
        for (index, text) in accepted.enumerated() {
            XCTAssertTrue(assertAgrees(Array(text.utf8), "sample \(index)"), "sample \(index) should be in the subset:\n\(text)")
        }
        let refused: [String] = [
            "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: {b: 1\n  }\n", "a: [1,\n 2]\n", "a: [b: 1]\n", "a: {b, c}\n",
            "a: {b: }\n", "a: [1, ]\n", "a: {b:1}\n", "a: [x:]\n", "a: [x #c]\n", "a: [1] x\n", "a: {\"b\":1}\n", "a: |\n  text\n", "a: >-\n  text\n",
            "a: b\n  c\n", "a: \"x\\ny\"\n", "a: 'it''s'\n", "a:\tb\n", "a: b\r\n", "a: é\n", "%YAML 1.1\n---\na: 1\n",
            "a: 1\n...\n", "--- a: 1\n", "  a: 1\n", "plain\n", "a: b: c\n", "a: 1\n a: 2\n", "a: 1\na: 2\n", "? a\n: b\n",
            "- - a\n", "a: 1\n- b\n", "a: 'open\n  close'\n", "a: b:\n", "a: {", "a: {  ", "a: {b: 1,", "a: [", "a: [1,  ", "a: {\n}\n", "%", "%\n", "a: 1\n%\n",
            "---  # c\n", "...", ".",
        ]
        for text in refused {
            XCTAssertNil(Self.fastPath(Array(text.utf8)), "should be left to libyaml:\n\(text)")
        }
    }

    /// Nesting deeper than the reader recurses is left to libyaml, which keeps its own stack:
    /// A stream whose later document is outside the subset: the fast path hands over the
    /// documents before it, and libyaml reads the rest, skipping those.
    func testLibYAMLTakesOverAfterTheDocumentsReadBeforeIt() {
        let text = Array("a: 1\n---\n---\nb: &x 2\nc: *x\n---\nd: 4\n".utf8)
        let read = Self.fastPathPrefix(text)
        XCTAssertEqual(read.documents.count, 2)
        XCTAssertFalse(read.complete)
        var documents: [JSONDocument] = []
        text.withUnsafeBufferPointer { buffer in
            do throws(YAMLReadError) {
                try YAMLDocumentReader.readDocuments(buffer) { documents.append($0) }
            } catch {
                XCTFail("\(error)")
            }
        }
        let reference = Self.throughLibYAML(text).documents
        XCTAssertEqual(reference.count, 4)
        XCTAssertEqual(Self.describe(documents), Self.describe(reference))
    }

    /// 500 levels go to libyaml; at the limit the fast path still reads.
    func testDeepNestingIsLeftToLibYAML() {
        var text = ""
        for level in 0..<500 { text += String(repeating: " ", count: level) + "a:\n" }
        let bytes = Array(text.utf8)
        XCTAssertNil(Self.fastPath(bytes))
        XCTAssertNil(Self.throughLibYAML(bytes).error)
        var shallow = ""
        for level in 0..<BlockYAMLReader.maxDepth { shallow += String(repeating: " ", count: level) + "a:\n" }
        XCTAssertTrue(assertAgrees(Array(shallow.utf8), "nesting at the limit"))
    }

    func testTheDemoClusterIsReadByTheFastPath() throws {
        let files = try ManifestMutations.demoCluster(suffixes: [".yaml"])
        XCTAssertFalse(files.isEmpty)
        var read = 0
        for (index, text) in files.enumerated() where assertAgrees(text, "demo file \(index)") { read += 1 }
        // The demo's manifests are written as kubectl writes them: all but a few in the subset.
        XCTAssertGreaterThanOrEqual(read * 4, files.count * 3, "the fast path read \(read) of \(files.count) demo files")
    }

    func testSeededRandomDocumentsAgreeWithLibYAML() {
        var random = SplitMix64(seed: 0x5EED_B10C)
        var read = 0, mutated = 0, readUnmutated = 0
        let samples = 6_000
        for sample in 0..<samples {
            var text = RandomBlockYAML.stream(using: &random)
            var mutates = random.next() % 3 == 0
            if mutates {
                text = RandomBlockYAML.mutate(text, using: &random)
                mutated += 1
            }
            var bytes = Array(text.utf8)
            if random.next() % 6 == 0 {
                // Byte-level edits too: cut lines, stray brackets and quotes, cut-off ends.
                bytes = ManifestMutations.mutate(bytes, &random, special: Array(" :-\n{}[],'\"#%.&*!|>?".utf8), maxEdits: 3)
                text = String(decoding: bytes, as: UTF8.self)
                if !mutates { mutated += 1 }
                mutates = true
            }
            if assertAgrees(bytes, "sample \(sample)") {
                read += 1
                if !mutates { readUnmutated += 1 }
            }
            // Whichever way a text is read, the public reader gives libyaml's documents and error.
            var documents: [JSONDocument] = []
            var error: YAMLReadError?
            bytes.withUnsafeBufferPointer { buffer in
                do throws(YAMLReadError) {
                    try YAMLDocumentReader.readDocuments(buffer) { documents.append($0) }
                } catch let failure {
                    error = failure
                }
            }
            let reference = Self.throughLibYAML(bytes)
            XCTAssertEqual(Self.describe(documents), Self.describe(reference.documents), "sample \(sample)\n\(text)")
            XCTAssertEqual(error, reference.error, "sample \(sample)\n\(text)")
        }
        // Both ways must really run: the unmutated samples are in the subset, and many mutated
        // ones are not.
        XCTAssertGreaterThan(readUnmutated * 10, (samples - mutated) * 9, "the fast path read \(readUnmutated) of \(samples - mutated) unmutated")
        XCTAssertLessThan(read - readUnmutated, mutated * 3 / 4, "the fast path read \(read - readUnmutated) of \(mutated) mutated")
    }
}

/// Seeded random YAML streams in the block subset, and mutations that mostly leave it.
enum RandomBlockYAML {
    private static let plainScalars = [
        "a", "web", "10.0.0.1", "80", "true", "null", "Null", "~", "-1", "1.5", "0x1F", "yes", "http://x:80/p", "a b",
        "x#y", "kubernetes.io/service-name", "a,b", "fd00::1", "None", "v1", "2024-01-01T00:00:00Z",
    ]
    private static let quotedScalars = ["'a'", "\"b\"", "''", "\"\"", "'x y'", "\"10.0.0.2\"", "'#not a comment'", "\"a: b\""]
    private static let keys = [
        "name", "namespace", "labels", "app.kubernetes.io/name", "spec", "ports", "port", "clusterIP", "items", "x",
        "'quoted key'", "\"dq\"", "a b", "k-1",
    ]

    static func stream(using random: inout SplitMix64) -> String {
        var text = random.next() % 2 == 0 ? "---\n" : ""
        let documents = 1 + Int(random.next() % 3)
        for index in 0..<documents {
            if index > 0 { text += "---\n" }
            if random.next() % 10 == 0 { continue }  // an empty document
            if random.next() % 5 == 0 { text += "# leading comment\n" }
            text += document(using: &random)
        }
        if random.next() % 6 == 0 { text += "---\n" }
        if random.next() % 8 == 0, text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    private static func document(using random: inout SplitMix64) -> String {
        var lines: [String] = []
        let step = random.next() % 3 == 0 ? 4 : 2
        if random.next() % 6 == 0 {
            sequence(depth: 0, indent: 0, step: step, into: &lines, using: &random)
        } else {
            mapping(depth: 0, indent: 0, step: step, into: &lines, using: &random)
        }
        return lines.map { $0 + "\n" }.joined()
    }

    private static func pick(_ values: [String], _ random: inout SplitMix64) -> String {
        values[Int(random.next() % UInt64(values.count))]
    }

    private static func scalar(_ random: inout SplitMix64) -> String {
        switch random.next() % 10 {
        case 0: return ""
        case 1, 2: return pick(quotedScalars, &random)
        case 3: return random.next() % 2 == 0 ? "{}" : "[]"
        case 4: return flow(depth: 0, &random)
        default: return pick(plainScalars, &random)
        }
    }

    /// A flow collection on one line, with random spacing.
    private static func flow(depth: Int, _ random: inout SplitMix64) -> String {
        let count = Int(random.next() % 4)
        let space = random.next() % 4 == 0 ? "  " : (random.next() % 5 == 0 ? "" : " ")
        var items: [String] = []
        var used: Set<String> = []
        let isMapping = random.next() % 2 == 0
        for _ in 0..<count {
            let value: String
            switch depth < 2 ? random.next() % 6 : 5 {
            case 0: value = flow(depth: depth + 1, &random)
            case 1: value = pick(quotedScalars, &random)
            default: value = pick(flowScalars, &random)
            }
            if isMapping {
                var key = pick(flowScalars + ["'q k'", "\"dq\""], &random)
                if used.contains(key) { key = "k\(used.count)" }
                used.insert(key)
                items.append(key + (random.next() % 6 == 0 ? " " : "") + ": " + value)
            } else {
                items.append(value)
            }
        }
        let inner = items.joined(separator: "," + space)
        let body = inner.isEmpty ? (random.next() % 3 == 0 ? " " : "") : space + inner + space
        return isMapping ? "{" + body + "}" : "[" + body + "]"
    }

    private static let flowScalars = ["a", "web", "80", "true", "~", "null", "-1", "10.0.0.1", "fd00::1", "http://x:80/p", "x#y", "a b", "TCP"]

    private static func comment(_ random: inout SplitMix64) -> String { random.next() % 7 == 0 ? "  # note" : "" }

    private static func interleave(_ lines: inout [String], _ random: inout SplitMix64) {
        switch random.next() % 12 {
        case 0: lines.append("")
        case 1: lines.append(String(repeating: " ", count: Int(random.next() % 6)) + "# a comment line")
        default: break
        }
    }

    private static func mapping(depth: Int, indent: Int, step: Int, into lines: inout [String], using random: inout SplitMix64) {
        let count = 1 + Int(random.next() % 4)
        var used: Set<String> = []
        for _ in 0..<count {
            var key = pick(keys, &random)
            if used.contains(key) { key = "k\(used.count)" }
            used.insert(key)
            interleave(&lines, &random)
            let pad = String(repeating: " ", count: indent)
            switch depth < 3 ? random.next() % 4 : 0 {
            case 1:
                lines.append(pad + key + ":" + comment(&random))
                mapping(depth: depth + 1, indent: indent + step, step: step, into: &lines, using: &random)
            case 2:
                lines.append(pad + key + ":")
                // A sequence under a key: indentless (at the key's column) or indented.
                sequence(depth: depth + 1, indent: random.next() % 2 == 0 ? indent : indent + step, step: step, into: &lines, using: &random)
            default:
                let value = scalar(&random)
                lines.append(pad + key + ":" + (value.isEmpty ? "" : " " + value) + comment(&random))
            }
        }
    }

    private static func sequence(depth: Int, indent: Int, step: Int, into lines: inout [String], using random: inout SplitMix64) {
        let count = 1 + Int(random.next() % 4)
        let pad = String(repeating: " ", count: indent)
        for _ in 0..<count {
            interleave(&lines, &random)
            switch depth < 3 ? random.next() % 4 : 0 {
            case 1:
                // A compact mapping: its first key after the dash, the others at its column.
                var nested: [String] = []
                mapping(depth: depth + 1, indent: indent + 2, step: step, into: &nested, using: &random)
                guard let first = nested.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty && !$0.contains("# a comment line") })
                else { continue }
                nested[first] = pad + "- " + nested[first].dropFirst(indent + 2)
                lines += nested[first...]
            case 2:
                lines.append(pad + "-")
                mapping(depth: depth + 1, indent: indent + step, step: step, into: &lines, using: &random)
            default:
                let value = scalar(&random)
                lines.append(pad + "-" + (value.isEmpty ? "" : " " + value) + comment(&random))
            }
        }
    }

    private static let outside = [
        "&a ", "*a", "!!str ", "{a: 1}", "[1, 2]", "|\n  block", ">-\n  folded", "\"esc\\n\"", "'it''s'", "\t", "\r", "é",
        "\n  continued", "\n...", "\n%TAG ! x\n", ": ", "\n- ", "\n ", "? ", "\"open", "#", "---", "{", "}", "[", "]", ",",
        ":", "[a: b]", "{a, b}",
    ]

    /// The text with a form from outside the subset, a deleted or duplicated line, or a line
    /// moved one column, at a random place.
    static func mutate(_ text: String, using random: inout SplitMix64) -> String {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        guard !lines.isEmpty else { return text }
        let index = Int(random.next() % UInt64(lines.count))
        switch random.next() % 4 {
        case 0:
            lines.remove(at: index)
        case 1:
            lines.insert(lines[index], at: index)
        case 2:
            lines[index] = " " + lines[index]
        default:
            var line = lines[index]
            let offset = line.isEmpty ? 0 : Int(random.next() % UInt64(line.count + 1))
            line.insert(contentsOf: pick(outside, &random), at: line.index(line.startIndex, offsetBy: offset))
            lines[index] = line
        }
        return lines.joined(separator: "\n")
    }
}
