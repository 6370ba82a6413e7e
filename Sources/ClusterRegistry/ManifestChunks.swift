/// A manifest file cut into its YAML documents without parsing it: each `---` line at column 0
/// starts a document (YAML 1.2 §9.1.2: a document marker ends any scalar, so the cut is never
/// inside a value). A reload then parses only the documents whose bytes changed: editing one
/// Service in a 500-Service file parses one document, not 500.
struct ManifestChunk: Sendable {
    /// The document's text, from its `---` line (or the file's start) to the next marker.
    var text: Substring.UTF8View
    /// 1-based line of the chunk's first line in the file.
    var firstLine: Int
    /// 0-based index of its document in the file (empty documents count, as YAML counts them).
    var document: Int
    /// How many documents the chunk holds: 1, or 0 for leading comments before the first `---`.
    var documents: Int
    var hash: UInt64

    var string: String { String(Substring(text)) }
}

enum ManifestChunker {
    /// The documents of `text`, or nil when it uses what a plain cut would get wrong (`%`
    /// directives, `...` document ends): such a file is parsed whole.
    static func split(_ text: String) -> [ManifestChunk]? {
        let bytes = text.utf8
        var starts: [(index: String.Index, line: Int)] = [(bytes.startIndex, 1)]
        var line = 1
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if isLineStart(bytes, index) {
                if hasPrefix(bytes, index, "---"), isMarkerEnd(bytes, bytes.index(index, offsetBy: 3)) {
                    if index != bytes.startIndex { starts.append((index, line)) }
                } else if hasPrefix(bytes, index, "..."), isMarkerEnd(bytes, bytes.index(index, offsetBy: 3)) {
                    return nil
                } else if bytes[index] == UInt8(ascii: "%") {
                    return nil
                }
            }
            if bytes[index] == UInt8(ascii: "\n") { line += 1 }
            bytes.formIndex(after: &index)
        }
        var chunks: [ManifestChunk] = []
        var document = 0
        for (offset, start) in starts.enumerated() {
            let end = offset + 1 < starts.count ? starts[offset + 1].index : bytes.endIndex
            let slice = text[start.index..<end].utf8
            // Only the part before the first marker can hold no document (comments, blanks).
            let documents = offset == 0 && !hasPrefix(bytes, start.index, "---") && !hasContent(slice) ? 0 : 1
            chunks.append(ManifestChunk(
                text: slice, firstLine: start.line, document: document, documents: documents, hash: fnv(slice)))
            document += documents
        }
        return chunks
    }

    private static func isLineStart(_ bytes: String.UTF8View, _ index: String.Index) -> Bool {
        index == bytes.startIndex || bytes[bytes.index(before: index)] == UInt8(ascii: "\n")
    }

    private static func hasPrefix(_ bytes: String.UTF8View, _ index: String.Index, _ prefix: StaticString) -> Bool {
        var position = index
        for byte in UnsafeBufferPointer(start: prefix.utf8Start, count: prefix.utf8CodeUnitCount) {
            guard position < bytes.endIndex, bytes[position] == byte else { return false }
            bytes.formIndex(after: &position)
        }
        return true
    }

    /// A marker is followed by a space, a tab, a line end or the end of the text.
    private static func isMarkerEnd(_ bytes: String.UTF8View, _ index: String.Index) -> Bool {
        guard index < bytes.endIndex else { return true }
        return [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r")].contains(bytes[index])
    }

    /// Whether any line holds more than blanks or a comment.
    private static func hasContent(_ slice: Substring.UTF8View) -> Bool {
        var atLineStart = true, inComment = false
        for byte in slice {
            switch byte {
            case UInt8(ascii: "\n"): atLineStart = true; inComment = false
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"): continue
            case UInt8(ascii: "#") where atLineStart || inComment: inComment = true; atLineStart = false
            default:
                if !inComment { return true }
            }
        }
        return false
    }

    /// FNV-1a, 64 bits: tells a document's new bytes from its old ones.
    private static func fnv(_ bytes: Substring.UTF8View) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
