/// Turns one file's YAML (or JSON, which is YAML) into `KubernetesObject`s, collecting every
/// error instead of stopping at the first.
///
/// Reads each YAML document as a tape of libyaml's events (`YAMLDocumentReader`), the same tape
/// the API's JSON is read into: no `Codable`, no node tree, and every scalar text until a rule
/// reads it, as `Resolver.basic` leaves it (DESIGN.md §4). The rules are written against
/// `ManifestNode`, so both sources agree.
///
/// Locations: `document` is the 0-based index of the YAML document in the file (empty documents
/// count); inside a `List` the field path starts with `items[i].` and the line is the item's.
/// A field's line is its value's line; a missing field is reported at its parent mapping's line.
struct ManifestDecoder {
    let file: String
    private(set) var document = 0
    /// Lines before the decoded text in its file (it is one document of the file): parser
    /// lines are counted from the text's start.
    private(set) var lineOffset = 0
    /// Line of the object being decoded: the fallback for errors without a node of their own.
    private(set) var objectLine: Int?
    /// "" or `items[i].` while decoding the items of a `List`.
    private(set) var fieldPrefix = ""
    private(set) var objects: [KubernetesObject] = []
    private(set) var skippedKinds: [String: Int] = [:]
    var errors: [ManifestError] = []
    /// For a run of documents decoded as one text (`decodeRun`): `objects.count` at the end of
    /// each document, and each kind skipped with its document. Nil otherwise.
    private(set) var documentEnds: [Int]?
    private(set) var skippedByDocument: [(document: Int, kind: String)] = []
    /// Objects the text may still yield: no more than its bytes could spell out. YAML aliases
    /// let 725 bytes expand to a million Services (issue #11 item 4, an alias bomb); written
    /// out, every object takes well over `bytesPerObject` bytes.
    private var objectBudget = Int.max  // API objects arrive one by one: no text to measure
    private var objectBudgetReported = false
    static let bytesPerObject = 16
    /// Lists inside lists are followed this deep at most (aliases can nest them).
    static let maxListDepth = 4
    private var listDepth = 0

    /// Kinds decoded (with their core or discovery apiVersion); other kinds are counted in
    /// `skippedKinds`, and so are these kinds from another API group, as "Service (group/v1)".
    static let decodedKinds: Set<String> = ["Namespace", "Service", "Endpoints", "EndpointSlice", "Pod", "ServiceImport"]

    init(file: String) {
        self.file = file
    }

    /// For the documents of a text of `textLength` bytes: no more objects than it can spell out.
    init(file: String, textLength: Int) {
        self.file = file
        objectBudget = 64 + textLength / Self.bytesPerObject
    }

    /// `firstDocument` and `firstLine` place the text in its file when it is one part of it.
    static func decode(text: String, file: String, firstDocument: Int = 0, firstLine: Int = 1) -> ManifestDecoder {
        var decoder = ManifestDecoder(file: file, textLength: text.utf8.count)
        decoder.document = firstDocument
        decoder.lineOffset = firstLine - 1
        decoder.decodeStream(text)
        return decoder
    }

    /// `decode` of a run of whole documents of one file, recording where each document's
    /// objects and skipped kinds end (`documentEnds`, `skippedByDocument`).
    static func decodeRun(text: String, file: String, firstDocument: Int, firstLine: Int) -> ManifestDecoder {
        var decoder = ManifestDecoder(file: file, textLength: text.utf8.count)
        decoder.document = firstDocument
        decoder.lineOffset = firstLine - 1
        decoder.documentEnds = []
        decoder.decodeStream(text)
        return decoder
    }

    var source: SourceLocation {
        SourceLocation(file: file, document: document, line: objectLine.map { $0 + lineOffset })
    }

    // MARK: - Documents

    private mutating func decodeStream(_ text: String) {
        do throws(YAMLReadError) {
            try YAMLDocumentReader.readDocuments(text) { tape in decodeDocument(tape.root) }
        } catch {
            // libyaml cannot resume after an error: the rest of the file is lost.
            reportSyntaxError(error)
        }
    }

    /// Decodes the next document of the text, whose root is `root`.
    mutating func decodeDocument<Node: ManifestNode>(_ root: Node) {
        defer {
            document += 1
            documentEnds?.append(objects.count)
        }
        if root.isNull { return }  // empty document, e.g. between two `---`
        objectLine = root.line
        guard let object = root.mapping else {
            report("", line: root.line, "expected a Kubernetes object (a mapping), got \(root.shownValue)")
            return
        }
        decodeObject(object, defaults: nil)
    }

    /// Decodes one object; objects with any error are dropped (their errors are kept).
    /// `defaults` are the apiVersion and kind implied by a typed list (`ServiceList`).
    mutating func decodeObject<Object: ManifestMapping>(
        _ object: Object, defaults: (apiVersion: String, kind: String)?
    ) {
        guard objectBudget > 0 else {
            if !objectBudgetReported {
                objectBudgetReported = true
                report("", line: object.line, "more objects than the text can hold written out (YAML aliases?): the rest is not read")
            }
            return
        }
        objectBudget -= 1
        let apiVersion = text(object.field("apiVersion"), at: "apiVersion") ?? defaults?.apiVersion
        let kind = text(object.field("kind"), at: "kind") ?? defaults?.kind
        guard let apiVersion, let kind else {
            // (A present but non-string value has been reported by `text` already.)
            let fields = [("apiVersion", apiVersion), ("kind", kind)]
            for (field, value) in fields where value == nil && object.field(field) == nil {
                report(field, line: object.line, "required field is missing (not a Kubernetes object)")
            }
            return
        }
        if kind == "List" || (kind.hasSuffix("List") && object.field("items") != nil) {
            decodeList(object, apiVersion: apiVersion, kind: kind)
            return
        }
        let errorCount = errors.count
        let objectCount = objects.count
        switch (apiVersion, kind) {
        case ("v1", "Namespace"):
            if let namespace = decodeNamespace(object) { objects.append(.namespace(namespace)) }
        case ("v1", "Service"):
            if let service = decodeService(object) { objects.append(.service(service)) }
        case ("v1", "Endpoints"):
            objects.append(contentsOf: decodeEndpoints(object).map(KubernetesObject.endpoints))
        case ("discovery.k8s.io/v1", "EndpointSlice"), ("discovery.k8s.io/v1beta1", "EndpointSlice"):
            if let group = decodeEndpointSlice(object) { objects.append(.endpoints(group)) }
        case ("v1", "Pod"):
            if let pod = decodePod(object) { objects.append(.pod(pod)) }
        case ("multicluster.x-k8s.io/v1alpha1", "ServiceImport"), ("multicluster.x-k8s.io/v1beta1", "ServiceImport"):
            if let serviceImport = decodeServiceImport(object) { objects.append(.serviceImport(serviceImport)) }
        default:
            // Another group's kind of the same name (Knative's Service) is not ours.
            let key = Self.decodedKinds.contains(kind) ? "\(kind) (\(apiVersion))" : kind
            skippedKinds[key, default: 0] += 1
            if documentEnds != nil { skippedByDocument.append((document, key)) }
        }
        if errors.count > errorCount {
            objects.removeSubrange(objectCount...)
        }
    }

    /// `kind: List` (what `kubectl get -o yaml` prints) or a typed list such as `ServiceList`,
    /// whose items may omit their apiVersion and kind.
    private mutating func decodeList<List: ManifestMapping>(_ list: List, apiVersion: String, kind: String) {
        guard listDepth < Self.maxListDepth else {
            report("items", line: list.line, "lists nested more than \(Self.maxListDepth) deep are not read")
            return
        }
        listDepth += 1
        defer { listDepth -= 1 }
        guard let items = sequence(list.field("items"), at: "items") else { return }
        let itemDefaults = kind == "List" ? nil : (apiVersion: apiVersion, kind: String(kind.dropLast(4)))
        let (savedPrefix, savedLine) = (fieldPrefix, objectLine)
        defer { (fieldPrefix, objectLine) = (savedPrefix, savedLine) }
        for (index, item) in items.enumerated() {
            fieldPrefix = savedPrefix + "items[\(index)]."
            objectLine = item.line ?? savedLine
            guard let object = item.mapping else {
                report("", line: item.line, "expected a Kubernetes object (a mapping), got \(item.shownValue)")
                continue
            }
            decodeObject(object, defaults: itemDefaults)
        }
    }

    // MARK: - Metadata

    struct ObjectMeta {
        var name: String
        /// `default` when absent or empty.
        var namespace: String
        var labels: [String: String]?
        var labelsLine: Int?
        var line: Int?
    }

    /// `metadata.name` (required), `metadata.namespace` and, when asked, `metadata.labels`.
    mutating func metadata<Object: ManifestMapping>(_ object: Object, labels wantLabels: Bool = false) -> ObjectMeta? {
        guard let meta = mapping(required(object, "metadata", at: "metadata"), at: "metadata") else {
            return nil
        }
        let name = requiredText(meta, "name", at: "metadata.name")
        let namespace = text(meta.field("namespace"), at: "metadata.namespace")
        var labels: [String: String]?
        var labelsLine: Int?
        if wantLabels {
            let node = meta.field("labels")
            labels = stringMap(node, at: "metadata.labels")
            labelsLine = node?.line
        }
        guard let name else { return nil }
        return ObjectMeta(
            name: name, namespace: namespace.flatMap { $0.isEmpty ? nil : $0 } ?? "default",
            labels: labels, labelsLine: labelsLine, line: meta.line
        )
    }

    // MARK: - Syntax errors

    private mutating func reportSyntaxError(_ error: YAMLReadError) {
        let (line, message) = Self.describeSyntaxError(error)
        report("", line: line, message)
    }

    /// libyaml's problem and context, placed by line.
    static func describeSyntaxError(_ error: YAMLReadError) -> (line: Int?, message: String) {
        switch error.kind {
        case .reader:
            return (error.line, "cannot read YAML: \(error.problem)")
        case .syntax, .undefinedAlias:
            let detail = error.context.map { " (\($0) at line \(error.contextLine ?? 0))" } ?? ""
            return (error.line, "YAML syntax error: \(error.problem)\(detail)")
        case .duplicateKeys, .aliasExpansion:
            return (error.line, error.problem)
        }
    }
}
