import ClusterRegistry

/// One page of a list: the objects by `namespace/name`, the collection's resourceVersion (where
/// the watch starts) and the token for the next page.
struct ListPage: Sendable {
    var objects = Items()
    var resourceVersion: String
    var continueToken: String?
    /// Objects that could not be decoded: logged and left out, never fatal.
    var errors: [ManifestError] = []

    /// The page's objects in the page's order (the API server's key order), each under its
    /// `namespace/name`: stored as they come, without a table to fill and sort again (issue #9:
    /// first sync). A key that repeats within a page is stored twice; the later one wins, as it
    /// would in a table.
    struct Items: Sendable, ExpressibleByDictionaryLiteral {
        private(set) var entries: [(key: String, object: KubernetesObject)] = []

        init() {}

        /// In the literal's order (tests write pages this way).
        init(dictionaryLiteral elements: (String, KubernetesObject)...) {
            entries = elements.map { (key: $0.0, object: $0.1) }
        }

        mutating func append(_ object: KubernetesObject, key: String) { entries.append((key, object)) }

        var count: Int { entries.count }
        var isEmpty: Bool { entries.isEmpty }
        var keys: [String] { entries.map(\.key) }

        /// The object stored last under `key`.
        subscript(key: String) -> KubernetesObject? { entries.last { $0.key == key }?.object }
    }
}

/// One line of a watch stream.
enum WatchEvent: Sendable, Equatable {
    /// ADDED or MODIFIED: `object` nil when the new version has errors or means nothing to DNS
    /// (then it is removed, as the old version no longer holds).
    case upsert(key: String, object: KubernetesObject?, resourceVersion: String?)
    case deleted(key: String, resourceVersion: String?)
    case bookmark(resourceVersion: String)
    /// An ERROR event: a `Status` with its code (410 when the resourceVersion is too old).
    case error(code: Int, message: String)
}

enum APIDecodingError: Error, Sendable, CustomStringConvertible {
    case malformed(String)

    var description: String {
        switch self {
        case .malformed(let message): return "malformed API response: \(message)"
        }
    }
}

/// Turns API JSON into store entries with the manifest decoder's rules. The JSON is read by
/// `JSONDocument`, never by a YAML parser (DESIGN.md §4), and a list page's items are decoded
/// one at a time as they are read: the page is never held as one tree (issue #9).
struct APIResponseDecoder: Sendable {
    let resource: KubernetesResource

    func decodeList(_ text: String) throws(APIDecodingError) -> ListPage {
        try decodeList(Array(text.utf8))
    }

    func decodeList(_ bytes: [UInt8]) throws(APIDecodingError) -> ListPage {
        var objects = ListPage.Items()
        var errors: [ManifestError] = []
        var itemWithoutName = false
        let list: [String: JSONValue]
        do {
            list = try JSONDocument.readObject(bytes, streaming: "items", skipping: Self.unreadField) { item in
                guard !itemWithoutName else { return }  // the page is rejected below
                guard let object = item.object, let key = Self.key(of: object) else {
                    itemWithoutName = true
                    return
                }
                let decoded = decode(object)
                errors += decoded.errors
                if let first = decoded.objects.first { objects.append(first, key: key) }
            }
        } catch {
            throw .malformed("\(resource.path): \(error)")
        }
        let metadata = list["metadata"]?.object
        guard let resourceVersion = metadata?["resourceVersion"]?.text else {
            throw .malformed("\(resource.path): list without metadata.resourceVersion")
        }
        if itemWithoutName { throw .malformed("\(resource.path): list item without metadata.name") }
        let token = metadata?["continue"]?.text
        return ListPage(
            objects: objects, resourceVersion: resourceVersion, continueToken: token?.isEmpty == false ? token : nil,
            errors: errors)
    }

    func decodeEvent(_ text: String) throws(APIDecodingError) -> WatchEvent {
        try decodeEvent(Array(text.utf8))
    }

    func decodeEvent(_ bytes: [UInt8]) throws(APIDecodingError) -> WatchEvent {
        let event = try object(bytes)
        guard let type = event["type"]?.text, let object = event["object"]?.object else {
            throw .malformed("\(resource.path): watch event without type or object")
        }
        let resourceVersion = object["metadata"]?.object?["resourceVersion"]?.text
        switch type {
        case "ADDED", "MODIFIED":
            guard let key = Self.key(of: object) else { throw .malformed("\(resource.path): \(type) event without metadata.name") }
            return .upsert(key: key, object: decode(object).objects.first, resourceVersion: resourceVersion)
        case "DELETED":
            guard let key = Self.key(of: object) else { throw .malformed("\(resource.path): DELETED event without metadata.name") }
            return .deleted(key: key, resourceVersion: resourceVersion)
        case "BOOKMARK":
            guard let resourceVersion else { throw .malformed("\(resource.path): BOOKMARK without resourceVersion") }
            return .bookmark(resourceVersion: resourceVersion)
        case "ERROR":
            return .error(code: object["code"]?.text.flatMap { Int($0) } ?? 0, message: object["message"]?.text ?? "")
        default:
            throw .malformed("\(resource.path): unknown watch event type \(type)")
        }
    }

    /// The `message` of a `Status` body, for error reports; the text itself otherwise.
    static func statusMessage(_ text: String) -> String {
        if let status = (try? JSONDocument.parse(Array(text.utf8)))?.root.object, let message = status["message"]?.text {
            return message
        }
        return String(text.prefix(200))
    }

    /// Server-side apply's field ownership (`metadata.managedFields`): about a third of a real
    /// object's bytes, and read by no rule, so the scanner steps over it.
    static let unreadField: StaticString = "managedFields"

    private func decode(_ object: JSONObject) -> APIObjectDecoder.Decoded {
        var decoded = APIObjectDecoder.decode(object, defaults: resource.itemDefaults, origin: resource.path)
        decoded.objects = decoded.objects.map(Self.minimal)
        return decoded
    }
    /// Drops what only a manifest needs: the source location, and pod labels (endpoints come
    /// from EndpointSlices here, never from matching selectors against pods).
    /// Stands for every non-empty selector of an API Service.
    static let someSelector = ["": ""]

    private static func minimal(_ object: KubernetesObject) -> KubernetesObject {
        switch object {
        case .namespace: return object
        case .serviceImport(var serviceImport):
            serviceImport.source = nil
            return .serviceImport(serviceImport)
        case .service(var service):
            service.source = nil
            // Endpoints come from EndpointSlices here, never from matching a selector against
            // pods: only whether there is one matters (the programming-latency metric counts
            // headless Services with a selector). One shared table spares one per Service.
            if let selector = service.selector, !selector.isEmpty { service.selector = Self.someSelector }
            return .service(service)
        case .endpoints(var group):
            group.source = nil
            return .endpoints(group)
        case .pod(var pod):
            pod.source = nil
            pod.labels = [:]
            return .pod(pod)
        }
    }

    private func object(_ bytes: [UInt8]) throws(APIDecodingError) -> JSONObject {
        let document: JSONDocument
        do { document = try JSONDocument.parse(bytes, skipping: Self.unreadField) } catch { throw .malformed("\(resource.path): \(error)") }
        guard let object = document.root.object else { throw .malformed("\(resource.path): expected a JSON object") }
        return object
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    static func key(of object: JSONObject) -> String? {
        guard let metadata = object["metadata"]?.object, let name = metadata["name"]?.text else { return nil }
        let namespace = metadata["namespace"]?.text ?? ""
        return namespace.isEmpty ? name : namespace + "/" + name
    }
}
