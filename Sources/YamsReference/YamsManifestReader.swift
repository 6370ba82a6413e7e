import ClusterRegistry
import Yams

/// Manifests read the way ClusterDNS read them before issue #9: Yams composes each document into
/// a node tree, and the manifest rules read the tree. Only the tests and the benchmarks use it,
/// as the reference that `YAMLDocumentReader`'s tapes must decode exactly like.
public enum YamsManifestReader {
    /// The objects and errors of one file's text, as `ManifestLoader` reported them with Yams.
    public static func decode(text: String, file: String) -> APIObjectDecoder.Decoded {
        var rules = ManifestRules(file: file, textLength: text.utf8.count)
        do {
            let parser = try Yams.Parser(yaml: text, resolver: .basic, constructor: .default, encoding: .utf8)
            while let root = try parser.nextRoot() {
                rules.decodeDocument(root)
            }
        } catch {
            let (line, message) = describe(error)
            rules.reportSyntaxError(line: line, message)
        }
        return rules.decoded
    }

    /// Parses JSON (or YAML) text with the resolver manifests use: every scalar stays text.
    public static func parse(_ text: String) throws -> Yams.Node? {
        try Yams.compose(yaml: text, .basic)
    }

    /// libyaml's problem and context, without Yams' multi-line snippet.
    static func describe(_ error: any Error) -> (line: Int?, message: String) {
        guard let yamlError = error as? YamlError else { return (nil, "cannot parse: \(error)") }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _),
             .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            let detail = context.map { " (\($0.text) at line \($0.mark.line))" } ?? ""
            return (mark.line, "YAML syntax error: \(problem)\(detail)")
        case .reader(let problem, let offset, _, let yaml):
            let line = offset.map { characterOffset in
                1 + yaml.prefix(characterOffset).reduce(0) { $1 == "\n" ? $0 + 1 : $0 }
            }
            return (line, "cannot read YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return (context.mark.line > 0 ? context.mark.line : nil, "duplicate key \(keys) in a mapping")
        default:
            return (nil, "cannot parse YAML: \(yamlError)")
        }
    }
}
