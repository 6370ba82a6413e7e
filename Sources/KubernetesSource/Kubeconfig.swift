import ClusterRegistry
import Foundation

extension KubernetesConnection {
    /// The connection a kubeconfig file describes for `context` (default: its `current-context`):
    /// the cluster's server and CA, and the user's token, token file or client certificate.
    /// Relative paths are relative to the kubeconfig's directory, as kubectl reads them.
    /// Exec and auth-provider plugins are not supported: they would mean running programs.
    public static func kubeconfig(path: String, context: String? = nil) throws(KubernetesConfigurationError) -> KubernetesConnection {
        let fail = { (message: String) in KubernetesConfigurationError.kubeconfig(path, message) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable(path, "kubeconfig") }
        let root: JSONDocument?
        do { root = try JSONDocument.parseYAML(text) } catch { throw fail("not YAML: \(Self.describeWithoutText(error))") }
        guard let config = root?.root.mapping else { throw fail("expected a mapping at the top") }
        let file = KubeconfigFile(config: config, directory: (path as NSString).deletingLastPathComponent)

        guard let contextName = context ?? config.text("current-context"), !contextName.isEmpty else {
            throw fail("no current-context (pass --kube-context)")
        }
        guard let contextEntry = file.entry("contexts", named: contextName, field: "context") else {
            throw fail("no context named \(contextName)")
        }
        guard let clusterName = contextEntry.text("cluster"),
              let cluster = file.entry("clusters", named: clusterName, field: "cluster")
        else { throw fail("context \(contextName) names no known cluster") }
        guard let server = cluster.text("server"), !server.isEmpty else { throw fail("cluster \(clusterName) has no server") }

        var connection = KubernetesConnection(server: server)
        connection.insecureSkipTLSVerify = cluster.text("insecure-skip-tls-verify") == "true"
        connection.certificateAuthorityPEM = try file.bytes(
            cluster, data: "certificate-authority-data", path: "certificate-authority", fail: fail)

        if let userName = contextEntry.text("user"), !userName.isEmpty {
            guard let user = file.entry("users", named: userName, field: "user") else { throw fail("no user named \(userName)") }
            if user.field("exec") != nil || user.field("auth-provider") != nil {
                throw fail("user \(userName) uses an exec or auth-provider plugin, which clusterdns does not run; use a token or a client certificate")
            }
            connection.bearerToken = user.text("token")
            connection.tokenFile = user.text("tokenFile").map(file.resolve)
            connection.clientCertificatePEM = try file.bytes(
                user, data: "client-certificate-data", path: "client-certificate", fail: fail)
            connection.clientKeyPEM = try file.bytes(user, data: "client-key-data", path: "client-key", fail: fail)
            if (connection.clientCertificatePEM == nil) != (connection.clientKeyPEM == nil) {
                throw fail("user \(userName) needs both a client certificate and its key")
            }
        }
        return connection
    }
}

/// Lookups in a parsed kubeconfig.
private struct KubeconfigFile {
    let config: JSONObject
    let directory: String

    /// `clusters[name == N].cluster` and the like.
    func entry(_ list: String, named name: String, field: String) -> JSONObject? {
        config.field(list)?.sequence?.lazy.compactMap(\.mapping).first { $0.text("name") == name }?.field(field)?.mapping
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }

    /// Inline base64 `data` or the file at `path`; nil when neither is set.
    func bytes(
        _ mapping: JSONObject, data: String, path: String, fail: (String) -> KubernetesConfigurationError
    ) throws(KubernetesConfigurationError) -> [UInt8]? {
        if let encoded = mapping.text(data), !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw fail("\(data) is not base64")
            }
            return Array(decoded)
        }
        guard let file = mapping.text(path), !file.isEmpty else { return nil }
        guard let contents = FileManager.default.contents(atPath: resolve(file)) else {
            throw .unreadable(resolve(file), path)
        }
        return Array(contents)
    }
}

extension KubernetesConnection {
    /// A YAML error as problem and position only, never the offending line: in a kubeconfig that
    /// line may hold a token (issue #11 item 13).
    static func describeWithoutText(_ error: YAMLReadError) -> String {
        let position = [error.line.map { "line \($0)" }, error.column.map { "column \($0)" }].compactMap { $0 }
        return position.isEmpty ? error.problem : "\(error.problem) at \(position.joined(separator: ", "))"
    }
}

extension JSONObject {
    /// A scalar field's text; nil when absent, null or not a scalar.
    fileprivate func text(_ key: String) -> String? { field(key)?.scalarText }
}
