extension JSONScanner {
    /// Scans the string at `position` (its opening quote) and moves past it; `start..<end` is
    /// its content between the quotes. RFC 8259 §7: no raw control characters, only the listed
    /// escapes, and (§8.1) valid UTF-8.
    mutating func scanString() throws(JSONSyntaxError) -> (start: Int, end: Int, escaped: Bool) {
        let start = position + 1
        var escaped = false
        var ascii = true
        var problem: (offset: Int, message: String)?
        let end: Int = bytes.withUnsafeBufferPointer { buffer in
            var index = start
            while index < buffer.count {
                // Eight plain bytes at a time: most of an API object's bytes are in strings
                // (managedFields above all), and a byte-at-a-time walk was most of its scan.
                if index + 8 <= buffer.count,
                   !Self.needsLook(UnsafeRawPointer(buffer.baseAddress! + index).loadUnaligned(as: UInt64.self)) {
                    index += 8
                    continue
                }
                let byte = buffer[index]
                if byte == UInt8(ascii: "\"") { return index }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    let length = Self.escapeLength(buffer, at: index)
                    if length == 0 {
                        problem = (index, "invalid escape in a string")
                        return index
                    }
                    index += length
                    continue
                }
                if byte < 0x20 {
                    problem = (index, "control character in a string")
                    return index
                }
                if byte >= 0x80 { ascii = false }
                index += 1
            }
            problem = (index, "unterminated string")
            return index
        }
        if let problem {
            position = problem.offset
            throw failure(problem.message)
        }
        if !ascii, String(validating: bytes[start..<end], as: UTF8.self) == nil {
            position = start
            throw failure("invalid UTF-8 in a string")
        }
        position = end + 1
        return (start, end, escaped)
    }

    /// Whether any of the eight bytes in `word` is a quote, a backslash, a control character
    /// or not ASCII: the bytes `scanString` must look at one by one. It is the classic test for
    /// a byte below n, `(v - n × 0x01…) & ~v & 0x80…`: with n = 1 on the word XOR quotes and XOR
    /// backslashes, with n = 0x20 on the word itself, and the word's own high bits. It has no
    /// false negatives; a false positive only sends the word to the byte loop.
    @inline(__always)
    static func needsLook(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* UInt64(UInt8(ascii: "\"")))
        let backslashes = word ^ (ones &* UInt64(UInt8(ascii: "\\")))
        let zeroQuote = (quotes &- ones) & ~quotes
        let zeroBackslash = (backslashes &- ones) & ~backslashes
        let control = (word &- ones &* 0x20) & ~word
        return (zeroQuote | zeroBackslash | control | word) & highs != 0
    }

    /// Bytes taken by the escape at `index` (its backslash), or 0 when it is not one of JSON's.
    private static func escapeLength(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Int {
        guard index + 1 < buffer.count else { return 0 }
        switch buffer[index + 1] {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
             UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            return 2
        case UInt8(ascii: "u"):
            guard index + 5 < buffer.count else { return 0 }
            return (index + 2...index + 5).allSatisfy { hexValue(buffer[$0]) != nil } ? 6 : 0
        default:
            return 0
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    /// The content of a string already checked by `scanString`. A lone surrogate becomes
    /// U+FFFD, as Go's decoder (the API server's) makes it.
    static func unescape(_ content: ArraySlice<UInt8>) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(content.count)
        var index = content.startIndex
        while index < content.endIndex {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.endIndex else {
                output.append(byte)
                index += 1
                continue
            }
            let kind = content[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0c)
            case UInt8(ascii: "n"): output.append(0x0a)
            case UInt8(ascii: "r"): output.append(0x0d)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = codeUnit(content, at: index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), content[index...].starts(with: [UInt8(ascii: "\\"), UInt8(ascii: "u")]) {
                    let low = codeUnit(content, at: index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                output.append(contentsOf: String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
            default: output.append(kind)  // " \ /
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// The four hex digits at `index` (checked by `scanString`).
    private static func codeUnit(_ content: ArraySlice<UInt8>, at index: Int) -> UInt32 {
        guard index + 4 <= content.endIndex else { return 0xFFFD }
        return content[index..<index + 4].reduce(0) { $0 << 4 | (hexValue($1) ?? 0) }
    }
}
