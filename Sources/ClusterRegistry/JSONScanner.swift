#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads JSON text (RFC 8259) into `JSONDocument` tapes: one value at a time, so that a list
/// page's items can be decoded and released one by one instead of as one tree.
///
/// Iterative (an explicit stack of open containers), so deep nesting cannot overflow the
/// thread's stack. Strings are checked (control characters, escapes, UTF-8) but only
/// unescaped when read.
struct JSONScanner {
    typealias Entry = JSONDocument.Entry

    let bytes: [UInt8]
    var position = 0
    private(set) var line = 1
    private var entries: [Entry] = []
    /// Tape indices of the containers being read, innermost last.
    private var open: [Int] = []
    /// Entries of the value read last: the next one, a list's next item, is likely as long, so
    /// its tape is allocated once rather than grown by doubling.
    private var lastEntryCount = 16
    /// A field name whose container values no rule reads (the API's `managedFields`): they are
    /// scanned past without entries and read as an empty object.
    private let skippedField: StaticString?
    /// The closing brackets of the containers being skipped, innermost last.
    private var skipping: [UInt8] = []

    init(bytes: [UInt8], skipping skippedField: StaticString? = nil) {
        self.bytes = bytes
        self.skippedField = skippedField
    }

    /// Reads one value from the current position into its own document.
    mutating func value() throws(JSONSyntaxError) -> JSONDocument {
        // Offsets are stored in 32 bits: bodies are capped far below (WatchTiming.maxPageBytes).
        guard bytes.count < Int(UInt32.max) else { throw failure("text too large") }
        entries = []
        entries.reserveCapacity(lastEntryCount + lastEntryCount / 8)
        try readValue()
        lastEntryCount = entries.count
        return JSONDocument(bytes: bytes, entries: entries)
    }

    mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if position < bytes.count { throw failure("unexpected data after the value") }
    }

    /// Reads `{ … }` whose field `arrayKey` holds an array: each element is handed to `each`
    /// as its own document and not kept; the other fields are returned.
    mutating func objectStreaming(
        arrayKey: String, each: (JSONValue) -> Void
    ) throws(JSONSyntaxError) -> [String: JSONValue] {
        var fields: [String: JSONValue] = [:]
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            position += 1
            return fields
        }
        repeat {
            skipWhitespace()
            let token = try scanString()
            let key = token.escaped
                ? Self.unescape(bytes[token.start..<token.end]) : String(decoding: bytes[token.start..<token.end], as: UTF8.self)
            try expect(UInt8(ascii: ":"))
            if key == arrayKey, try peek() == UInt8(ascii: "[") {
                position += 1
                if try peek() == UInt8(ascii: "]") {
                    position += 1
                } else {
                    repeat {
                        each(try value().root)
                    } while try separator(closing: UInt8(ascii: "]"))
                }
            } else {
                fields[key] = try value().root
            }
        } while try separator(closing: UInt8(ascii: "}"))
        return fields
    }

    // MARK: - Values

    private mutating func readValue() throws(JSONSyntaxError) {
        open.removeAll(keepingCapacity: true)
        while true {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let isObject = byte == UInt8(ascii: "{")
                open.append(entries.count)
                append(isObject ? .object : .array, escaped: false, a: 0, b: 0)
                position += 1
                if try peek() == (isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) {
                    position += 1
                    close()
                } else {
                    // A skipped first field's value is read already: count it and go on.
                    if isObject, try readKey(), try valueEnded() { return }
                    continue
                }
            case UInt8(ascii: "\""):
                let token = try scanString()
                append(.string, escaped: token.escaped, a: token.start, b: token.end)
            case UInt8(ascii: "t"): try readLiteral("true")
            case UInt8(ascii: "f"): try readLiteral("false")
            case UInt8(ascii: "n"): try readLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): try readNumber()
            default: throw failure("unexpected character \(Self.shown(byte))")
            }
            if try valueEnded() { return }
        }
    }

    /// After a value: counts it in its container and closes the containers that end here.
    /// True when the outermost value is complete; false when another value follows.
    private mutating func valueEnded() throws(JSONSyntaxError) -> Bool {
        while let container = open.last {
            entries[container].b += 1
            let isObject = entries[container].kind == .object
            guard try separator(closing: isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")) else {
                close()
                continue
            }
            // A skipped field's value is read already: count it and look past it.
            if isObject, try readKey() { continue }
            return false
        }
        return true
    }

    /// Reads "," (true) or `closing` (false) after an element.
    private mutating func separator(closing: UInt8) throws(JSONSyntaxError) -> Bool {
        let byte = try peek()
        position += 1
        if byte == UInt8(ascii: ",") { return true }
        if byte == closing { return false }
        position -= 1
        throw failure("expected \",\" or \"\(Character(Unicode.Scalar(closing)))\", got \(Self.shown(byte))")
    }

    private mutating func close() {
        let container = open.removeLast()
        entries[container].a = UInt32(entries.count)
    }

    /// Reads a key and its colon. True when it is the skipped field with a container value,
    /// which is then read too (`skipContainer`): its place on the tape holds an empty object.
    private mutating func readKey() throws(JSONSyntaxError) -> Bool {
        guard try peek() == UInt8(ascii: "\"") else { throw failure("expected a key (a string)") }
        let token = try scanString()
        append(.string, escaped: token.escaped, a: token.start, b: token.end)
        try expect(UInt8(ascii: ":"))
        guard let skippedField, !token.escaped, token.end - token.start == skippedField.utf8CodeUnitCount else { return false }
        let matches = bytes.withUnsafeBufferPointer { bytes in
            memcmp(bytes.baseAddress! + token.start, skippedField.utf8Start, skippedField.utf8CodeUnitCount) == 0
        }
        let next = try peek()
        guard matches, next == UInt8(ascii: "{") || next == UInt8(ascii: "[") else { return false }
        let line = self.line
        try skipContainer()
        entries.append(Entry(kind: .object, escaped: false, line: UInt32(truncatingIfNeeded: line), a: UInt32(entries.count + 1), b: 0))
        return true
    }

    /// Moves past the object or array at `position` without making entries. Its strings are
    /// checked as everywhere (`scanString`) and its brackets must pair up; the commas, colons
    /// and scalars between them are only stepped over, as a field no rule reads needs no more.
    private mutating func skipContainer() throws(JSONSyntaxError) {
        skipping.removeAll(keepingCapacity: true)
        repeat {
            let byte = try peek()
            switch byte {
            case UInt8(ascii: "\""):
                _ = try scanString()
            case UInt8(ascii: "{"):
                skipping.append(UInt8(ascii: "}"))
                position += 1
            case UInt8(ascii: "["):
                skipping.append(UInt8(ascii: "]"))
                position += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard skipping.last == byte else { throw failure("unexpected \(Self.shown(byte))") }
                skipping.removeLast()
                position += 1
            default:
                position += 1
            }
        } while !skipping.isEmpty
    }

    private mutating func append(_ kind: Entry.Kind, escaped: Bool, a: Int, b: Int) {
        entries.append(Entry(kind: kind, escaped: escaped, line: UInt32(truncatingIfNeeded: line), a: UInt32(a), b: UInt32(b)))
    }

    private mutating func readLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let start = position
        let length = word.utf8CodeUnitCount
        let matches = word.withUTF8Buffer { word in
            start + length <= bytes.count && bytes[start..<start + length].elementsEqual(word)
        }
        guard matches else { throw failure("unexpected character \(Self.shown(bytes[start]))") }
        position += length
        append(.literal, escaped: false, a: start, b: position)
    }

    /// RFC 8259 §6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func readNumber() throws(JSONSyntaxError) {
        let start = position
        if byte(at: position) == UInt8(ascii: "-") { position += 1 }
        if byte(at: position) == UInt8(ascii: "0") {
            position += 1
        } else if try digits() == 0 {
            throw failure("invalid number")
        }
        if byte(at: position) == UInt8(ascii: ".") {
            position += 1
            if try digits() == 0 { throw failure("invalid number") }
        }
        if byte(at: position) | 0x20 == UInt8(ascii: "e") {
            position += 1
            if byte(at: position) == UInt8(ascii: "+") || byte(at: position) == UInt8(ascii: "-") { position += 1 }
            if try digits() == 0 { throw failure("invalid number") }
        }
        append(.number, escaped: false, a: start, b: position)
    }

    private mutating func digits() throws(JSONSyntaxError) -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return position - start
    }

    // MARK: - Bytes

    private func byte(at offset: Int) -> UInt8 { offset < bytes.count ? bytes[offset] : 0 }

    /// The next byte after whitespace (not consumed).
    private mutating func peek() throws(JSONSyntaxError) -> UInt8 {
        skipWhitespace()
        guard position < bytes.count else { throw failure("unexpected end of text") }
        return bytes[position]
    }

    private mutating func expect(_ expected: UInt8) throws(JSONSyntaxError) {
        let byte = try peek()
        guard byte == expected else {
            throw failure("expected \"\(Character(Unicode.Scalar(expected)))\", got \(Self.shown(byte))")
        }
        position += 1
    }

    private mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): position += 1
            case UInt8(ascii: "\n"):
                line += 1
                position += 1
            default: return
            }
        }
    }

    func failure(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: message, offset: position, line: line)
    }

    private static func shown(_ byte: UInt8) -> String {
        (0x21..<0x7f).contains(byte) ? "\"\(Character(Unicode.Scalar(byte)))\"" : "byte 0x\(String(byte, radix: 16))"
    }
}
