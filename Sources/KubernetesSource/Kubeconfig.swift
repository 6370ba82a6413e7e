import Foundation
import Yams

extension KubernetesConnection {
    /// The connection a kubeconfig file describes for `context` (default: its `current-context`):
    /// the cluster's server and CA, and the user's token, token file or client certificate.
    /// Relative paths are relative to the kubeconfig's directory, as kubectl reads them.
    /// Exec and auth-provider plugins are not supported: they would mean running programs.
    public static func kubeconfig(path: String, context: String? = nil) throws(KubernetesConfigurationError) -> KubernetesConnection {
        let fail = { (message: String) in KubernetesConfigurationError.kubeconfig(path, message) }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw .unreadable(path, "kubeconfig") }
        let root: Yams.Node?
        do { root = try Yams.compose(yaml: text, .basic) } catch { throw fail("not YAML: \(Self.describeWithoutText(error))") }
        guard let config = root?.mapping else { throw fail("expected a mapping at the top") }
        let file = KubeconfigFile(config: config, directory: (path as NSString).deletingLastPathComponent)

        guard let contextName = context ?? config["current-context"]?.string, !contextName.isEmpty else {
            throw fail("no current-context (pass --kube-context)")
        }
        guard let contextEntry = file.entry("contexts", named: contextName, field: "context") else {
            throw fail("no context named \(contextName)")
        }
        guard let clusterName = contextEntry["cluster"]?.string,
              let cluster = file.entry("clusters", named: clusterName, field: "cluster")
        else { throw fail("context \(contextName) names no known cluster") }
        guard let server = cluster["server"]?.string, !server.isEmpty else { throw fail("cluster \(clusterName) has no server") }

        var connection = KubernetesConnection(server: server)
        connection.insecureSkipTLSVerify = cluster["insecure-skip-tls-verify"]?.string == "true"
        connection.certificateAuthorityPEM = try file.bytes(
            cluster, data: "certificate-authority-data", path: "certificate-authority", fail: fail)

        if let userName = contextEntry["user"]?.string, !userName.isEmpty {
            guard let user = file.entry("users", named: userName, field: "user") else { throw fail("no user named \(userName)") }
            if user["exec"] != nil || user["auth-provider"] != nil {
                throw fail("user \(userName) uses an exec or auth-provider plugin, which clusterdns does not run; use a token or a client certificate")
            }
            connection.bearerToken = user["token"]?.string
            connection.tokenFile = user["tokenFile"]?.string.map(file.resolve)
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
    let config: Yams.Node.Mapping
    let directory: String

    /// `clusters[name == N].cluster` and the like.
    func entry(_ list: String, named name: String, field: String) -> Yams.Node.Mapping? {
        config[list]?.sequence?.lazy.compactMap(\.mapping).first { $0["name"]?.string == name }?[field]?.mapping
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : directory + "/" + path
    }

    /// Inline base64 `data` or the file at `path`; nil when neither is set.
    func bytes(
        _ mapping: Yams.Node.Mapping, data: String, path: String, fail: (String) -> KubernetesConfigurationError
    ) throws(KubernetesConfigurationError) -> [UInt8]? {
        if let encoded = mapping[data]?.string, !encoded.isEmpty {
            guard let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw fail("\(data) is not base64")
            }
            return Array(decoded)
        }
        guard let file = mapping[path]?.string, !file.isEmpty else { return nil }
        guard let contents = FileManager.default.contents(atPath: resolve(file)) else {
            throw .unreadable(resolve(file), path)
        }
        return Array(contents)
    }
}

extension KubernetesConnection {
    /// A YAML error as problem and position only. Yams's own description quotes the offending
    /// line, and in a kubeconfig that line may hold a token (issue #11 item 13).
    static func describeWithoutText(_ error: any Error) -> String {
        guard let error = error as? YamlError else { return "unreadable" }
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return "\(problem) at line \(mark.line), column \(mark.column)"
        case .reader(let problem, let offset, _, _):
            return problem + (offset.map { " at byte \($0)" } ?? "")
        default:
            return "unreadable"
        }
    }
}
