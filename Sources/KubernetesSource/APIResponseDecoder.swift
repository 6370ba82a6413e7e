import ClusterRegistry
import Yams

/// One page of a list: the objects by `namespace/name`, the collection's resourceVersion (where
/// the watch starts) and the token for the next page.
struct ListPage: Sendable {
    var objects: [String: KubernetesObject] = [:]
    var resourceVersion: String
    var continueToken: String?
    /// Objects that could not be decoded: logged and left out, never fatal.
    var errors: [ManifestError] = []
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

/// Turns API JSON into store entries with the manifest decoder's rules.
struct APIResponseDecoder: Sendable {
    let resource: KubernetesResource

    func decodeList(_ text: String) throws(APIDecodingError) -> ListPage {
        let list = try mapping(text)
        let metadata = list["metadata"]?.mapping
        guard let resourceVersion = metadata?["resourceVersion"]?.string else {
            throw .malformed("\(resource.path): list without metadata.resourceVersion")
        }
        let token = metadata?["continue"]?.string
        var page = ListPage(resourceVersion: resourceVersion, continueToken: token?.isEmpty == false ? token : nil)
        for item in list["items"]?.sequence ?? [] {
            guard let object = item.mapping, let key = Self.key(of: object) else {
                throw .malformed("\(resource.path): list item without metadata.name")
            }
            let decoded = decode(object)
            page.errors += decoded.errors
            if let first = decoded.objects.first { page.objects[key] = first }
        }
        return page
    }

    func decodeEvent(_ text: String) throws(APIDecodingError) -> WatchEvent {
        let event = try mapping(text)
        guard let type = event["type"]?.string, let object = event["object"]?.mapping else {
            throw .malformed("\(resource.path): watch event without type or object")
        }
        let resourceVersion = object["metadata"]?.mapping?["resourceVersion"]?.string
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
            return .error(code: object["code"]?.string.flatMap { Int($0) } ?? 0, message: object["message"]?.string ?? "")
        default:
            throw .malformed("\(resource.path): unknown watch event type \(type)")
        }
    }

    /// The `message` of a `Status` body, for error reports; the text itself otherwise.
    static func statusMessage(_ text: String) -> String {
        if let status = (try? APIObjectDecoder.parse(text))?.mapping, let message = status["message"]?.string {
            return message
        }
        return String(text.prefix(200))
    }

    private func decode(_ object: Yams.Node.Mapping) -> APIObjectDecoder.Decoded {
        var decoded = APIObjectDecoder.decode(object, defaults: resource.itemDefaults, origin: resource.path)
        decoded.objects = decoded.objects.map(Self.minimal)
        return decoded
    }

    /// Drops what only a manifest needs: the source location, and pod labels (endpoints come
    /// from EndpointSlices here, never from matching selectors against pods).
    private static func minimal(_ object: KubernetesObject) -> KubernetesObject {
        switch object {
        case .namespace: return object
        case .service(var service):
            service.source = nil
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

    private func mapping(_ text: String) throws(APIDecodingError) -> Yams.Node.Mapping {
        let node: Yams.Node?
        do { node = try APIObjectDecoder.parse(text) } catch { throw .malformed("\(resource.path): \(error)") }
        guard let mapping = node?.mapping else { throw .malformed("\(resource.path): expected a JSON object") }
        return mapping
    }

    /// `namespace/name`, or `name` for cluster-scoped objects.
    static func key(of object: Yams.Node.Mapping) -> String? {
        guard let metadata = object["metadata"]?.mapping, let name = metadata["name"]?.string else { return nil }
        let namespace = metadata["namespace"]?.string ?? ""
        return namespace.isEmpty ? name : namespace + "/" + name
    }
}
