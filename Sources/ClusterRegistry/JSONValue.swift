/// A value in a `JSONDocument`, read the way `Resolver.basic` reads YAML so the manifest rules
/// apply unchanged: every scalar is text (`80`, `true`, `null` as written), and only the literal
/// `null` counts as absent (a quoted "null" is a string, as in Yams).
public struct JSONValue: Sendable {
    let document: JSONDocument
    let index: Int

    private var entry: JSONDocument.Entry { document.entries[index] }

    public var isString: Bool { entry.kind == .string }

    public var object: JSONObject? { entry.kind == .object ? JSONObject(document: document, index: index) : nil }

    public var array: JSONArray? { entry.kind == .array ? JSONArray(document: document, index: index) : nil }

    /// A string's content, or a number or literal as written.
    public var text: String? {
        switch entry.kind {
        case .string, .number, .literal: return document.text(at: index)
        case .object, .array: return nil
        }
    }

    /// The string's content; nil for any other kind of value.
    public var string: String? { isString ? document.text(at: index) : nil }
}

extension JSONValue: ManifestNode {
    /// JSON's `null`, or one of the plain nulls a YAML document's tape holds as literals
    /// (`null`, `Null`, `NULL`, `~`, empty): no other literal starts with n, N or ~.
    public var isNull: Bool {
        let entry = entry
        guard entry.kind == .literal else { return false }
        guard entry.a < entry.b else { return true }
        let first = document.bytes[Int(entry.a)]
        return first == UInt8(ascii: "n") || first == UInt8(ascii: "N") || first == UInt8(ascii: "~")
    }

    public var line: Int? { Int(entry.line) }
    public var mapping: JSONObject? { object }
    public var sequence: JSONArray? { array }
    public var scalarText: String? { text }

    public var shownValue: String {
        switch entry.kind {
        case .object: return "a mapping"
        case .array: return "a list"
        case .string, .number, .literal: return shownValueOfScalar
        }
    }
}

/// A JSON object: its key/value pairs in document order.
public struct JSONObject: Sendable, ManifestMapping {
    let document: JSONDocument
    let index: Int

    public var line: Int? { Int(document.entries[index].line) }
    public var count: Int { Int(document.entries[index].b) }

    /// The value of `key` (the first, should it repeat); nil when absent or null.
    public func field(_ key: String) -> JSONValue? {
        guard let value = self[key], !value.isNull else { return nil }
        return value
    }

    /// The value of `key`, null included.
    public subscript(key: String) -> JSONValue? {
        let end = Int(document.entries[index].a)
        var position = index + 1
        while position < end {
            // A YAML key may be a container: the value follows the key's last descendant.
            let value = document.next(after: position)
            if document.key(at: position, equals: key) { return JSONValue(document: document, index: value) }
            position = document.next(after: value)
        }
        return nil
    }

    public var pairs: Pairs { Pairs(document: document, position: index + 1, end: Int(document.entries[index].a)) }

    public struct Pairs: Sequence, IteratorProtocol, Sendable {
        let document: JSONDocument
        var position: Int
        let end: Int

        public mutating func next() -> (key: JSONValue, value: JSONValue)? {
            guard position < end else { return nil }
            let value = document.next(after: position)
            let pair = (key: JSONValue(document: document, index: position), value: JSONValue(document: document, index: value))
            position = document.next(after: value)
            return pair
        }
    }
}

/// A JSON array. Its indices are positions in the tape, so it is a forward collection.
public struct JSONArray: Sendable, Collection {
    let document: JSONDocument
    let index: Int

    public var startIndex: Int { index + 1 }
    public var endIndex: Int { Int(document.entries[index].a) }
    public var count: Int { Int(document.entries[index].b) }
    public var isEmpty: Bool { count == 0 }
    public func index(after position: Int) -> Int { document.next(after: position) }
    public subscript(position: Int) -> JSONValue { JSONValue(document: document, index: position) }
}
