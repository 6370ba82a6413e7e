@testable import ClusterRegistry
import XCTest

/// The JSON reader the API source uses (RFC 8259), read the way `Resolver.basic` reads YAML.
final class JSONDocumentTests: XCTestCase {
    private func parse(_ text: String) throws -> JSONValue {
        try JSONDocument.parse(Array(text.utf8)).root
    }

    func testScalarsAreTextAsWritten() throws {
        let object = try XCTUnwrap(parse(#"{"s":"80","n":80,"f":-1.5e+3,"t":true,"z":null,"q":"null","e":""}"#).object)
        XCTAssertEqual(object.field("s")?.scalarText, "80")
        XCTAssertEqual(object.field("s")?.isString, true)
        XCTAssertEqual(object.field("n")?.scalarText, "80")
        XCTAssertEqual(object.field("n")?.string, nil, "a number is not a string")
        XCTAssertEqual(object.field("f")?.scalarText, "-1.5e+3")
        XCTAssertEqual(object.field("t")?.scalarText, "true")
        XCTAssertNil(object.field("z"), "null counts as absent")
        XCTAssertEqual(object["z"]?.isNull, true)
        XCTAssertEqual(object.field("q")?.scalarText, "null", "a quoted null is a string")
        XCTAssertEqual(object.field("e")?.scalarText, "")
        XCTAssertNil(object.field("missing"))
        XCTAssertEqual(object.count, 7)
        XCTAssertEqual(object.pairs.map { $0.key.scalarText ?? "?" }, ["s", "n", "f", "t", "z", "q", "e"])
    }

    func testNestedContainersAreSkippedAsWholes() throws {
        let object = try XCTUnwrap(parse(#"{"a":{"b":[1,{"c":[]},[[]]],"d":{}},"e":[true,false,null],"f":"x"}"#).object)
        XCTAssertEqual(object.field("f")?.scalarText, "x")
        let list = try XCTUnwrap(object.field("e")?.sequence)
        XCTAssertEqual(list.count, 3)
        XCTAssertEqual(list.map { $0.shownValue }, ["\"true\"", "\"false\"", "null"])
        let inner = try XCTUnwrap(object.field("a")?.mapping?.field("b")?.sequence)
        XCTAssertEqual(inner.map(\.shownValue), ["\"1\"", "a mapping", "a list"])
        XCTAssertEqual(object.field("a")?.mapping?.field("d")?.mapping?.count, 0)
    }

    func testEscapesAndUnicode() throws {
        let object = try XCTUnwrap(parse(#"{"k\"ey":"a\/b\\c\n\t\u00e9\ud83d\ude00\ud800x","plain":"grüße"}"#).object)
        XCTAssertEqual(object.field("k\"ey")?.scalarText, "a/b\\c\n\t\u{e9}\u{1F600}\u{FFFD}x")
        XCTAssertEqual(object.field("plain")?.scalarText, "grüße")
    }

    func testLinesAreCounted() throws {
        let object = try XCTUnwrap(parse("{\n  \"a\": 1,\n  \"b\": {\n    \"c\": [\n      \"x\"\n    ]\n  }\n}").object)
        XCTAssertEqual(object.line, 1)
        XCTAssertEqual(object.field("a")?.line, 2)
        XCTAssertEqual(object.field("b")?.line, 3)
        XCTAssertEqual(object.field("b")?.mapping?.field("c")?.sequence?.first?.line, 5)
    }

    func testMalformedTextIsRejected() {
        let bad = [
            "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}", "'x'", "01", "1.", "-", "1e",
            "tru", "nul", "\"unterminated", "\"tab\there\"", #""\x""#, #""\u12G4""#, "{} {}", "[\"\u{1}\"]",
        ]
        for text in bad {
            XCTAssertThrowsError(try parse(text), "accepted: \(text)")
        }
        XCTAssertThrowsError(try JSONDocument.parse([0x22, 0xff, 0x22]), "invalid UTF-8")
        XCTAssertEqual(try parse("  [ ]  ").sequence?.count, 0)
    }

    func testSyntaxErrorsNameLineAndByte() {
        XCTAssertThrowsError(try parse("{\n\"a\": [1,\n 2 3]}")) { error in
            XCTAssertEqual((error as? JSONSyntaxError)?.line, 3)
            XCTAssertEqual("\(error)", #"JSON syntax error at line 3, byte 14: expected "," or "]", got "3""#)
        }
    }

    func testDeepNestingDoesNotRecurse() throws {
        let depth = 100_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        XCTAssertEqual(try parse(text).sequence?.count, 1)
    }

    func testStreamingAListHandsOverOneItemAtATime() throws {
        let text = #"{"kind":"ServiceList","metadata":{"resourceVersion":"7"},"items":[{"n":1},{"n":2}],"apiVersion":"v1"}"#
        var seen: [String] = []
        let fields = try JSONDocument.readObject(Array(text.utf8), streaming: "items") { item in
            seen.append(item.mapping?.field("n")?.scalarText ?? "?")
        }
        XCTAssertEqual(seen, ["1", "2"])
        XCTAssertEqual(fields.keys.sorted(), ["apiVersion", "kind", "metadata"])
        XCTAssertEqual(fields["metadata"]?.mapping?.field("resourceVersion")?.string, "7")
        XCTAssertNoThrow(try JSONDocument.readObject(Array(#"{"items":[]}"#.utf8), streaming: "items") { _ in })
        XCTAssertThrowsError(try JSONDocument.readObject(Array(#"{"items":[{}]"#.utf8), streaming: "items") { _ in })
        XCTAssertThrowsError(try JSONDocument.readObject(Array("[]".utf8), streaming: "items") { _ in })
    }
}
