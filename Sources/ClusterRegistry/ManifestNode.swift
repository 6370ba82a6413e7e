/// What the manifest rules read of a parsed document, so that one set of rules (and messages)
/// decodes every source: the tapes of manifest files (`YAMLDocumentReader`) and of the API's
/// JSON (`JSONDocument`), and Yams' nodes in the tests' reference (`YamsReference`).
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
    public var shownValueOfScalar: String {
        isNull ? "null" : "\"\(scalarText ?? "")\""
    }
}
