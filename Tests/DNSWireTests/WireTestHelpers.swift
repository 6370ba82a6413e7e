import DNSWire
import DNSTestSupport
import XCTest

// Shared helpers for the DNSWire tests. Everything here builds bytes by hand or wraps the API
// under test; nothing derives expectations from the encoder itself.

enum Hex {
    struct BadHex: Error, CustomStringConvertible {
        var description: String
    }

    /// Whitespace-separated hex bytes; `#` starts a comment that runs to the end of the line.
    static func parse(_ text: String) throws -> [UInt8] {
        var bytes: [UInt8] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let content = line.prefix { $0 != "#" }
            for token in content.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" }) {
                guard token.count == 2, let byte = UInt8(token, radix: 16) else {
                    throw BadHex(description: "bad hex token '\(token)'")
                }
                bytes.append(byte)
            }
        }
        return bytes
    }

    static func format(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined(separator: " ")
    }
}

/// A name from presentation text; a parse failure fails the calling test.
func dn(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> DomainName {
    do {
        return try DomainName(text)
    } catch {
        XCTFail("cannot parse name '\(text)': \(error)", file: file, line: line)
        return .root
    }
}

func address(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> IPAddress {
    guard let value = IPAddress(text) else {
        XCTFail("cannot parse address '\(text)'", file: file, line: line)
        return .v4(0)
    }
    return value
}

/// ASCII bytes of `text`.
func ascii(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Uncompressed wire form written out by hand: `wire("www", "example", "com")`.
func wire(_ labels: String...) -> [UInt8] {
    labels.flatMap { [UInt8($0.utf8.count)] + ascii($0) } + [0]
}

/// A 12-byte header written out by hand.
func headerBytes(id: UInt16, flags: UInt16, qd: UInt16 = 0, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
    [id, flags, qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
}

func be16(_ value: UInt16) -> [UInt8] { [UInt8(value >> 8), UInt8(value & 0xFF)] }
func be32(_ value: UInt32) -> [UInt8] { be16(UInt16(value >> 16)) + be16(UInt16(value & 0xFFFF)) }

/// Asserts that `body` throws exactly `expected`.
func assertThrows<T>(
    _ expected: DNSWireError, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) {
    do {
        let value = try body()
        XCTFail("expected \(expected), got \(value). \(message())", file: file, line: line)
    } catch {
        XCTAssertEqual(error as? DNSWireError, expected, message(), file: file, line: line)
    }
}

/// Asserts that `body` throws an error accepted by `matches`; returns it.
@discardableResult
func assertThrows<T>(
    matching matches: (DNSWireError) -> Bool, _ message: @autoclosure () -> String = "",
    file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T
) -> DNSWireError? {
    do {
        let value = try body()
        XCTFail("expected an error, got \(value). \(message())", file: file, line: line)
        return nil
    } catch let error as DNSWireError {
        XCTAssertTrue(matches(error), "unexpected \(error). \(message())", file: file, line: line)
        return error
    } catch {
        XCTFail("not a DNSWireError: \(error). \(message())", file: file, line: line)
        return nil
    }
}

func isTruncated(_ error: DNSWireError) -> Bool {
    if case .truncated = error { return true } else { return false }
}

func isInvalidPresentation(_ error: DNSWireError) -> Bool {
    if case .invalidPresentation = error { return true } else { return false }
}

/// Runs the per-query parser over `bytes` with a 255-byte name buffer (the documented minimum).
func parseQuery(_ bytes: [UInt8]) -> (result: QueryParseResult, name: [UInt8]) {
    var buffer = [UInt8](repeating: 0xEE, count: DomainName.maxWireLength)
    let result = bytes.withUnsafeBytes { packet in
        buffer.withUnsafeMutableBytes { QueryParser.parse(packet, nameBuffer: $0) }
    }
    return (result, buffer)
}

extension DNSMessage {
    /// The message with header counts matching its sections, as a decoder reports them.
    var withCounts: DNSMessage {
        var copy = self
        copy.header.questionCount = UInt16(questions.count)
        copy.header.answerCount = UInt16(answers.count)
        copy.header.authorityCount = UInt16(authorities.count)
        copy.header.additionalCount = UInt16(additionals.count + (edns == nil ? 0 : 1))
        return copy
    }
}

/// A compression pointer (RFC 1035 §4.1.4) to `offset`, written by hand.
func pointer(to offset: Int) -> [UInt8] {
    [0xC0 | UInt8(offset >> 8), UInt8(offset & 0xFF)]
}
