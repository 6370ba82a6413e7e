import Foundation
import XCTest

/// `ip netns add NAME` with `lo` up and `/etc/netns/NAME/resolv.conf` (which `ip netns exec`
/// bind-mounts over /etc/resolv.conf). `remove()` deletes both.
struct NetworkNamespace {
    let name: String
    var exec: [String] { ["ip", "netns", "exec", name] }
    private var configDirectory: String { "/etc/netns/\(name)" }

    /// Throws `XCTSkip` when namespaces cannot be created here (not root, no CAP_SYS_ADMIN, …).
    static func create(name: String, resolvConf: String) throws -> NetworkNamespace {
        let added = try Subprocess.run("ip", ["netns", "add", name])
        guard added.status == 0 else {
            throw XCTSkip("`ip netns add \(name)` failed (exit \(added.status): \(added.stderr.trimmingCharacters(in: .whitespacesAndNewlines))); "
                + "the pod-resolver tests need root with CAP_SYS_ADMIN")
        }
        let namespace = NetworkNamespace(name: name)
        do {
            let loopback = try Subprocess.run("ip", ["netns", "exec", name, "ip", "link", "set", "lo", "up"])
            guard loopback.status == 0 else {
                throw CommandFailure(description: "ip link set lo up in \(name): \(loopback.stderr)")
            }
            try FileManager.default.createDirectory(atPath: namespace.configDirectory, withIntermediateDirectories: true)
            try resolvConf.write(toFile: "\(namespace.configDirectory)/resolv.conf", atomically: true, encoding: .utf8)
        } catch {
            namespace.remove()
            throw error
        }
        return namespace
    }

    /// A kubelet-style resolv.conf for a pod in namespace `myserver` (ndots:5, cluster search path).
    static func createPod(name: String) throws -> NetworkNamespace {
        try create(name: name, resolvConf: """
            nameserver 127.0.0.1
            search myserver.svc.cluster.local svc.cluster.local cluster.local
            options ndots:5

            """)
    }

    /// `getent DATABASE KEY` through the namespace's glibc stub resolver.
    func getent(_ database: String, _ key: String) throws -> CommandResult {
        try Subprocess.run(exec[0], Array(exec.dropFirst()) + ["getent", database, key], timeout: 20)
    }

    func remove() {
        _ = try? Subprocess.run("ip", ["netns", "delete", name])
        try? FileManager.default.removeItem(atPath: configDirectory)
    }
}
