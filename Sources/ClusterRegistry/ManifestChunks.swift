/// A manifest file cut into its YAML documents without parsing it: each `---` line at column 0
/// starts a document (YAML 1.2 §9.1.2: a document marker ends any scalar, so the cut is never
/// inside a value). A reload then parses only the documents whose bytes changed: editing one
/// Service in a 500-Service file parses one document, not 500.
struct ManifestChunk: Sendable {
    /// The document's bytes in the file, from its `---` line (or the file's start) to the next
    /// marker.
    var range: Range<Int>
    /// 1-based line of the chunk's first line in the file.
    var firstLine: Int
    /// 0-based index of its document in the file (empty documents count, as YAML counts them).
    var document: Int
    /// How many documents the chunk holds: 1, or 0 for leading comments before the first `---`.
    var documents: Int
    var hash: UInt64
}

enum ManifestChunker {
    /// The documents of `bytes`, or nil when it uses what a plain cut would get wrong (`%`
    /// directives, `...` document ends): such a file is parsed whole. One pass over raw bytes.
    static func split(_ bytes: [UInt8]) -> [ManifestChunk]? {
        bytes.withUnsafeBufferPointer { split($0) }
    }

    static func split(_ text: String) -> [ManifestChunk]? { split(Array(text.utf8)) }

    private static func split(_ bytes: UnsafeBufferPointer<UInt8>) -> [ManifestChunk]? {
        let dash = UInt8(ascii: "-"), dot = UInt8(ascii: "."), newline = UInt8(ascii: "\n")
        var starts: [(offset: Int, line: Int)] = [(0, 1)]
        var line = 1
        var index = 0
        while index < bytes.count {
            // `index` is at the start of a line here.
            let first = bytes[index]
            if first == dash || first == dot, index + 3 <= bytes.count, bytes[index + 1] == first, bytes[index + 2] == first,
               isMarkerEnd(bytes, index + 3) {
                if first == dot { return nil }
                if index > 0 { starts.append((index, line)) }
            } else if first == UInt8(ascii: "%") {
                return nil
            }
            while index < bytes.count, bytes[index] != newline { index += 1 }
            index += 1
            line += 1
        }
        var chunks: [ManifestChunk] = []
        var document = 0
        for (position, start) in starts.enumerated() {
            let end = position + 1 < starts.count ? starts[position + 1].offset : bytes.count
            let range = start.offset..<end
            let slice = UnsafeBufferPointer(rebasing: bytes[range])
            // Only the part before the first marker can hold no document (comments, blanks).
            let opensWithMarker = slice.count >= 3 && slice[0] == dash && slice[1] == dash && slice[2] == dash
            let documents = position == 0 && !opensWithMarker && !hasContent(slice) ? 0 : 1
            chunks.append(ManifestChunk(range: range, firstLine: start.line, document: document, documents: documents, hash: fnv(slice)))
            document += documents
        }
        return chunks
    }

    /// A marker is followed by a space, a tab, a line end or the end of the text.
    private static func isMarkerEnd(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> Bool {
        guard index < bytes.count else { return true }
        let byte = bytes[index]
        return byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
    }

    /// Whether any line holds more than blanks or a comment.
    private static func hasContent(_ slice: UnsafeBufferPointer<UInt8>) -> Bool {
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
    private static func fnv(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash
    }
}
