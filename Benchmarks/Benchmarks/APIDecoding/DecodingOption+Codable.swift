import ClusterRegistry
import Foundation
import Yams

/// Option B: `JSONDecoder` into structs of only the fields the rules read, then `Yams.Node`s
/// of those fields so that the same rules decide (a type mismatch would throw for the whole page:
/// the real thing would need a fallback to keep the rules' messages).
extension DecodingOption {
    static func viaCodable(_ page: Page, decode: Bool) throws -> Decoded {
        var result = Decoded()
        let converter = YamsNodes()
        if page.defaults.kind == "Service" {
            let list = try JSONDecoder().decode(List<ServiceFields>.self, from: page.data)
            guard decode else { return result }
            for item in list.items {
                guard case .mapping(let object) = converter.node(item) else { continue }
                result.add(APIObjectDecoder.decode(object, defaults: page.defaults, origin: "page"))
            }
        } else {
            let list = try JSONDecoder().decode(List<SliceFields>.self, from: page.data)
            guard decode else { return result }
            for item in list.items {
                guard case .mapping(let object) = converter.node(item) else { continue }
                result.add(APIObjectDecoder.decode(object, defaults: page.defaults, origin: "page"))
            }
        }
        return result
    }

    struct List<Item: Decodable>: Decodable {
        struct Metadata: Decodable { var resourceVersion: String; var `continue`: String? }
        var metadata: Metadata
        var items: [Item]
    }

    struct Metadata: Decodable {
        var name: String
        var namespace: String?
        var labels: [String: String]?
        var annotations: [String: String]?
    }

    struct Port: Decodable {
        var name: String?
        var `protocol`: String?
        var port: Int?
        var targetPort: IntOrString?
    }

    enum IntOrString: Decodable {
        case int(Int), string(String)

        init(from decoder: any Swift.Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int.self) { self = .int(number) } else { self = .string(try container.decode(String.self)) }
        }

        var text: String {
            switch self {
            case .int(let number): return String(number)
            case .string(let text): return text
            }
        }
    }

    struct ServiceFields: Decodable {
        struct Spec: Decodable {
            var type: String?
            var clusterIP: String?
            var clusterIPs: [String]?
            var externalName: String?
            var ports: [Port]?
            var selector: [String: String]?
            var publishNotReadyAddresses: Bool?
        }
        var metadata: Metadata
        var spec: Spec?
    }

    struct SliceFields: Decodable {
        struct Endpoint: Decodable {
            struct Conditions: Decodable { var ready: Bool? }
            struct Reference: Decodable { var kind: String?; var name: String? }
            var addresses: [String]
            var conditions: Conditions?
            var hostname: String?
            var targetRef: Reference?
        }
        var metadata: Metadata
        var addressType: String
        var endpoints: [Endpoint]?
        var ports: [Port]?
    }
}

extension YamsNodes {
    func mapping(_ pairs: [(String, Yams.Node?)]) -> Yams.Node {
        .mapping(.init(pairs.compactMap { key, value in value.map { (string(key), $0) } }))
    }

    func strings(_ map: [String: String]?) -> Yams.Node? { map.map { mapping($0.map { ($0.key, string($0.value)) }) } }
    func bool(_ value: Bool?) -> Yams.Node? { value.map { plain($0 ? "true" : "false") } }

    func node(_ metadata: DecodingOption.Metadata) -> Yams.Node {
        mapping([
            ("name", string(metadata.name)), ("namespace", metadata.namespace.map(string)),
            ("labels", strings(metadata.labels)), ("annotations", strings(metadata.annotations)),
        ])
    }

    func node(_ ports: [DecodingOption.Port]?) -> Yams.Node? {
        ports.map { ports in
            .sequence(.init(ports.map { port in
                mapping([
                    ("name", port.name.map(string)), ("protocol", port.protocol.map(string)),
                    ("port", port.port.map { plain(String($0)) }), ("targetPort", port.targetPort.map { plain($0.text) }),
                ])
            }))
        }
    }

    func node(_ service: DecodingOption.ServiceFields) -> Yams.Node {
        let spec = service.spec.map { spec in
            mapping([
                ("type", spec.type.map(string)), ("clusterIP", spec.clusterIP.map(string)),
                ("clusterIPs", spec.clusterIPs.map { .sequence(.init($0.map(string))) }),
                ("externalName", spec.externalName.map(string)), ("ports", node(spec.ports)),
                ("selector", strings(spec.selector)), ("publishNotReadyAddresses", bool(spec.publishNotReadyAddresses)),
            ])
        }
        return mapping([("metadata", node(service.metadata)), ("spec", spec)])
    }

    func node(_ slice: DecodingOption.SliceFields) -> Yams.Node {
        let endpoints = slice.endpoints.map { endpoints -> Yams.Node in
            .sequence(.init(endpoints.map { endpoint in
                mapping([
                    ("addresses", .sequence(.init(endpoint.addresses.map(string)))),
                    ("conditions", endpoint.conditions.map { mapping([("ready", bool($0.ready))]) }),
                    ("hostname", endpoint.hostname.map(string)),
                    ("targetRef", endpoint.targetRef.map { mapping([("kind", $0.kind.map(string)), ("name", $0.name.map(string))]) }),
                ])
            }))
        }
        return mapping([
            ("metadata", node(slice.metadata)), ("addressType", string(slice.addressType)),
            ("endpoints", endpoints), ("ports", node(slice.ports)),
        ])
    }
}
