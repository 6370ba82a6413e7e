@testable import ClusterRegistry
import DNSTestSupport
import XCTest

/// The API's `managedFields` are stepped over by the scanner (`JSONDocument.parse(_:skipping:)`),
/// not put on the tape: a document must read exactly as the same text with each such container
/// replaced by `{}`, and what is stepped over must still be well-formed enough to find its end.
final class JSONSkippedFieldTests: XCTestCase {
    private let field: StaticString = "managedFields"

    private func parse(_ text: String, skipping: Bool) throws -> JSONValue {
        try JSONDocument.parse(Array(text.utf8), skipping: skipping ? field : nil).root
    }

    /// Every value with its kind, text and line, in document order.
    private func shown(_ value: JSONValue) -> String {
        if let object = value.object {
            return "{" + object.pairs.map { "\($0.key.scalarText ?? "?")@\($0.key.line ?? 0):\(shown($0.value))" }.joined(separator: ",") + "}"
        }
        if let array = value.array { return "[" + array.map(shown).joined(separator: ",") + "]" }
        return "\(value.isString ? "s" : value.isNull ? "0" : "t")\(value.scalarText ?? "?")@\(value.line ?? 0)"
    }

    func testASkippedFieldReadsAsAnEmptyObjectAndTheRestIsUnchanged() throws {
        let text = #"{"metadata":{"name":"a","managedFields":[{"manager":"kubectl","fieldsV1":{"f:spec":{".":{},"k:{\"port\":80}":{}}}}],"uid":"u"},"spec":{"x":[1,2]}}"#
        let skipped = try parse(text, skipping: true)
        let metadata = try XCTUnwrap(skipped.object?.field("metadata")?.object)
        XCTAssertEqual(metadata.field("name")?.string, "a")
        XCTAssertEqual(metadata.field("uid")?.string, "u", "the field after the skipped one")
        XCTAssertEqual(metadata.field("managedFields")?.object?.count, 0)
        XCTAssertEqual(skipped.object?.field("spec")?.object?.field("x")?.array?.count, 2)
        let full = try parse(text, skipping: false)
        XCTAssertEqual(full.object?.field("metadata")?.object?.field("managedFields")?.array?.count, 1, "read in full when not skipped")
    }

    func testAScalarOrAFirstOrLastSkippedFieldIsReadCorrectly() throws {
        XCTAssertEqual(try parse(#"{"managedFields":"x","b":1}"#, skipping: true).object?.field("managedFields")?.string, "x")
        XCTAssertEqual(try parse(#"{"managedFields":null}"#, skipping: true).object?.count, 1)
        let first = try parse(#"{"managedFields":{"a":[{}]},"b":1}"#, skipping: true).object
        XCTAssertEqual(first?.field("b")?.scalarText, "1")
        XCTAssertEqual(first?.count, 2)
        let only = try parse(#"[{"managedFields":[]}]"#, skipping: true).array?.first?.object
        XCTAssertEqual(only?.count, 1)
        XCTAssertEqual(only?.field("managedFields")?.object?.count, 0)
    }

    func testWhatIsSteppedOverMustStillEnd() {
        let bad = [
            #"{"managedFields":[{"a":"x}]}"#,  // unterminated string
            #"{"managedFields":[}"#,  // brackets that do not pair
            #"{"managedFields":{"a":"\x"}}"#,  // not one of JSON's escapes
            #"{"managedFields":[1,2"#,  // the text ends inside
            "{\"managedFields\":[\"\u{1}\"]}",  // a control character in a string
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text, skipping: true), "accepted: \(text)")
        }
        XCTAssertThrowsError(try JSONDocument.parse(Array(#"{"managedFields":[""#.utf8) + [0xff, 0x22, 0x5d, 0x7d], skipping: field), "invalid UTF-8")
    }

    func testLinesAfterASkippedFieldAreCounted() throws {
        let object = try XCTUnwrap(parse("{\"managedFields\": [\n{\"a\":\n1}\n],\n\"b\": 2}", skipping: true).object)
        XCTAssertEqual(object.field("b")?.line, 5)
    }

    /// Seeded random documents with `managedFields` at random depths, against the same text
    /// with those containers replaced by `{}` and read without skipping. Newlines inside a
    /// skipped container are kept after its `{}`, so every line number must agree too.
    func testRandomDocumentsReadAsTheTextWithoutTheSkippedContainers() throws {
        var random = SplitMix64(seed: 0x5EED_5C1F)
        for round in 0..<400 {
            var generator = RandomJSON(random: random)
            let (text, expected) = generator.value(depth: 0)
            random = generator.random
            let skipped = try parse(text, skipping: true)
            let reference = try parse(expected, skipping: false)
            XCTAssertEqual(shown(skipped), shown(reference), "round \(round): \(text)")
        }
    }
}

/// Random JSON text and, beside it, the text with every container value of `managedFields`
/// replaced by `{}` and its newlines.
private struct RandomJSON {
    var random: SplitMix64

    mutating func below(_ bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    mutating func value(depth: Int) -> (String, String) {
        switch below(depth > 4 ? 3 : 6) {
        case 0: return same(["1", "-2.5e3", "true", "null", "0"][below(5)])
        case 1: return same(string())
        case 2: return same(space() + string() + space())
        case 3:
            var text = "[", expected = "["
            for index in 0..<below(4) {
                let (item, itemExpected) = value(depth: depth + 1)
                text += (index > 0 ? "," : "") + item
                expected += (index > 0 ? "," : "") + itemExpected
            }
            return (text + "]", expected + "]")
        default:
            var text = "{", expected = "{"
            for index in 0..<below(5) {
                let separator = index > 0 ? "," : ""
                let key = below(3) == 0 ? "\"managedFields\"" : string()
                let (item, itemExpected) = value(depth: depth + 1)
                text += separator + key + ":" + item
                if key == "\"managedFields\"", let first = item.trimmingLeadingSpace.first, first == "{" || first == "[" {
                    let newlines = item.filter { $0 == "\n" }.count
                    expected += separator + key + ":" + "{}" + String(repeating: "\n", count: newlines)
                } else {
                    expected += separator + key + ":" + itemExpected
                }
            }
            return (text + "}", expected + "}")
        }
    }

    mutating func space() -> String { ["", " ", "\n", " \n\t"][below(4)] }

    mutating func string() -> String {
        let pieces = ["a", "f:spec", "\\\"", "\\\\", "\\u00e9", "{", "}", "[", "]", ":", ",", "k:{\\\"port\\\":80}", "é", " "]
        return "\"" + (0..<below(5)).map { _ in pieces[below(pieces.count)] }.joined() + "\""
    }

    func same(_ text: String) -> (String, String) { (text, text) }
}

private extension String {
    var trimmingLeadingSpace: Substring { drop { $0 == " " || $0 == "\n" || $0 == "\t" } }
}
