import Yams

/// Decodes objects as the Kubernetes API sends them (list items and watch-event objects) with
/// the same rules and messages as manifests, so both sources agree on what an object means.
public enum APIObjectDecoder {
    public struct Decoded: Sendable {
        /// Empty when the object has errors or is of a kind DNS does not use.
        public var objects: [KubernetesObject]
        public var errors: [ManifestError]
    }

    /// `defaults` stand in for the apiVersion and kind that list items omit. `origin` names
    /// where the object came from in error messages (e.g. the resource's path).
    public static func decode(
        _ object: JSONObject, defaults: (apiVersion: String, kind: String), origin: String
    ) -> Decoded {
        decodeAny(object, defaults: defaults, origin: origin)
    }

    /// The same for an object parsed by Yams (`parse`): the rules and results are identical.
    public static func decode(
        _ object: Yams.Node.Mapping, defaults: (apiVersion: String, kind: String), origin: String
    ) -> Decoded {
        decodeAny(object, defaults: defaults, origin: origin)
    }

    // Not public: a generic called from another module would not be specialised (the two
    // overloads above are, inside this module).
    private static func decodeAny<Object: ManifestMapping>(
        _ object: Object, defaults: (apiVersion: String, kind: String), origin: String
    ) -> Decoded {
        var decoder = ManifestDecoder(file: origin)
        decoder.decodeObject(object, defaults: defaults)
        return Decoded(objects: decoder.objects, errors: decoder.errors)
    }

    /// Parses JSON (or YAML) text with Yams and the resolver manifests use: every scalar stays
    /// text until a field asks for a number or a boolean (DESIGN.md §4). The API source reads
    /// its JSON with `JSONDocument` instead; this stays as the reference the tests compare with.
    public static func parse(_ text: String) throws -> Yams.Node? {
        try Yams.compose(yaml: text, .basic)
    }
}
