import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL

/// GET requests to the API server over one `HTTPClient`: authentication, TLS and status
/// handling; the list/watch logic lives in `ResourceReflector`.
struct KubernetesAPIClient: Sendable {
    let connection: KubernetesConnection
    let http: HTTPClient
    let userAgent: String

    enum Failure: Error, Sendable, CustomStringConvertible {
        /// 410 Gone: the resourceVersion or continue token is too old; list again.
        case gone(String)
        case status(Int, String)
        case bodyTooLarge(Int)

        var description: String {
            switch self {
            case .gone(let message): return "410 Gone (\(message))"
            case .status(let code, let message): return "HTTP \(code): \(message)"
            case .bodyTooLarge(let limit): return "response larger than \(limit) bytes"
            }
        }
    }

    static func makeHTTPClient(
        connection: KubernetesConnection, group: any EventLoopGroup, readTimeout: TimeAmount
    ) throws -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: readTimeout)
        configuration.redirectConfiguration = .disallow
        if connection.server.hasPrefix("https:") {
            configuration.tlsConfiguration = try tlsConfiguration(connection)
        }
        // API servers close idle connections; a watch holds its own connection anyway.
        configuration.connectionPool = .init(idleTimeout: .seconds(60))
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: configuration)
    }

    static func tlsConfiguration(_ connection: KubernetesConnection) throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let ca = connection.certificateAuthorityPEM {
            tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(ca))
        }
        if let certificate = connection.clientCertificatePEM, let key = connection.clientKeyPEM {
            tls.certificateChain = try NIOSSLCertificate.fromPEMBytes(certificate).map { .certificate($0) }
            tls.privateKey = .privateKey(try NIOSSLPrivateKey(bytes: key, format: .pem))
        }
        if connection.insecureSkipTLSVerify { tls.certificateVerification = .none }
        return tls
    }

    /// Sends a GET for `path` with `query`; returns the response once its head arrived with a
    /// 2xx status (the body is left to the caller to stream). Non-2xx statuses throw, with the
    /// `Status` message from the body.
    func get(_ path: String, query: [(String, String)], headDeadline: TimeAmount) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: connection.server + path + Self.encode(query))
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: userAgent)
        if let authorization = try connection.authorization() {
            request.headers.add(name: "Authorization", value: authorization)
        }
        let response = try await http.execute(request, timeout: headDeadline)
        guard (200..<300).contains(Int(response.status.code)) else {
            let body = (try? await response.body.collect(upTo: 64 * 1024)).map { String(buffer: $0) } ?? ""
            let message = APIResponseDecoder.statusMessage(body)
            if response.status == .gone { throw Failure.gone(message) }
            throw Failure.status(Int(response.status.code), message.isEmpty ? response.status.reasonPhrase : message)
        }
        return response
    }

    /// `?a=1&b=2`, percent-encoded (continue tokens are base64 and carry `=` and `/`).
    static func encode(_ query: [(String, String)]) -> String {
        guard !query.isEmpty else { return "" }
        var allowed = CharacterSet.urlQueryAllowed
        allowed.remove(charactersIn: "&=+/?")
        return "?" + query.map { name, value in
            name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
}
