@testable import DNSServer
import Foundation
import Logging
import XCTest

/// The start-up and reload lines' two forms: text with logfmt pairs, and one JSON object a line.
final class LogLineHandlerTests: XCTestCase {
    func testTextIsTheMessageThenSortedLogfmtPairs() {
        let line = LogLineHandler.text(
            message: "reload: ok in 12 ms", metadata: ["trigger": "change", "build_ms": "8", "error": "a \"b\" c"])
        XCTAssertEqual(line, #"reload: ok in 12 ms build_ms=8 error="a \"b\" c" trigger=change"#)
        XCTAssertEqual(LogLineHandler.text(message: "plain", metadata: [:]), "plain")
        XCTAssertEqual(LogLineHandler.logfmtValue(""), #""""#)
        XCTAssertEqual(LogLineHandler.logfmtValue("a=b"), #""a=b""#)
    }

    func testJSONIsOneParsableObjectWithNumbersAsNumbers() throws {
        let line = LogLineHandler.json(
            level: .warning, label: "clusterdns.kubernetes", message: "line\nbreak \u{1}",
            metadata: ["objects": "42", "resource": "/api/v1/services"])
        XCTAssertFalse(line.contains("\n"))
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        XCTAssertEqual(object["level"] as? String, "warning")
        XCTAssertEqual(object["logger"] as? String, "clusterdns.kubernetes")
        XCTAssertEqual(object["msg"] as? String, "line\nbreak \u{1}")
        XCTAssertEqual(object["objects"] as? Int, 42)
        XCTAssertEqual(object["resource"] as? String, "/api/v1/services")
        let time = try XCTUnwrap(object["time"] as? String)
        XCTAssertNotNil(ISO8601DateFormatter().date(from: String(time.prefix(19)) + "Z"), time)
    }
}
