import Foundation
import NIOCore
import NIOHTTP1

/// The apiserver's wire format: JSON text, metav1.Status bodies, continue tokens and the HTTP
/// framing of plain and streamed (watch) responses.
extension FakeKubernetesAPIServer.Core {
    typealias Resource = FakeKubernetesAPIServer.Resource

    static func key(namespace: String?, name: String) -> String {
        guard let namespace, !namespace.isEmpty else { return name }
        return "\(namespace)/\(name)"
    }

    static func serialize(_ object: [String: Any]) -> String {
        // Go's encoder does not escape "/"; sorted keys keep the output deterministic.
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data ?? Data("{}".utf8), as: UTF8.self)
    }

    /// The stored object with kind/apiVersion first, as watch events carry them. Stored
    /// objects always have metadata, so the text after "{" is never empty.
    static func withKind(_ resource: Resource, _ json: String) -> String {
        "{\"kind\":\"\(resource.kind)\",\"apiVersion\":\"\(resource.apiVersion)\"," + json.dropFirst()
    }

    static func eventLine(_ type: String, _ object: String) -> String {
        "{\"type\":\"\(type)\",\"object\":\(object)}\n"
    }

    static func chunk(_ text: String) -> HTTPServerResponsePart { .body(.byteBuffer(ByteBuffer(string: text))) }

    static func streamHead(_ keepAlive: Bool) -> HTTPServerResponsePart {
        var headers: HTTPHeaders = [
            "Content-Type": "application/json", "Transfer-Encoding": "chunked", "Cache-Control": "no-cache, private",
        ]
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return .head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))
    }

    static func respond(
        _ channel: Channel, _ status: Int, _ body: String, _ keepAlive: Bool, _ extra: [(String, String)] = []
    ) {
        var headers: HTTPHeaders = [
            "Content-Type": "application/json", "Content-Length": String(body.utf8.count),
            "Cache-Control": "no-cache, private",
        ]
        headers.add(contentsOf: extra)
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        send(channel, [.head(head), chunk(body), .end(nil)], thenClose: !keepAlive)
    }

    static func respondStatus(
        _ channel: Channel, _ code: Int, _ message: String, _ keepAlive: Bool, _ extra: [(String, String)] = []
    ) {
        respond(channel, code, statusJSON(code, message), keepAlive, extra)
    }

    /// A metav1.Status as the apiserver writes it (reason omitted when it has none).
    static func statusJSON(_ code: Int, _ message: String) -> String {
        let reasons = [
            400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 405: "MethodNotAllowed",
            409: "Conflict", 410: "Expired", 429: "TooManyRequests", 500: "InternalError",
            503: "ServiceUnavailable", 504: "Timeout",
        ]
        let reason = reasons[code].map { "\"reason\":\"\($0)\"," } ?? ""
        return "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
            + "\"message\":\(quote(message)),\(reason)\"code\":\(code)}"
    }

    static let expiredContinue =
        "The provided continue parameter is too old to display a consistent list result. You can start a new "
        + "list without the continue parameter, or use the continue token in this response to retrieve the "
        + "remainder of the results. Continuing with the provided token results in an inconsistent list - "
        + "objects that were created, modified, or deleted between the time the first chunk was returned and "
        + "now may show up in the list."

    /// `text` as a JSON string literal, with "/" unescaped as Go writes it.
    static func quote(_ text: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: text, options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data("\"\"".utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// The real token's shape: standard base64 (with "+", "/", "=" for clients to escape) of
    /// {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}.
    static func encodeContinue(rv: Int, start: String) -> String {
        Data(serialize(["v": "meta.k8s.io/v1", "rv": rv, "start": start]).utf8).base64EncodedString()
    }

    static func decodeContinue(_ token: String) -> (rv: Int, start: String)? {
        guard let data = Data(base64Encoded: token),
            let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            let rv = object["rv"] as? Int, let start = object["start"] as? String
        else { return nil }
        return (rv, start)
    }

    /// Queues `parts` on the channel's loop (always asynchronously, see the type comment).
    static func send(_ channel: Channel, _ parts: [HTTPServerResponsePart], thenClose: Bool = false) {
        channel.eventLoop.execute {
            for part in parts.dropLast() { channel.write(part, promise: nil) }
            guard let last = parts.last else { return }
            let written = channel.writeAndFlush(last)
            if thenClose { written.whenComplete { _ in channel.close(promise: nil) } }
        }
    }
}
