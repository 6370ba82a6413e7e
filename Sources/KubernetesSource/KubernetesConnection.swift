import Foundation

/// How to reach the API server and prove who we are: what in-cluster configuration or a
/// kubeconfig context resolves to.
public struct KubernetesConnection: Sendable, Equatable {
    /// `https://HOST:PORT` (or `http://` for a local test server), without a trailing slash.
    public var server: String
    /// A bearer token given inline (kubeconfig `token`).
    public var bearerToken: String?
    /// A file holding the bearer token, read again for every request: kubelet rotates projected
    /// service-account tokens (about hourly), so a token read once at start-up would expire.
    public var tokenFile: String?
    /// PEM client certificate chain and key (kubeconfig `client-certificate(-data)`).
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    /// PEM CA bundle that signs the server's certificate; nil trusts the system's roots.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool

    public init(
        server: String, bearerToken: String? = nil, tokenFile: String? = nil,
        clientCertificatePEM: [UInt8]? = nil, clientKeyPEM: [UInt8]? = nil,
        certificateAuthorityPEM: [UInt8]? = nil, insecureSkipTLSVerify: Bool = false
    ) {
        self.server = server.hasSuffix("/") ? String(server.dropLast()) : server
        self.bearerToken = bearerToken
        self.tokenFile = tokenFile
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
    }

    /// Why this connection exposes its credentials, if it does (issue #11 item 15): a token
    /// sent over plain HTTP, or over TLS that does not check whom it talks to. Nil when safe.
    public var credentialExposure: String? {
        let credentials = bearerToken != nil || tokenFile != nil
        guard credentials else { return nil }
        if server.lowercased().hasPrefix("http://") { return "the API server \(server) is plain HTTP: the token travels in clear" }
        if insecureSkipTLSVerify {
            return "insecure-skip-tls-verify is set: the token goes to whoever answers at \(server)"
        }
        return nil
    }

    /// The `Authorization` header value for the next request, if any.
    public func authorization() throws(KubernetesConfigurationError) -> String? {
        if let tokenFile {
            guard let token = try? String(contentsOfFile: tokenFile, encoding: .utf8) else {
                throw .unreadable(tokenFile, "token file")
            }
            return "Bearer " + token.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return bearerToken.map { "Bearer " + $0 }
    }

    /// In-cluster configuration, as client-go's `rest.InClusterConfig`: the API server from
    /// `KUBERNETES_SERVICE_HOST`/`_PORT`, the pod's service-account token and CA bundle.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = "/var/run/secrets/kubernetes.io/serviceaccount"
    ) throws(KubernetesConfigurationError) -> KubernetesConnection {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty
        else {
            throw .notInCluster
        }
        let tokenFile = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenFile) else { throw .unreadable(tokenFile, "service-account token") }
        let caFile = serviceAccountDirectory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caFile) else { throw .unreadable(caFile, "service-account CA bundle") }
        let hostPart = host.contains(":") ? "[\(host)]" : host  // an IPv6 service IP
        return KubernetesConnection(
            server: "https://\(hostPart):\(port)", tokenFile: tokenFile, certificateAuthorityPEM: Array(ca))
    }
}

public enum KubernetesConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    case notInCluster
    case unreadable(String, String)
    case kubeconfig(String, String)

    public var description: String {
        switch self {
        case .notInCluster:
            return "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set (use --kubeconfig)"
        case .unreadable(let path, let what):
            return "cannot read the \(what) \(path)"
        case .kubeconfig(let path, let message):
            return "kubeconfig \(path): \(message)"
        }
    }
}
