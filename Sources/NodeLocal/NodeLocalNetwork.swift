import DNSWire
import Foundation

/// What `serve --node-local ADDR,…` sets up on the node, the way NodeLocal DNSCache does
/// (KEP-1024): an interface carrying the addresses, so that the kernel delivers them to us,
/// and NOTRACK rules for DNS to and from them, so that these flows never enter conntrack (the
/// conntrack races on glibc's parallel A and AAAA queries are what make pods wait 5 s,
/// kubernetes#56903). Everything is named so that a later start finds and removes what a
/// killed one left behind.
public struct NodeLocalNetwork: Sendable {
    /// The interface name NodeLocal DNSCache uses too: one node-local cache per node.
    public static let interfaceName = "nodelocaldns"
    /// The nftables table holding the NOTRACK rules.
    public static let tableName = "clusterdns_nodelocal"
    /// The comment marking our rules where only iptables is available.
    public static let ruleComment = "clusterdns-nodelocal"

    public enum Firewall: String, Sendable, CaseIterable {
        case nftables, iptables
    }

    public let addresses: [IPAddress]
    public let port: Int
    public let firewall: Firewall
    /// `dummy`, or `veth` where the kernel has no dummy interfaces (a pair whose other end
    /// carries nothing).
    public let interfaceKind: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Removes what an earlier run left (after SIGKILL or a crash), then creates the interface
    /// with `addresses` and installs the NOTRACK rules, with `firewall` or, when nil, nftables
    /// where `nft` works and iptables otherwise. `log` receives one line per step.
    public static func install(
        addresses: [IPAddress], port: Int, firewall chosen: Firewall? = nil, log: (String) -> Void
    ) throws -> NodeLocalNetwork {
        guard !addresses.isEmpty else { throw Failure(description: "--node-local needs at least one address") }
        removeLeftovers(log: log)
        let kind: String
        if (try? run("ip", ["link", "add", interfaceName, "type", "dummy"])) != nil {
            kind = "dummy"
        } else {
            // Kernels without dummy interfaces (some VM kernels): a veth pair works the same.
            try run("ip", ["link", "add", interfaceName, "type", "veth", "peer", "name", interfaceName + "-p"])
            kind = "veth"
        }
        do {
            for address in addresses {
                try run("ip", ["address", "add", "\(address)/\(address.isIPv4 ? 32 : 128)", "dev", interfaceName])
            }
            try run("ip", ["link", "set", interfaceName, "up"])
            if kind == "veth" { try run("ip", ["link", "set", interfaceName + "-p", "up"]) }
            let firewall = try installRules(addresses: addresses, port: port, firewall: chosen)
            log("node-local: \(interfaceName) (\(kind)) carries \(addresses.map { "\($0)" }.joined(separator: ", ")); "
                + "DNS to and from them is not tracked (\(firewall.rawValue))")
            return NodeLocalNetwork(addresses: addresses, port: port, firewall: firewall, interfaceKind: kind)
        } catch {
            removeLeftovers(log: { _ in })
            throw error
        }
    }

    /// Removes the interface and the rules (on exit).
    public func remove(log: (String) -> Void) {
        Self.removeLeftovers(log: { _ in })
        log("node-local: removed \(Self.interfaceName) and the NOTRACK rules")
    }

    /// Deletes our interface, nftables table and iptables rules, whichever exist.
    public static func removeLeftovers(log: (String) -> Void) {
        if (try? run("ip", ["link", "show", interfaceName])) != nil {
            _ = try? run("ip", ["link", "delete", interfaceName])
            log("node-local: removed \(interfaceName) left by an earlier run")
        }
        if (try? run("nft", ["list", "table", "inet", tableName])) != nil {
            _ = try? run("nft", ["delete", "table", "inet", tableName])
            log("node-local: removed nftables table \(tableName) left by an earlier run")
        }
        for tool in ["iptables", "ip6tables"] {
            guard let rules = try? run(tool, ["-w", "-t", "raw", "-S"]) else { continue }
            for rule in rules.split(separator: "\n") where rule.contains(ruleComment) && rule.hasPrefix("-A ") {
                // `-S` prints each rule as the arguments that add it: delete with the same.
                let arguments = Self.splitRule(String(rule.dropFirst(3)))
                _ = try? run(tool, ["-w", "-t", "raw", "-D"] + arguments)
            }
        }
    }

    /// The NOTRACK rules, with nftables where `nft` works, else iptables: queries arriving for
    /// the addresses (prerouting), and our replies from them and host processes' queries to
    /// them (output), for UDP and TCP.
    private static func installRules(addresses: [IPAddress], port: Int, firewall: Firewall?) throws -> Firewall {
        if firewall == .nftables || (firewall == nil && (try? run("nft", ["list", "tables"])) != nil) {
            var ruleset = "table inet \(tableName) {\n"
            for (chain, hook, directions) in [("prerouting", "prerouting", ["daddr"]), ("output", "output", ["saddr", "daddr"])] {
                ruleset += "  chain \(chain) {\n    type filter hook \(hook) priority raw; policy accept;\n"
                for (family, members) in [("ip", addresses.filter(\.isIPv4)), ("ip6", addresses.filter { !$0.isIPv4 })] where !members.isEmpty {
                    let set = "{ " + members.map { "\($0)" }.joined(separator: ", ") + " }"
                    for direction in directions {
                        for proto in ["udp", "tcp"] {
                            let portMatch = direction == "daddr" ? "dport" : "sport"
                            ruleset += "    \(family) \(direction) \(set) \(proto) \(portMatch) \(port) notrack\n"
                        }
                    }
                }
                ruleset += "  }\n"
            }
            ruleset += "}\n"
            try run("nft", ["-f", "-"], input: ruleset)
            return .nftables
        }
        for address in addresses {
            let tool = address.isIPv4 ? "iptables" : "ip6tables"
            for (chain, directions) in [("PREROUTING", ["-d"]), ("OUTPUT", ["-s", "-d"])] {
                for direction in directions {
                    for proto in ["udp", "tcp"] {
                        try run(tool, [
                            "-w", "-t", "raw", "-A", chain, direction, "\(address)", "-p", proto, direction == "-d" ? "--dport" : "--sport",
                            "\(port)", "-m", "comment", "--comment", ruleComment, "-j", "NOTRACK",
                        ])
                    }
                }
            }
        }
        return .iptables
    }

    /// Splits an `iptables -S` line into arguments, keeping quoted comments whole.
    static func splitRule(_ line: String) -> [String] {
        var arguments: [String] = [], current = "", quoted = false
        for character in line {
            switch character {
            case "\"": quoted.toggle()
            case " " where !quoted:
                if !current.isEmpty { arguments.append(current) }
                current = ""
            default: current.append(character)
            }
        }
        if !current.isEmpty { arguments.append(current) }
        return arguments
    }

    /// Runs a system tool found in the usual sbin directories; its standard output, or a
    /// `Failure` with its standard error when it exits non-zero.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> String {
        let directories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]
        guard let path = directories.map({ "\($0)/\(tool)" }).first(where: FileManager.default.isExecutableFile) else {
            throw Failure(description: "\(tool) is not installed")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try? stdin.fileHandleForWriting.close()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) \(arguments.joined(separator: " ")): \(String(decoding: err, as: UTF8.self))")
        }
        return String(decoding: out, as: UTF8.self)
    }
}
