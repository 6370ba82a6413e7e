import ClusterRegistry
import Yams

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
