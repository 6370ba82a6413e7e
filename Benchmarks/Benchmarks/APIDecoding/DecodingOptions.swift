import ClusterRegistry
import Foundation
import SwiftProtobuf
import Yams
import YamsReference

/// One list page, in the forms the options read.
struct Page {
    let text: String
    let data: Data
    let bytes: [UInt8]
    let defaults: (apiVersion: String, kind: String)
}

struct Decoded {
    var objects: [KubernetesObject] = []
    var errors: [ManifestError] = []

    mutating func add(_ decoded: APIObjectDecoder.Decoded) {
        objects += decoded.objects
        errors += decoded.errors
    }
}

struct BenchmarkFailure: Error, CustomStringConvertible {
    var description: String
}

/// The ways of turning a list page into `KubernetesObject`s that issue #9 compared.
enum DecodingOption: String, CaseIterable {
    case yams = "Y  Yams.compose, Resolver.basic (before)"
    case serializationOnly = "A0 JSONSerialization, parse only"
    case serialization = "A  JSONSerialization → Yams.Node → rules"
    case serializationPruned = "A' same, managedFields etc. dropped"
    case codableOnly = "B0 JSONDecoder, Codable structs only"
    case codable = "B  JSONDecoder structs → Yams.Node → rules"
    case protobufOnly = "C0 swift-protobuf JSON → Struct, parse only"
    case protobuf = "C  swift-protobuf Struct → Yams.Node → rules"
    case tapeOnly = "D0 JSONDocument tape, scan only"
    case tape = "D  JSONDocument tape → rules"
    case tapeSkippingOnly = "E0 tape, managedFields stepped over, scan only"
    case tapeSkipping = "E  tape, managedFields stepped over → rules (chosen)"

    /// Whether the result is the rules' output (compared with Yams'), not just a parse.
    var decodes: Bool { ![.serializationOnly, .codableOnly, .protobufOnly, .tapeOnly, .tapeSkippingOnly].contains(self) }

    func decode(_ page: Page) throws -> Decoded {
        switch self {
        case .yams: return try Self.viaYams(page)
        case .serializationOnly: return try Self.viaSerialization(page, pruned: false, decode: false)
        case .serialization: return try Self.viaSerialization(page, pruned: false, decode: true)
        case .serializationPruned: return try Self.viaSerialization(page, pruned: true, decode: true)
        case .codableOnly: return try Self.viaCodable(page, decode: false)
        case .codable: return try Self.viaCodable(page, decode: true)
        case .protobufOnly: return try Self.viaProtobuf(page, decode: false)
        case .protobuf: return try Self.viaProtobuf(page, decode: true)
        case .tapeOnly: return try Self.viaTape(page, decode: false)
        case .tape: return try Self.viaTape(page, decode: true)
        case .tapeSkippingOnly: return try Self.viaTape(page, decode: false, skipping: "managedFields")
        case .tapeSkipping: return try Self.viaTape(page, decode: true, skipping: "managedFields")
        }
    }

    private static func viaYams(_ page: Page) throws -> Decoded {
        guard let items = try YamsManifestReader.parse(page.text)?.mapping?["items"]?.sequence else {
            throw BenchmarkFailure(description: "no items")
        }
        var result = Decoded()
        for case .mapping(let item) in items {
            result.add(APIObjectDecoder.decode(item, defaults: page.defaults, origin: "page"))
        }
        return result
    }

    private static func viaTape(_ page: Page, decode: Bool, skipping: StaticString? = nil) throws -> Decoded {
        var result = Decoded()
        _ = try JSONDocument.readObject(page.bytes, streaming: "items", skipping: skipping) { item in
            guard decode, let object = item.object else { return }
            result.add(APIObjectDecoder.decode(object, defaults: page.defaults, origin: "page"))
        }
        return result
    }

    private static func viaSerialization(_ page: Page, pruned: Bool, decode: Bool) throws -> Decoded {
        guard let items = (try JSONSerialization.jsonObject(with: page.data) as? [String: Any])?["items"] as? [Any] else {
            throw BenchmarkFailure(description: "no items")
        }
        var result = Decoded()
        guard decode else { return result }
        let converter = YamsNodes()
        for item in items {
            guard case .mapping(let object) = converter.node(item, pruned: pruned) else { continue }
            result.add(APIObjectDecoder.decode(object, defaults: page.defaults, origin: "page"))
        }
        return result
    }

    private static func viaProtobuf(_ page: Page, decode: Bool) throws -> Decoded {
        let root = try Google_Protobuf_Struct(jsonUTF8Bytes: page.bytes)
        var result = Decoded()
        guard decode, let items = root.fields["items"]?.listValue.values else { return result }
        let converter = YamsNodes()
        for item in items {
            guard case .mapping(let object) = converter.node(item) else { continue }
            result.add(APIObjectDecoder.decode(object, defaults: page.defaults, origin: "page"))
        }
        return result
    }
}

/// Builds `Yams.Node`s from other parsers' trees, so the rules (which read Yams' nodes on the
/// Yams path) can run on them. One `Tag` for all nodes: `Tag(.implicit)` makes a new
/// `Constructor` with three dictionaries each time, which alone halved these options.
final class YamsNodes {
    let tag = Tag(.implicit)

    func string(_ text: String) -> Yams.Node { .scalar(.init(text, tag, .doubleQuoted)) }
    func plain(_ text: String) -> Yams.Node { .scalar(.init(text, tag, .plain)) }

    /// Metadata fields no rule reads: dropped by the pruned variant.
    static let unreadMetadata: Set<String> = [
        "managedFields", "ownerReferences", "uid", "creationTimestamp", "generateName", "generation",
    ]

    func node(_ value: Any, pruned: Bool, key: String = "") -> Yams.Node {
        switch value {
        case let text as String:
            return string(text)
        case let object as [String: Any]:
            var pairs: [(Yams.Node, Yams.Node)] = []
            pairs.reserveCapacity(object.count)
            for (field, value) in object {
                if pruned, key == "metadata", Self.unreadMetadata.contains(field) { continue }
                if pruned, key == "annotations", field == "kubectl.kubernetes.io/last-applied-configuration" { continue }
                pairs.append((string(field), node(value, pruned: pruned, key: field)))
            }
            return .mapping(.init(pairs))
        case let array as [Any]:
            return .sequence(.init(array.map { node($0, pruned: pruned) }))
        case is NSNull:
            return plain("null")
        case let number as NSNumber:
            // Foundation on Linux reads true/false as NSNumber too; its objCType tells them apart.
            if String(cString: number.objCType) == "c" { return plain(number.boolValue ? "true" : "false") }
            return plain(number.stringValue)
        default:
            return plain("\(value)")
        }
    }

    func node(_ value: Google_Protobuf_Value) -> Yams.Node {
        switch value.kind {
        case .stringValue(let text): return string(text)
        case .numberValue(let number):
            // Every number is a Double here: integral ones are written back without ".0".
            return plain(number == number.rounded() && abs(number) < 1e15 ? String(Int(number)) : String(number))
        case .boolValue(let bool): return plain(bool ? "true" : "false")
        case .structValue(let object): return .mapping(.init(object.fields.map { (string($0.key), node($0.value)) }))
        case .listValue(let list): return .sequence(.init(list.values.map(node)))
        case .nullValue, nil: return plain("null")
        }
    }
}
