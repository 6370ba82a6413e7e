import Foundation
import XCTest

/// `serve --node-local` (issue #13) in network namespaces: a "node" namespace runs the server,
/// a "pod" namespace reaches 169.254.20.10 over a veth pair. Answers arrive over UDP and TCP,
/// the node's conntrack table holds no entry for those flows while it does track other traffic,
/// and the interface and the NOTRACK rules are gone after SIGTERM, and after SIGKILL once the
/// next start has cleaned up.
final class NodeLocalTests: XCTestCase {
    private static let address = "169.254.20.10"
    private let servers = ServerGroup()
    private var node: NetworkNamespace?
    private var pod: NetworkNamespace?

    override func setUpWithError() throws {
        let suffix = "\(getpid() % 100_000)"
        node = try NetworkNamespace.create(name: "cdns-nl-node-\(suffix)", resolvConf: "nameserver 127.0.0.1\n")
        pod = try NetworkNamespace.create(name: "cdns-nl-pod-\(suffix)", resolvConf: "nameserver \(Self.address)\n")
        let (node, pod) = (try XCTUnwrap(node), try XCTUnwrap(pod))
        let nodeEnd = "cnl-n\(suffix)", podEnd = "cnl-p\(suffix)"
        for command in [
            ["ip", "link", "add", nodeEnd, "type", "veth", "peer", "name", podEnd],
            ["ip", "link", "set", nodeEnd, "netns", node.name], ["ip", "link", "set", podEnd, "netns", pod.name],
            node.exec + ["ip", "address", "add", "10.250.0.1/30", "dev", nodeEnd], node.exec + ["ip", "link", "set", nodeEnd, "up"],
            pod.exec + ["ip", "address", "add", "10.250.0.2/30", "dev", podEnd], pod.exec + ["ip", "link", "set", podEnd, "up"],
            pod.exec + ["ip", "route", "add", "\(Self.address)/32", "via", "10.250.0.1"],
        ] {
            try run(command)
        }
        // Conntrack runs in a namespace only once a rule needs it: make the node track new flows,
        // as a node with kube-proxy's rules does.
        for command in [
            ["nft", "add", "table", "inet", "tracking"],
            ["nft", "add", "chain", "inet", "tracking", "in", "{ type filter hook prerouting priority 0; }"],
            ["nft", "add", "rule", "inet", "tracking", "in", "ct", "state", "new", "counter"],
        ] {
            let result = try Subprocess.run(node.exec[0], Array(node.exec.dropFirst()) + command)
            guard result.status == 0 else { throw XCTSkip("the kernel refuses nftables in a network namespace: \(result.stderr)") }
        }
    }

    override func tearDown() {
        servers.stopAll()
        node?.remove()
        pod?.remove()
    }

    private func run(_ command: [String]) throws {
        let result = try Subprocess.run(command[0], Array(command.dropFirst()))
        guard result.status == 0 else { throw CommandFailure(description: "\(command.joined(separator: " ")): \(result.stderr)") }
    }

    private func start(_ extra: [String] = []) throws -> ServerProcess {
        let node = try XCTUnwrap(node)
        return try servers.start(listen: "127.0.0.1:53", arguments: ["--node-local", Self.address] + extra, prefix: node.exec)
    }

    private func dig(_ server: String, tcp: Bool = false) throws -> String {
        let pod = try XCTUnwrap(pod)
        let arguments = ["dig", "+short", "+tries=1", "+time=2"] + (tcp ? ["+tcp"] : []) + ["@\(server)", "nginx-service.myserver.svc.cluster.local"]
        return try Subprocess.run(pod.exec[0], Array(pod.exec.dropFirst()) + arguments).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private func nodeCommand(_ arguments: [String]) throws -> CommandResult {
        let node = try XCTUnwrap(node)
        return try Subprocess.run(node.exec[0], Array(node.exec.dropFirst()) + arguments)
    }

    /// Whether the interface or our nftables table exists in the node namespace.
    private func setUpExists() throws -> (interface: Bool, rules: Bool) {
        (try nodeCommand(["ip", "link", "show", "nodelocaldns"]).status == 0,
         try nodeCommand(["nft", "list", "table", "inet", "clusterdns_nodelocal"]).status == 0)
    }

    func testAnswersWithoutConntrackAndCleansUp() throws {
        let server = try start()
        XCTAssertEqual(server.host, Self.address, server.stdout)
        XCTAssertEqual(try dig(Self.address), "10.100.57.113", "UDP from the pod")
        XCTAssertEqual(try dig(Self.address, tcp: true), "10.100.57.113", "TCP from the pod")
        // The control: a query to the node's own veth address (nothing listens) is tracked.
        _ = try dig("10.250.0.1")
        let table = try nodeCommand(["conntrack", "-L"]).stdout + (try nodeCommand(["conntrack", "-L"]).stderr)
        XCTAssertTrue(table.contains("dst=10.250.0.1"), "conntrack must be on in the node namespace:\n\(table)")
        XCTAssertFalse(table.contains("dst=\(Self.address)"), "node-local flows must not be tracked:\n\(table)")
        XCTAssertTrue(try setUpExists() == (true, true))

        server.stop()  // SIGTERM
        XCTAssertTrue(try setUpExists() == (false, false), "SIGTERM removes the interface and the rules")
    }

    /// The iptables rules, for nodes without nftables: the same NOTRACK effect, and the rules
    /// found by their comment and removed, on exit and after SIGKILL.
    func testIptablesRules() throws {
        let probe = try nodeCommand(["iptables", "-w", "-t", "raw", "-S"])
        guard probe.status == 0 else { throw XCTSkip("iptables does not work in a network namespace here: \(probe.stderr)") }
        func ourRules() throws -> [String] {
            try nodeCommand(["iptables", "-w", "-t", "raw", "-S"]).stdout.split(separator: "\n").map(String.init)
                .filter { $0.contains("clusterdns-nodelocal") }
        }
        let killed = try start(["--node-local-firewall", "iptables"])
        XCTAssertEqual(try ourRules().count, 6, "PREROUTING daddr, OUTPUT saddr and daddr, for UDP and TCP")
        XCTAssertEqual(try dig(Self.address), "10.100.57.113")
        let table = try nodeCommand(["conntrack", "-L"]).stdout
        XCTAssertFalse(table.contains("dst=\(Self.address)"), table)
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        XCTAssertEqual(try ourRules().count, 6, "SIGKILL leaves them")

        let next = try start(["--node-local-firewall", "iptables"])
        XCTAssertEqual(try ourRules().count, 6, "the leftovers removed, the new ones added")
        next.stop()
        XCTAssertEqual(try ourRules(), [])
        XCTAssertEqual(try nodeCommand(["ip", "link", "show", "nodelocaldns"]).status == 0, false)
    }

    func testAKilledRunsLeftoversAreRemovedByTheNextStart() throws {
        let killed = try start()
        kill(killed.process.processIdentifier, SIGKILL)
        killed.process.waitUntilExit()
        XCTAssertTrue(try setUpExists() == (true, true), "SIGKILL leaves them behind")

        let next = try start()
        XCTAssertTrue(next.stdout.contains("removed nodelocaldns left by an earlier run"), next.stdout)
        XCTAssertTrue(next.stdout.contains("removed nftables table clusterdns_nodelocal left by an earlier run"), next.stdout)
        XCTAssertEqual(try dig(Self.address), "10.100.57.113")
        next.stop()
        XCTAssertTrue(try setUpExists() == (false, false))
    }
}
