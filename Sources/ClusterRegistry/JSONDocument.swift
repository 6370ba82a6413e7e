#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One JSON value parsed into a flat tape (simdjson's layout, simplified): one 16-byte entry
/// per value, containers pointing past their last descendant, scalars pointing at their bytes.
/// Nothing is materialised until a field is read, so the fields no rule reads (managedFields,
/// last-applied-configuration) cost one scan and no allocation (DESIGN.md §4: JSON from the
/// API must not go through a YAML parser; Foundation's readers measured 20–70 MB/s per core
/// and would still need a tree the rules can report lines from).
///
/// The bytes are shared, not copied: every item of a list page refers to the page's one array,
/// and the document of an item is released as soon as the item is decoded.
///
/// A YAML document is read into the same tape (`YAMLDocumentReader`), so one set of rules reads
/// manifests and API objects alike.
public final class JSONDocument: Sendable {
    struct Entry: Sendable {
        enum Kind: UInt8, Sendable { case object, array, string, number, literal }
        var kind: Kind
        /// A string with backslash escapes: it must be unescaped when read.
        var escaped: Bool
        /// 1-based line of the value's first byte (newlines only occur between tokens in JSON).
        var line: UInt32
        /// Containers: the index of the entry after the last descendant. Scalars: first byte.
        var a: UInt32
        /// Containers: the number of elements or key/value pairs. Scalars: end byte.
        var b: UInt32

        var isContainer: Bool { kind == .object || kind == .array }

        /// The index after this entry, which is at `index`, and its descendants.
        @inline(__always)
        func next(at index: Int) -> Int { isContainer ? Int(a) : index + 1 }
    }

    let bytes: [UInt8]
    let entries: [Entry]

    init(bytes: [UInt8], entries: [Entry]) {
        self.bytes = bytes
        self.entries = entries
    }

    /// The root value.
    public var root: JSONValue { JSONValue(document: self, index: 0) }

    /// Parses `bytes` as exactly one JSON value (whitespace around it allowed). The object or
    /// array values of fields named `unreadField`, at any depth, are stepped over and read as
    /// empty objects: the API's `managedFields`, which no rule reads, are a third of an
    /// object's bytes and most of its values (issue #9: first sync).
    public static func parse(_ bytes: [UInt8], skipping unreadField: StaticString? = nil) throws(JSONSyntaxError) -> JSONDocument {
        var scanner = JSONScanner(bytes: bytes, skipping: unreadField)
        let document = try scanner.value()
        try scanner.expectEnd()
        return document
    }

    /// Reads a JSON object whose field `arrayKey` is an array (a list page's `items`), handing
    /// each element to `each` as its own document, read and released one at a time: a page is
    /// never held as one tree (issue #9). Returns the object's other fields. `unreadField` as
    /// in `parse`.
    public static func readObject(
        _ bytes: [UInt8], streaming arrayKey: String, skipping unreadField: StaticString? = nil, each: (JSONValue) -> Void
    ) throws(JSONSyntaxError) -> [String: JSONValue] {
        var scanner = JSONScanner(bytes: bytes, skipping: unreadField)
        let fields = try scanner.objectStreaming(arrayKey: arrayKey, each: each)
        try scanner.expectEnd()
        return fields
    }

    /// The index of the entry after `index` and its descendants.
    @inline(__always)
    func next(after index: Int) -> Int { entries[index].next(at: index) }

    func text(at index: Int) -> String {
        let entry = entries[index]
        let range = Int(entry.a)..<Int(entry.b)
        guard entry.escaped else { return String(decoding: bytes[range], as: UTF8.self) }
        return JSONScanner.unescape(bytes[range])
    }

    /// Compares a key without materialising it (keys with escapes are rare and unescaped).
    /// A YAML document's key may be a container, which never equals a field's name.
    func key(at index: Int, equals key: String) -> Bool {
        let entry = entries[index]
        if entry.isContainer { return false }
        if entry.escaped { return text(at: index) == key }
        let start = Int(entry.a), end = Int(entry.b)
        guard key.utf8.count == end - start else { return false }
        // Field names are literals, whose UTF-8 is contiguous: one memcmp, not a generic walk
        // (the walk was 1 % of a start-up from manifests).
        let compared = key.utf8.withContiguousStorageIfAvailable { name in
            bytes.withUnsafeBufferPointer { bytes in
                name.isEmpty || memcmp(bytes.baseAddress! + start, name.baseAddress!, name.count) == 0
            }
        }
        return compared ?? key.utf8.elementsEqual(bytes[start..<end])
    }
}

public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// 0-based byte offset and 1-based line where the problem is.
    public var offset: Int
    public var line: Int

    public var description: String { "JSON syntax error at line \(line), byte \(offset): \(message)" }
}
