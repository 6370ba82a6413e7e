import Foundation
@testable import KubernetesSource
import XCTest

/// In-cluster configuration and kubeconfig files resolve to the server, credentials and CA
/// kubectl would use.
final class KubernetesConnectionTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "cdns-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func write(_ name: String, _ text: String) throws -> String {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    func testInClusterUsesTheServiceAccountAndReadsTheTokenEachTime() throws {
        _ = try write("token", "first-token\n")
        _ = try write("ca.crt", "-----BEGIN CERTIFICATE-----\n")
        let connection = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            serviceAccountDirectory: directory)
        XCTAssertEqual(connection.server, "https://10.96.0.1:443")
        XCTAssertEqual(connection.certificateAuthorityPEM, Array("-----BEGIN CERTIFICATE-----\n".utf8))
        XCTAssertEqual(try connection.authorization(), "Bearer first-token")
        _ = try write("token", "rotated-token\n")  // kubelet rotates projected tokens
        XCTAssertEqual(try connection.authorization(), "Bearer rotated-token")
    }

    func testInClusterWithIPv6ServiceHost() throws {
        _ = try write("token", "t")
        _ = try write("ca.crt", "ca")
        let connection = try KubernetesConnection.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], serviceAccountDirectory: directory)
        XCTAssertEqual(connection.server, "https://[fd00::1]:443")
    }

    func testOutsideAClusterSaysSo() {
        XCTAssertThrowsError(try KubernetesConnection.inCluster(environment: [:], serviceAccountDirectory: directory)) { error in
            XCTAssertEqual(error as? KubernetesConfigurationError, .notInCluster)
        }
    }

    /// A token over plain HTTP or unverified TLS is flagged (serve warns at start).
    func testCredentialExposureIsNamed() {
        XCTAssertNil(KubernetesConnection(server: "https://10.0.0.1:443", bearerToken: "t").credentialExposure)
        XCTAssertNil(KubernetesConnection(server: "http://127.0.0.1:8080").credentialExposure, "no token, nothing exposed")
        XCTAssertEqual(
            KubernetesConnection(server: "http://127.0.0.1:8080", tokenFile: "/t").credentialExposure,
            "the API server http://127.0.0.1:8080 is plain HTTP: the token travels in clear")
        XCTAssertEqual(
            KubernetesConnection(server: "https://k8s:6443", bearerToken: "t", insecureSkipTLSVerify: true).credentialExposure,
            "insecure-skip-tls-verify is set: the token goes to whoever answers at https://k8s:6443")
    }

    /// A kubeconfig that is not YAML is reported by position, never by quoting its text: the
    /// broken line may hold the token (issue #11 item 13).
    func testBrokenKubeconfigDoesNotQuoteItsToken() throws {
        let path = try write("broken", """
            apiVersion: v1
            users:
            - name: u
              user:
                token: s3cr3t-t0ken: [unclosed
            """)
        XCTAssertThrowsError(try KubernetesConnection.kubeconfig(path: path)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("not YAML"), text)
            XCTAssertTrue(text.contains("line"), text)
            XCTAssertFalse(text.contains("s3cr3t"), text)
        }
    }

    func testKubeconfigWithTokenAndInlineCA() throws {
        let path = try write("config", """
            apiVersion: v1
            kind: Config
            current-context: dev
            clusters:
            - name: other
              cluster: {server: "https://other:6443"}
            - name: kind
              cluster:
                server: https://127.0.0.1:6443/
                certificate-authority-data: \(Data("CA-PEM".utf8).base64EncodedString())
            contexts:
            - name: dev
              context: {cluster: kind, user: admin, namespace: shop}
            users:
            - name: admin
              user: {token: abc.def}
            """)
        let connection = try KubernetesConnection.kubeconfig(path: path)
        XCTAssertEqual(connection.server, "https://127.0.0.1:6443")
        XCTAssertEqual(connection.certificateAuthorityPEM, Array("CA-PEM".utf8))
        XCTAssertEqual(try connection.authorization(), "Bearer abc.def")
        XCTAssertFalse(connection.insecureSkipTLSVerify)
    }

    func testKubeconfigWithClientCertificateFilesRelativeToIt() throws {
        _ = try write("client.crt", "CERT")
        _ = try write("client.key", "KEY")
        _ = try write("ca.pem", "CA")
        let path = try write("config", """
            current-context: a
            clusters: [{name: c, cluster: {server: "https://10.0.0.1", certificate-authority: ca.pem}}]
            contexts: [{name: a, context: {cluster: c, user: u}}, {name: b, context: {cluster: c, user: v}}]
            users:
            - {name: u, user: {client-certificate: client.crt, client-key: client.key}}
            - {name: v, user: {tokenFile: token}}
            """)
        let connection = try KubernetesConnection.kubeconfig(path: path)
        XCTAssertEqual(connection.clientCertificatePEM, Array("CERT".utf8))
        XCTAssertEqual(connection.clientKeyPEM, Array("KEY".utf8))
        XCTAssertEqual(connection.certificateAuthorityPEM, Array("CA".utf8))
        XCTAssertNil(try connection.authorization())

        let other = try KubernetesConnection.kubeconfig(path: path, context: "b")
        XCTAssertEqual(other.tokenFile, directory + "/token")
    }

    func testKubeconfigProblemsAreNamed() throws {
        let exec = try write("exec", """
            current-context: a
            clusters: [{name: c, cluster: {server: "https://x"}}]
            contexts: [{name: a, context: {cluster: c, user: u}}]
            users: [{name: u, user: {exec: {command: aws}}}]
            """)
        XCTAssertThrowsError(try KubernetesConnection.kubeconfig(path: exec)) { error in
            XCTAssertTrue("\(error)".contains("exec"), "\(error)")
        }
        XCTAssertThrowsError(try KubernetesConnection.kubeconfig(path: exec, context: "missing")) { error in
            XCTAssertTrue("\(error)".contains("no context named missing"), "\(error)")
        }
        XCTAssertThrowsError(try KubernetesConnection.kubeconfig(path: directory + "/absent")) { error in
            XCTAssertTrue("\(error)".contains("cannot read the kubeconfig"), "\(error)")
        }
    }
}

/// Which collections are watched: Pods only when an answer depends on them.
final class KubernetesResourceTests: XCTestCase {
    func testPodsAreWatchedOnlyForVerifiedPodsOrAutopath() {
        XCTAssertEqual(KubernetesResource.needed(podsVerified: false, autopath: false), [.namespaces, .services, .endpointSlices])
        XCTAssertTrue(KubernetesResource.needed(podsVerified: true, autopath: false).contains(.pods))
        XCTAssertTrue(KubernetesResource.needed(podsVerified: false, autopath: true).contains(.pods))
    }
}
