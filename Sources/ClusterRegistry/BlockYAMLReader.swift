#if canImport(Glibc)
import Glibc
#endif

/// Reads the YAML that manifests nearly always are, straight into tapes: block mappings and
/// block sequences of one-line plain or quoted scalars, flow collections that close on the
/// line they open (`metadata: {name: a}`), comments, and `---` markers. That is what
/// `kubectl get -o yaml` and generators write. libyaml's token queue and a heap copy of every
/// scalar made its reading most of a start-up's parsing (issue #9: 1.4 s of a 3.5 s start-up
/// from 100k Services).
///
/// Whatever is outside that subset, or wrong, makes it stop at that document, and libyaml reads
/// the text from there as before, so libyaml stays the reference for every error message and every rarer form:
/// anchors and aliases, tags, multi-line flow collections, block scalars, multi-line scalars,
/// escapes, tabs, carriage returns, non-ASCII text, directives. The tapes are the ones
/// libyaml's events give, entry for entry and line for line (`BlockYAMLReaderTests` compares
/// them over seeded random documents, mutated and not).
enum BlockYAMLReader {
    /// Hands the documents of `text` to `each` in order, each as soon as it is read, until one
    /// is outside the subset: returns how many it handed over and whether that was all. libyaml
    /// then reads the rest, skipping the documents handed over (they end where libyaml's end:
    /// at a marker line or the end of the text). One document is held at a time, as libyaml's
    /// reading holds one.
    static func readDocuments(_ text: UnsafeBufferPointer<UInt8>, each: (JSONDocument) -> Void) -> (count: Int, complete: Bool) {
        guard isPlainASCII(text) else { return (0, false) }
        var reader = Reader(text: text)
        var count = 0
        do throws(Unsupported) {
            try reader.read { document in
                each(document)
                count += 1
            }
            return (count, true)
        } catch {
            return (count, false)
        }
    }

    /// Printable ASCII and line feeds only: tabs (never indentation in YAML, §6.1), carriage
    /// returns, byte order marks and multi-byte text are left to libyaml, which validates them.
    private static func isPlainASCII(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        var outside: UInt8 = 0
        for byte in text {
            // A byte is outside when it is below a space (other than a line feed) or above `~`.
            outside |= (byte &- 0x20) >= 0x5F ? (byte == 0x0A ? 0 : 1) : 0
        }
        return outside == 0
    }

    /// Something libyaml must read.
    struct Unsupported: Error {}

    /// The deepest nesting read here. The reader recurses once per level, and a 64 MiB file
    /// can nest thousands of levels deep: deeper texts go to libyaml, whose parser keeps its
    /// own stack, so no input can exhaust a thread's stack.
    static let maxDepth = 128

    /// One line of the text: `[start, end)` without its line feed; `indent` leading spaces.
    private struct Line {
        var start: Int
        var end: Int
        var indent: Int
        /// 1-based.
        var number: Int
        var contentStart: Int { start + indent }
    }

    private struct Reader {
        let text: UnsafeBufferPointer<UInt8>
        /// The line being read; nil at the end of the text.
        var line: Line?
        /// Where the line after `line` starts.
        var nextStart = 0
        var nextNumber = 1
        var builder = YAMLTapeBuilder(maxEntries: 0)

        init(text: UnsafeBufferPointer<UInt8>) {
            self.text = text
            builder = YAMLTapeBuilder(maxEntries: YAMLDocumentReader.maxEntries(forTextOf: text.count))
        }

        static let space = UInt8(ascii: " "), dash = UInt8(ascii: "-"), colon = UInt8(ascii: ":"), hash = UInt8(ascii: "#")
        static let doubleQuote = UInt8(ascii: "\""), singleQuote = UInt8(ascii: "'"), backslash = UInt8(ascii: "\\")

        // MARK: lines

        /// Moves to the next line.
        mutating func advance() {
            guard nextStart < text.count else {
                line = nil
                return
            }
            var end = nextStart
            while end < text.count, text[end] != 0x0A { end += 1 }
            var indent = 0
            while nextStart + indent < end, text[nextStart + indent] == Self.space { indent += 1 }
            line = Line(start: nextStart, end: end, indent: indent, number: nextNumber)
            nextStart = end + 1
            nextNumber += 1
        }

        /// Skips blank and comment-only lines (comments may sit at any indentation, §6.6).
        mutating func skipToContent() {
            while let current = line, current.contentStart == current.end || text[current.contentStart] == Self.hash {
                advance()
            }
        }

        /// Moves to the next line that holds content.
        mutating func advanceToContent() {
            advance()
            skipToContent()
        }

        /// `---` or `...` at column 0 (§9.1.2), or a directive: what ends a document's content.
        func isDocumentBoundary(_ line: Line) -> Bool {
            guard line.indent == 0, line.start < line.end else { return false }
            let first = text[line.start]
            if first == UInt8(ascii: "%") { return true }
            guard first == Self.dash || first == UInt8(ascii: "."), line.end - line.start >= 3,
                  text[line.start + 1] == first, text[line.start + 2] == first else { return false }
            return line.end - line.start == 3 || text[line.start + 3] == Self.space
        }

        /// The content line being read, when the document goes on.
        var contentLine: Line? {
            guard let line, !isDocumentBoundary(line) else { return nil }
            return line
        }

        // MARK: documents

        mutating func read(each: (JSONDocument) -> Void) throws(Unsupported) {
            // Whether a `---` opened a document that has no content yet: it is an empty one.
            var markerOpen = false
            advance()
            while true {
                skipToContent()
                guard let line else {
                    // libyaml places the end of the text on the line after the last.
                    if markerOpen { each(emptyDocument(line: nextNumber)) }
                    return
                }
                if isDocumentBoundary(line) {
                    // Only a bare `---`: `...`, directives and content after the marker are
                    // libyaml's.
                    guard isBareMarker(line) else { throw Unsupported() }
                    if markerOpen { each(emptyDocument(line: line.number)) }
                    markerOpen = true
                    advance()
                    continue
                }
                // A root node starts at column 0 here; an indented root is libyaml's.
                guard line.indent == 0 else { throw Unsupported() }
                builder = YAMLTapeBuilder(maxEntries: YAMLDocumentReader.maxEntries(forTextOf: text.count))
                builder.reserve(forTextOf: documentLength(from: line.start))
                try blockCollection(at: line.contentStart)
                // Content the root did not take is libyaml's (an error, or a form not read here).
                // So is a document ended by anything but a bare `---` or the end of the text:
                // libyaml scans a directive line in the same step that closes the document
                // before it, so a bad one loses that document too.
                if let next = self.line, !isBareMarker(next) { throw Unsupported() }
                each(builder.document)
                markerOpen = false
            }
        }

        /// About how many bytes the document starting at `start` takes: up to the next line
        /// that starts with `---` or `...`. A capacity hint only, so a marker-like line inside
        /// a quoted scalar does no harm.
        func documentLength(from start: Int) -> Int {
            guard let base = text.baseAddress, start < text.count else { return max(0, text.count - start) }
            var index = start
            // Line by line with memchr (vectorised): a byte-by-byte scan was 1 % of start-up.
            while index + 3 < text.count, let found = memchr(base + index, 0x0A, text.count - index - 3) {
                index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                if text[index + 1] == Self.dash || text[index + 1] == UInt8(ascii: "."),
                   text[index + 2] == text[index + 1], text[index + 3] == text[index + 1] {
                    return index - start
                }
                index += 1
            }
            return text.count - start
        }

        /// A document with no content: libyaml gives it an empty plain scalar, a null, placed
        /// at the token after it.
        mutating func emptyDocument(line: Int) -> JSONDocument {
            var empty = YAMLTapeBuilder(maxEntries: 1)
            try? empty.scalar(UnsafeBufferPointer(start: nil, count: 0), plain: true, anchor: nil, line: UInt32(line))
            return empty.document
        }

        /// `---` alone on its line (trailing spaces allowed). The dash goes first: a
        /// directive's line may be shorter than a marker.
        func isBareMarker(_ line: Line) -> Bool {
            isDocumentBoundary(line) && text[line.start] == Self.dash
                && (line.end - line.start == 3 || isBlank(from: line.start + 3, to: line.end))
        }

        func isBlank(from start: Int, to end: Int) -> Bool {
            (start..<end).allSatisfy { text[$0] == Self.space }
        }

        // MARK: nodes

        /// A block mapping or sequence whose first entry starts at `column` of the current line.
        mutating func blockCollection(at column: Int) throws(Unsupported) {
            guard let line else { throw Unsupported() }
            if isEntryDash(at: column, in: line) {
                try sequence(indent: column - line.start)
            } else if try key(at: column, in: line) != nil {
                try mapping(indent: column - line.start)
            } else {
                throw Unsupported()  // a scalar alone, or something not read here
            }
        }

        /// `-` followed by a space or the line's end: a block sequence entry (§8.2.1).
        func isEntryDash(at column: Int, in line: Line) -> Bool {
            text[column] == Self.dash && (column + 1 == line.end || text[column + 1] == Self.space)
        }

        /// A block mapping whose keys sit at column `indent`; the first on the current line,
        /// perhaps after a sequence's `- `.
        mutating func mapping(indent: Int) throws(Unsupported) {
            guard var line else { throw Unsupported() }
            try open(.object, line: line.number)
            while true {
                guard let key = try key(at: line.start + indent, in: line) else { throw Unsupported() }
                try scalar(key.start..<key.end, plain: !key.quoted, line: line.number)
                try value(after: key.colon + 1, in: line, parentIndent: indent, isMappingValue: true)
                guard let next = contentLine, next.indent >= indent else { break }
                guard next.indent == indent else { throw Unsupported() }  // libyaml reports it
                line = next
            }
            try close()
        }

        /// A block sequence whose dashes sit at column `indent`.
        mutating func sequence(indent: Int) throws(Unsupported) {
            guard var line else { throw Unsupported() }
            try open(.array, line: line.number)
            while true {
                try value(after: line.start + indent + 1, in: line, parentIndent: indent, isMappingValue: false)
                // A line at the sequence's column that is not an entry ends it: the next key of
                // a mapping around an indentless sequence, or an error libyaml reports.
                guard let next = contentLine, next.indent >= indent, isEntryDash(at: next.contentStart, in: next) else { break }
                guard next.indent == indent else { throw Unsupported() }
                line = next
            }
            try close()
        }

        /// The value after a key's `:` or an entry's `-`, which starts at `start` (spaces and a
        /// comment may follow). Leaves the reader on the next content line.
        mutating func value(after start: Int, in line: Line, parentIndent: Int, isMappingValue: Bool) throws(Unsupported) {
            var column = start
            while column < line.end, text[column] == Self.space { column += 1 }
            // A `#` here follows a space (a key's `:` and an entry's `-` are followed by one).
            if column == line.end || text[column] == Self.hash {
                advanceToContent()
                if let next = contentLine,
                   // A mapping's value may be a sequence at the key's own column (§8.2.3).
                   next.indent > parentIndent || (isMappingValue && next.indent == parentIndent && isEntryDash(at: next.contentStart, in: next)) {
                    try blockCollection(at: next.contentStart)
                } else {
                    // An empty value: a null placed at its indicator (libyaml's empty scalar).
                    try scalar(column..<column, plain: true, line: line.number)
                }
                return
            }
            if isEntryDash(at: column, in: line) { throw Unsupported() }  // `- - x`, `a: - x`
            // `- key: value`: a mapping whose keys sit at this column. (After a key's `:`,
            // `a: b: c` is an error, which `plainEnd` leaves to libyaml.)
            if !isMappingValue, try key(at: column, in: line) != nil {
                try mapping(indent: column - line.start)
                return
            }
            try inlineScalar(at: column, in: line)
            advanceToContent()
            // A deeper line after a one-line scalar continues it or is an error: libyaml's.
            if let next = contentLine, next.indent > parentIndent { throw Unsupported() }
        }

        /// A one-line scalar or flow collection at `column`, followed by nothing but spaces and
        /// a comment.
        mutating func inlineScalar(at column: Int, in line: Line) throws(Unsupported) {
            switch text[column] {
            case Self.doubleQuote, Self.singleQuote:
                let close = try closingQuote(from: column, in: line)
                try expectNothingAfter(close + 1, in: line)
                try scalar(column + 1..<close, plain: false, line: line.number)
            case Self.openBrace, Self.openBracket:
                var index = column
                try flowCollection(at: &index, in: line)
                try expectNothingAfter(index, in: line)
            default:
                guard let end = try plainEnd(from: column, in: line, isKey: false) else { throw Unsupported() }
                try scalar(column..<end, plain: true, line: line.number)
            }
        }

        static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
        static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]"), comma = UInt8(ascii: ",")

        /// A flow mapping or sequence that opens at `index` and closes on the same line
        /// (`{name: a, namespace: b}`, `[{port: 80}]`, `[]`): generators write short objects so.
        /// Pairs without values, single-pair mappings in sequences and trailing commas are
        /// libyaml's. `index` moves past the closing bracket.
        mutating func flowCollection(at index: inout Int, in line: Line) throws(Unsupported) {
            let isMapping = text[index] == Self.openBrace
            let closer = isMapping ? Self.closeBrace : Self.closeBracket
            try open(isMapping ? .object : .array, line: line.number)
            index += 1
            skipSpaces(&index, in: line)
            if index < line.end, text[index] == closer {
                index += 1
                try close()
                return
            }
            while true {
                if isMapping {
                    try flowScalar(at: &index, in: line, isKey: true)
                    skipSpaces(&index, in: line)
                    guard index + 1 < line.end, text[index] == Self.colon, text[index + 1] == Self.space else { throw Unsupported() }
                    index += 2
                    skipSpaces(&index, in: line)
                }
                guard index < line.end else { throw Unsupported() }
                if text[index] == Self.openBrace || text[index] == Self.openBracket {
                    try flowCollection(at: &index, in: line)
                } else {
                    try flowScalar(at: &index, in: line, isKey: false)
                }
                skipSpaces(&index, in: line)
                guard index < line.end else { throw Unsupported() }
                if text[index] == closer {
                    index += 1
                    break
                }
                guard text[index] == Self.comma else { throw Unsupported() }
                index += 1
                skipSpaces(&index, in: line)
                guard index < line.end, text[index] != closer else { throw Unsupported() }
            }
            try close()
        }

        /// A quoted or plain scalar inside a flow collection; `index` moves past it. A plain one
        /// ends before `,`, `]` or `}`, or a key's `: `; a `:` before another flow indicator, a
        /// comment, or brackets inside it are libyaml's (YAML 1.1 §9.1.3 as libyaml reads it).
        mutating func flowScalar(at index: inout Int, in line: Line, isKey: Bool) throws(Unsupported) {
            guard index < line.end else { throw Unsupported() }  // `{` or `,` ending the line
            let first = text[index]
            if first == Self.doubleQuote || first == Self.singleQuote {
                let close = try closingQuote(from: index, in: line)
                try scalar(index + 1..<close, plain: false, line: line.number)
                index = close + 1
                return
            }
            guard startsPlain(at: index, in: line) else { throw Unsupported() }
            var end = index
            scan: while end < line.end {
                switch text[end] {
                case Self.comma, Self.closeBracket, Self.closeBrace:
                    break scan
                case Self.openBracket, Self.openBrace:
                    throw Unsupported()
                case Self.colon:
                    guard end + 1 < line.end else { throw Unsupported() }
                    switch text[end + 1] {
                    case Self.space:
                        if isKey { break scan }
                        throw Unsupported()  // `a: b` as a sequence item, or `a: b: c`
                    case Self.comma, UInt8(ascii: "?"), Self.openBracket, Self.closeBracket, Self.openBrace, Self.closeBrace:
                        throw Unsupported()
                    default:
                        break  // `fd00::1`, `http://x`: part of the scalar
                    }
                case Self.hash where text[end - 1] == Self.space:
                    throw Unsupported()  // a comment inside an open collection
                default:
                    break
                }
                end += 1
            }
            var trimmed = end
            while trimmed > index, text[trimmed - 1] == Self.space { trimmed -= 1 }
            try scalar(index..<trimmed, plain: true, line: line.number)
            index = end
        }

        func skipSpaces(_ index: inout Int, in line: Line) {
            while index < line.end, text[index] == Self.space { index += 1 }
        }

        /// A plain scalar's first byte may not be an indicator (§7.3.3); `-` only before a
        /// character other than a space (`-1`).
        func startsPlain(at column: Int, in line: Line) -> Bool {
            switch text[column] {
            case UInt8(ascii: "?"), UInt8(ascii: ":"), UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"),
                 UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: "#"), UInt8(ascii: "&"), UInt8(ascii: "*"),
                 UInt8(ascii: "!"), UInt8(ascii: "|"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""),
                 UInt8(ascii: "%"), UInt8(ascii: "@"), UInt8(ascii: "`"):
                return false
            case Self.dash:
                return column + 1 < line.end && text[column + 1] != Self.space
            default:
                return true
            }
        }

        /// Where a one-line plain scalar starting at `column` ends: before a ` #` comment and
        /// trailing spaces. For a key, its `:` (followed by a space or the line's end; nil when
        /// there is none); a value holding `: ` or ending in `:` is an error libyaml reports.
        func plainEnd(from column: Int, in line: Line, isKey: Bool) throws(Unsupported) -> Int? {
            guard startsPlain(at: column, in: line) else {
                if isKey { return nil }  // a quoted or flow value, read by the caller
                throw Unsupported()
            }
            var index = column
            while index < line.end {
                let byte = text[index]
                if byte == Self.colon, index + 1 == line.end || text[index + 1] == Self.space {
                    if isKey { return index }
                    throw Unsupported()
                }
                if byte == Self.hash, text[index - 1] == Self.space { break }
                index += 1
            }
            if isKey { return nil }
            while index > column, text[index - 1] == Self.space { index -= 1 }
            return index
        }

        /// The index of the quote closing the one-line quoted scalar at `column`; escapes
        /// (`\` in double quotes, `''` in single ones) are libyaml's.
        func closingQuote(from column: Int, in line: Line) throws(Unsupported) -> Int {
            let quote = text[column]
            var index = column + 1
            while index < line.end {
                let byte = text[index]
                if byte == quote {
                    if quote == Self.singleQuote, index + 1 < line.end, text[index + 1] == Self.singleQuote { throw Unsupported() }
                    return index
                }
                if byte == Self.backslash, quote == Self.doubleQuote { throw Unsupported() }
                index += 1
            }
            throw Unsupported()  // continues on the next line
        }

        /// Nothing but spaces, then perhaps a comment, from `index` to the line's end.
        func expectNothingAfter(_ index: Int, in line: Line) throws(Unsupported) {
            var index = index
            let spaced = index < line.end && text[index] == Self.space
            while index < line.end, text[index] == Self.space { index += 1 }
            guard index == line.end || (spaced && text[index] == Self.hash) else { throw Unsupported() }
        }

        /// The mapping key at `column` (plain or quoted, one line, followed by `:` and a space or
        /// the line's end), or nil when the content there is not a key.
        func key(at column: Int, in line: Line) throws(Unsupported) -> (start: Int, end: Int, quoted: Bool, colon: Int)? {
            guard column < line.end else { return nil }
            let first = text[column]
            if first == Self.doubleQuote || first == Self.singleQuote {
                let close = try closingQuote(from: column, in: line)
                var index = close + 1
                while index < line.end, text[index] == Self.space { index += 1 }
                guard index < line.end, text[index] == Self.colon else { return nil }
                guard index + 1 == line.end || text[index + 1] == Self.space else { throw Unsupported() }
                return (column + 1, close, true, index)
            }
            guard let colon = try plainEnd(from: column, in: line, isKey: true) else { return nil }
            var end = colon
            while end > column, text[end - 1] == Self.space { end -= 1 }
            // libyaml looks for a simple key's `:` within 1,024 characters (§7.4.2).
            guard colon - column < 1_024 else { throw Unsupported() }
            return (column, end, false, colon)
        }

        // MARK: the tape

        mutating func scalar(_ range: Range<Int>, plain: Bool, line: Int) throws(Unsupported) {
            let value = UnsafeBufferPointer(rebasing: text[range])
            do { try builder.scalar(value, plain: plain, anchor: nil, line: UInt32(line)) } catch { throw Unsupported() }
        }

        /// Collections open around the node being read (`maxDepth`).
        var depth = 0

        mutating func open(_ kind: JSONDocument.Entry.Kind, line: Int) throws(Unsupported) {
            depth += 1
            guard depth <= BlockYAMLReader.maxDepth else { throw Unsupported() }
            do { try builder.open(kind, anchor: nil, line: UInt32(line)) } catch { throw Unsupported() }
        }

        mutating func close() throws(Unsupported) {
            depth -= 1
            // Duplicate keys are found here: libyaml's reading reports them.
            do { try builder.close() } catch { throw Unsupported() }
        }
    }
}
