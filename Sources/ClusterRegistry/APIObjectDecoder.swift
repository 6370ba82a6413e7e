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

    /// The same for an object another parser read (the Yams reference in `YamsReference`): the
    /// rules and results are identical. A generic called from another module is not
    /// specialised, so the API source calls the overload above.
    public static func decode<Object: ManifestMapping>(
        _ object: Object, defaults: (apiVersion: String, kind: String), origin: String
    ) -> Decoded {
        decodeAny(object, defaults: defaults, origin: origin)
    }

    private static func decodeAny<Object: ManifestMapping>(
        _ object: Object, defaults: (apiVersion: String, kind: String), origin: String
    ) -> Decoded {
        var decoder = ManifestDecoder(file: origin)
        decoder.decodeObject(object, defaults: defaults)
        return Decoded(objects: decoder.objects, errors: decoder.errors)
    }
}

/// The manifest rules over the documents of a text another parser read: the Yams reference
/// (`YamsReference`) that the tests and benchmarks compare `YAMLDocumentReader` with.
public struct ManifestRules {
    private var decoder: ManifestDecoder

    public init(file: String, textLength: Int) {
        decoder = ManifestDecoder(file: file, textLength: textLength)
    }

    /// Decodes the text's next document.
    public mutating func decodeDocument<Node: ManifestNode>(_ root: Node) {
        decoder.decodeDocument(root)
    }

    /// The text could not be read on from `line`.
    public mutating func reportSyntaxError(line: Int?, _ message: String) {
        decoder.report("", line: line, message)
    }

    public var decoded: APIObjectDecoder.Decoded {
        APIObjectDecoder.Decoded(objects: decoder.objects, errors: decoder.errors)
    }
}
