internal import CLibYAML

/// Reads YAML text into `JSONDocument` tapes, one per YAML document, straight from libyaml's
/// events: no node tree is built (issue #9: building Yams' `Node`s, and its duplicate-key check
/// over them, were 39 % of start-up from manifests). The manifest rules read the tape exactly
/// as they read the API's JSON.
///
/// The tape says what `Resolver.basic` would: every scalar is text as written. Plain scalars
/// are `.number` entries (text, not quoted), quoted and block scalars `.string`, and the plain
/// YAML 1.1 nulls (`null`, `Null`, `NULL`, `~`, empty) `.literal` entries that read as null.
/// Aliases are copied out, so a document's tape is limited to what its text could hold written
/// out (`maxEntries`): an alias bomb is refused, not expanded.
enum YAMLDocumentReader {
    /// Calls `each` with every document of `text`, in order (empty documents included: their
    /// root is a null). Stops at the first error: libyaml cannot resume after one.
    static func readDocuments(
        _ text: UnsafeBufferPointer<UInt8>, each: (JSONDocument) -> Void
    ) throws(YAMLReadError) {
        // Tape offsets and counts are 32-bit (`JSONDocument.Entry`); manifest files are capped
        // far below (64 MiB).
        guard text.count < Int(UInt32.max) / 4 else { throw YAMLReadError(kind: .syntax, problem: "text too large") }
        // The common block subset is read directly; libyaml reads from the first document
        // outside it.
        let read = BlockYAMLReader.readDocuments(text, each: each)
        if read.complete { return }
        try readDocumentsThroughLibYAML(text, skipping: read.count, each: each)
    }

    /// Written out, a tape entry takes at least one byte of text and nearly always two or
    /// more; only aliases could make more.
    static func maxEntries(forTextOf count: Int) -> Int { 1_024 + 2 * count }

    /// `readDocuments` through libyaml's events alone: the reference the block subset's reader
    /// is compared with. The first `skipping` documents are read but not handed to `each`.
    static func readDocumentsThroughLibYAML(
        _ text: UnsafeBufferPointer<UInt8>, skipping: Int = 0, each: (JSONDocument) -> Void
    ) throws(YAMLReadError) {
        // An empty text is an empty stream: no document. (libyaml keeps the input pointer, so
        // it must be the caller's buffer, never a temporary.)
        guard let base = text.baseAddress, !text.isEmpty else { return }
        guard text.count < Int(UInt32.max) / 4 else { throw YAMLReadError(kind: .syntax, problem: "text too large") }
        let parser = UnsafeMutablePointer<yaml_parser_t>.allocate(capacity: 1)
        defer { parser.deallocate() }
        guard yaml_parser_initialize(parser) == 1 else { throw YAMLReadError(kind: .syntax, problem: "out of memory") }
        defer { yaml_parser_delete(parser) }
        yaml_parser_set_input_string(parser, base, text.count)
        yaml_parser_set_encoding(parser, YAML_UTF8_ENCODING)
        let maxEntries = maxEntries(forTextOf: text.count)
        var builder: YAMLTapeBuilder?
        var ended = 0  // documents read so far
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(parser, &event) == 1 else { throw YAMLReadError(parser: parser.pointee, text: text) }
            defer { yaml_event_delete(&event) }
            let line = UInt32(truncatingIfNeeded: event.start_mark.line &+ 1)
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return
            case YAML_DOCUMENT_START_EVENT:
                builder = YAMLTapeBuilder(maxEntries: maxEntries)
            case YAML_DOCUMENT_END_EVENT:
                if let finished = builder {
                    builder = nil
                    if ended >= skipping { each(finished.document) }
                    ended += 1
                }
            case YAML_SCALAR_EVENT:
                let scalar = event.data.scalar
                try builder?.scalar(
                    UnsafeBufferPointer(start: scalar.value, count: scalar.length),
                    plain: scalar.style == YAML_PLAIN_SCALAR_STYLE || scalar.style == YAML_ANY_SCALAR_STYLE,
                    anchor: Self.string(scalar.anchor), line: line)
            case YAML_SEQUENCE_START_EVENT:
                try builder?.open(.array, anchor: Self.string(event.data.sequence_start.anchor), line: line)
            case YAML_MAPPING_START_EVENT:
                try builder?.open(.object, anchor: Self.string(event.data.mapping_start.anchor), line: line)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                try builder?.close()
            case YAML_ALIAS_EVENT:
                try builder?.alias(Self.string(event.data.alias.anchor) ?? "", line: Int(line))
            default:
                break  // stream start, and no other event type exists
            }
        }
    }

    /// The same over a `String`'s UTF-8.
    static func readDocuments(_ text: String, each: (JSONDocument) -> Void) throws(YAMLReadError) {
        var text = text
        let failure: YAMLReadError? = text.withUTF8 { bytes in
            do throws(YAMLReadError) {
                try readDocuments(bytes, each: each)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    private static func string(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        pointer.map { String(cString: $0) }
    }
}

extension JSONDocument {
    /// The first document of a YAML (or JSON) text; nil when it holds none. For small files read
    /// whole, such as a kubeconfig.
    public static func parseYAML(_ text: String) throws(YAMLReadError) -> JSONDocument? {
        var first: JSONDocument?
        try YAMLDocumentReader.readDocuments(text) { tape in
            if first == nil { first = tape }
        }
        return first
    }
}

/// Why a YAML text could not be read, placed as libyaml places it.
public struct YAMLReadError: Error, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The bytes are not valid text (e.g. invalid UTF-8).
        case reader
        /// The scanner or the parser stopped: the text is not YAML.
        case syntax
        /// Keys that occur twice in one mapping, sorted.
        case duplicateKeys([String])
        /// An alias names no earlier anchor.
        case undefinedAlias
        /// Aliases would expand the document beyond `maxEntries`.
        case aliasExpansion
    }

    public var kind: Kind
    public var problem: String
    /// What libyaml was reading when it failed ("while scanning a quoted scalar"), and where
    /// that started (1-based).
    public var context: String?
    public var contextLine: Int?
    /// 1-based line and column of the problem, when known.
    public var line: Int?
    public var column: Int?

    init(kind: Kind, problem: String, line: Int? = nil, column: Int? = nil) {
        self.kind = kind
        self.problem = problem
        self.line = line
        self.column = column
    }

    init(parser: yaml_parser_t, text: UnsafeBufferPointer<UInt8>) {
        let problem = parser.problem.map { String(cString: $0) } ?? "unknown problem"
        if parser.error == YAML_READER_ERROR {
            // The reader reports a byte offset, not a mark.
            let offset = min(parser.problem_offset, text.count)
            var line = 1
            for byte in text[..<offset] where byte == UInt8(ascii: "\n") { line += 1 }
            self.init(kind: .reader, problem: problem, line: line)
            return
        }
        let mark = parser.problem_mark
        self.init(kind: .syntax, problem: problem, line: mark.line + 1, column: mark.column + 1)
        if let context = parser.context {
            self.context = String(cString: context)
            contextLine = parser.context_mark.line + 1
        }
    }
}

/// One document's tape, built in event order: containers are opened, filled and closed, and an
/// alias copies its anchor's entries. libyaml's events and `BlockYAMLReader` both drive it.
struct YAMLTapeBuilder {
    typealias Entry = JSONDocument.Entry

    private var bytes: [UInt8] = []
    private var entries: [Entry] = []
    /// The containers open around the next node: their entry and how many nodes they hold.
    private var open: [(index: Int, nodes: UInt32, anchor: String?)] = []
    /// Anchored nodes, as ranges of entries; a later node of the same anchor replaces an
    /// earlier one (YAML 1.2 §7.1).
    private var anchors: [String: Range<Int>] = [:]
    private let maxEntries: Int

    init(maxEntries: Int) {
        self.maxEntries = maxEntries
    }

    var document: JSONDocument { JSONDocument(bytes: bytes, entries: entries) }

    /// Room for a document read from `textBytes` bytes: its scalars take fewer bytes, and it
    /// has about one entry per 8 bytes of block YAML. Growing both arrays from empty copied
    /// them several times per document (issue #9: start-up from manifests).
    mutating func reserve(forTextOf textBytes: Int) {
        bytes.reserveCapacity(textBytes)
        entries.reserveCapacity(min(textBytes / 8 + 4, maxEntries))
    }

    mutating func scalar(_ value: UnsafeBufferPointer<UInt8>, plain: Bool, anchor: String?, line: UInt32) throws(YAMLReadError) {
        try reserve(1, line: line)
        let kind: Entry.Kind = plain ? (Self.isNull(value) ? .literal : .number) : .string
        let start = UInt32(truncatingIfNeeded: bytes.count)
        bytes.append(contentsOf: value)
        entries.append(Entry(kind: kind, escaped: false, line: line, a: start, b: UInt32(truncatingIfNeeded: bytes.count)))
        added(anchor: anchor, from: entries.count - 1)
    }

    mutating func open(_ kind: Entry.Kind, anchor: String?, line: UInt32) throws(YAMLReadError) {
        try reserve(1, line: line)
        open.append((entries.count, 0, anchor))
        entries.append(Entry(kind: kind, escaped: false, line: line, a: 0, b: 0))
    }

    mutating func close() throws(YAMLReadError) {
        guard let container = open.popLast() else { return }
        let isMapping = entries[container.index].kind == .object
        entries[container.index].a = UInt32(truncatingIfNeeded: entries.count)
        entries[container.index].b = isMapping ? container.nodes / 2 : container.nodes
        if isMapping { try checkDuplicateKeys(of: container.index) }
        added(anchor: container.anchor, from: container.index)
    }

    mutating func alias(_ anchor: String, line: Int) throws(YAMLReadError) {
        guard let range = anchors[anchor] else {
            throw YAMLReadError(kind: .undefinedAlias, problem: "found undefined alias", line: line)
        }
        try reserve(range.count, line: UInt32(truncatingIfNeeded: line))
        let shift = entries.count - range.lowerBound
        let copyStart = entries.count
        for position in range {
            var entry = entries[position]
            if entry.isContainer {
                entry.a = UInt32(truncatingIfNeeded: Int(entry.a) + shift)
            }
            entries.append(entry)
        }
        added(anchor: nil, from: copyStart)
    }

    /// Refuses to grow the tape beyond `maxEntries`.
    private func reserve(_ count: Int, line: UInt32) throws(YAMLReadError) {
        guard entries.count + count <= maxEntries else {
            throw YAMLReadError(
                kind: .aliasExpansion,
                problem: "YAML aliases expand this document beyond what its text could hold written out",
                line: Int(line))
        }
    }

    /// A node is complete: its container counts it, and its anchor now names it.
    private mutating func added(anchor: String?, from start: Int) {
        if !open.isEmpty { open[open.count - 1].nodes += 1 }
        if let anchor { anchors[anchor] = start..<entries.count }
    }

    private func next(after index: Int) -> Int { entries[index].next(at: index) }

    /// YAML 1.2 §3.2.1.1: the keys of a mapping are unique. Keys are compared as the text
    /// `Resolver.basic` reads every scalar as, and containers by their content. A mapping has
    /// few keys, so they are compared pairwise; a large one's scalar keys go through a set.
    private func checkDuplicateKeys(of mapping: Int) throws(YAMLReadError) {
        let end = Int(entries[mapping].a)
        if entries[mapping].b <= 32, !hasDuplicateKeys(from: mapping + 1, to: end) { return }
        var keys: [Int] = []
        var position = mapping + 1
        while position < end {
            keys.append(position)
            position = next(after: next(after: position))
        }
        guard keys.count > 1 else { return }
        let scalars = keys.filter { !isContainer($0) }
        var duplicates = pairwiseDuplicates(keys.filter(isContainer))
        if scalars.count <= 32 {
            duplicates += pairwiseDuplicates(scalars)
        } else {
            var firstLine: [ArraySlice<UInt8>: Int] = [:]
            var found: Set<ArraySlice<UInt8>> = []
            for key in scalars {
                let slice = bytes[Int(entries[key].a)..<Int(entries[key].b)]
                if let line = firstLine[slice] {
                    if found.insert(slice).inserted { duplicates.append((text(key), line)) }
                } else {
                    firstLine[slice] = Int(entries[key].line)
                }
            }
        }
        guard !duplicates.isEmpty else { return }
        duplicates.sort { $0.text < $1.text }
        let keysText = duplicates.map { "\"\($0.text)\"" }.joined(separator: ", ")
        throw YAMLReadError(
            kind: .duplicateKeys(duplicates.map(\.text)), problem: "duplicate key \(keysText) in a mapping",
            line: duplicates[0].line)
    }

    /// Whether two keys among those from `start` are alike, walking the tape: nothing is
    /// allocated for the mappings that are fine, which is nearly all.
    private func hasDuplicateKeys(from start: Int, to end: Int) -> Bool {
        var key = start
        while key < end {
            var other = next(after: next(after: key))
            while other < end {
                if sameNode(key, other) { return true }
                other = next(after: next(after: other))
            }
            key = next(after: next(after: key))
        }
        return false
    }

    /// Each key that occurs again, with the line where it first occurs.
    private func pairwiseDuplicates(_ keys: [Int]) -> [(text: String, line: Int)] {
        var duplicates: [(text: String, line: Int)] = []
        for (offset, key) in keys.enumerated() where !duplicates.contains(where: { $0.text == text(key) }) {
            if keys[(offset + 1)...].contains(where: { sameNode(key, $0) }) {
                duplicates.append((text(key), Int(entries[key].line)))
            }
        }
        return duplicates
    }

    private func isContainer(_ index: Int) -> Bool { entries[index].isContainer }

    /// A scalar key's text; containers, which have none, are named by what they are.
    private func text(_ index: Int) -> String {
        switch entries[index].kind {
        case .object: return Self.mappingKeyText
        case .array: return Self.listKeyText
        case .string, .number, .literal:
            return String(decoding: bytes[Int(entries[index].a)..<Int(entries[index].b)], as: UTF8.self)
        }
    }

    static let mappingKeyText = "<a mapping>"
    static let listKeyText = "<a list>"

    /// Equal text for scalars (of any style); equal structure and scalars for containers.
    private func sameNode(_ first: Int, _ second: Int) -> Bool {
        let length = next(after: first) - first
        guard next(after: second) - second == length else { return false }
        for offset in 0..<length {
            let (a, b) = (entries[first + offset], entries[second + offset])
            switch (a.kind, b.kind) {
            case (.object, .object), (.array, .array):
                guard a.b == b.b else { return false }
            case (.string, .string), (.string, .number), (.string, .literal), (.number, .string), (.number, .number),
                 (.number, .literal), (.literal, .string), (.literal, .number), (.literal, .literal):
                guard a.b - a.a == b.b - b.a, bytes[Int(a.a)..<Int(a.b)].elementsEqual(bytes[Int(b.a)..<Int(b.b)]) else {
                    return false
                }
            default:
                return false
            }
        }
        return true
    }

    /// `Resolver.basic`'s nulls: YAML 1.1's `null`, `Null`, `NULL`, `~`, and the empty scalar.
    private static func isNull(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        switch value.count {
        case 0: return true
        case 1: return value[0] == UInt8(ascii: "~")
        case 4:
            let word = (value[0], value[1], value[2], value[3])
            return word == (0x6E, 0x75, 0x6C, 0x6C) || word == (0x4E, 0x75, 0x6C, 0x6C) || word == (0x4E, 0x55, 0x4C, 0x4C)
        default: return false
        }
    }
}
