@testable import KubernetesSource

/// An API response body through the decoder. The first byte chooses the resource and whether
/// the rest is a list page or a watch event: it decodes, or is refused with an error.
enum APIEventTarget {
    static func run(_ input: UnsafeRawBufferPointer) {
        guard let selector = input.first else { return }
        let resources: [KubernetesResource] = [.services, .endpointSlices, .pods, .namespaces, .serviceImports]
        let decoder = APIResponseDecoder(resource: resources[Int(selector) % resources.count])
        let body = Array(input.dropFirst())
        if selector & 0x80 == 0 {
            _ = try? decoder.decodeList(body)
        } else {
            _ = try? decoder.decodeEvent(body)
        }
    }
}
