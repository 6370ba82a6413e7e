import Yams

/// What the manifest rules read of a parsed document, so that one set of rules (and messages)
/// decodes both sources: Yams' nodes for manifest files, and `JSONValue`s for the API's JSON,
/// which must not go through a YAML parser (DESIGN.md §4: ≈ 3 MB/s per core).
///
/// Scalars are read as text, as `Resolver.basic` leaves them: `80`, `true` and `null` arrive as
/// those words, and the rules decide what a field accepts.
public protocol ManifestNode {
    associatedtype Mapping: ManifestMapping where Mapping.Node == Self
    associatedtype Sequence: Collection where Sequence.Element == Self

    /// A plain `null` (YAML 1.1 also `~` and empty): the field counts as absent.
    var isNull: Bool { get }
    /// 1-based line where the node starts, when known.
    var line: Int? { get }
    var mapping: Mapping? { get }
    var sequence: Sequence? { get }
    /// The text of a scalar (strings unquoted, numbers and booleans as written); nil otherwise.
    var scalarText: String? { get }
    /// What the node holds, for "expected …, got …" messages.
    var shownValue: String { get }
}

public protocol ManifestMapping {
    associatedtype Node: ManifestNode where Node.Mapping == Self
    associatedtype Pairs: Swift.Sequence where Pairs.Element == (key: Node, value: Node)

    /// 1-based line where the mapping starts, when known.
    var line: Int? { get }
    /// The value of a plain key; nil when the key is absent or its value is null.
    func field(_ key: String) -> Node?
    /// Every entry in document order.
    var pairs: Pairs { get }
    var count: Int { get }
}

extension ManifestNode {
    var shownValueOfScalar: String {
        isNull ? "null" : "\"\(scalarText ?? "")\""
    }
}

// MARK: - Yams

extension Yams.Node: ManifestNode {
    /// A plain `null`, `~` or empty scalar: YAML 1.1 null, which the basic resolver leaves as text.
    public var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.style == .plain || scalar.style == .any else {
            return false
        }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    public var line: Int? { mark?.line }

    public var scalarText: String? { scalar?.string }

    public var shownValue: String {
        switch self {
        case .scalar: return shownValueOfScalar
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension Yams.Node.Mapping: ManifestMapping {
    public var line: Int? { mark?.line }

    public func field(_ key: String) -> Yams.Node? {
        var index = startIndex
        let end = endIndex
        while index < end {
            let pair = self[index]
            if case .scalar(let scalar) = pair.key, scalar.string == key {
                return pair.value.isNull ? nil : pair.value
            }
            index += 1
        }
        return nil
    }

    public var pairs: Yams.Node.Mapping { self }
}
