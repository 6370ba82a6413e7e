import ArgumentParser
import ClusterDNSApp
import NodeLocal
import ClusterRegistry
import DNSResponder
import DNSServer
import RegistryReload
import DNSWire
import KubernetesSource
import Logging
import NIOCore
import NIOPosix

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Answer DNS over UDP and TCP.")

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var kubernetes: KubernetesOptions

    @OptionGroup var reload: ReloadOptions

    @OptionGroup var health: HealthOptions

    @OptionGroup var metrics: MetricsOptions

    @Option(help: "Address to listen on, HOST:PORT ([v6]:PORT for IPv6). Port 0 picks a free port.")
    var listen = "0.0.0.0:53"

    @OptionGroup var resolver: ResolverOptions

    @Flag(inversion: .prefixedNo, help: "Rotate address answers per query, cluster and cached ones, so clients taking the first address spread over them.")
    var shuffle = true

    @Option(help: "Seconds a TCP query may take to arrive whole after its first byte; slower connections are closed.")
    var tcpMessageTimeout: Double = 5

    @Option(help: "TCP connections held at once; beyond it new ones are closed at once. Kept 256 below the open-file limit.")
    var tcpMaxConnections = ConnectionLimiter.Limits.dnsDefault.total

    @Option(help: "TCP connections held at once from one client address.")
    var tcpMaxConnectionsPerClient = ConnectionLimiter.Limits.dnsDefault.perClient

    @Option(help: "Response rate limiting over UDP: identical answers per second to one client (its /32 or /64) beyond which they are dropped, every --rrl-slip-th of them sent truncated. 0 (default) turns it off.")
    var rrlResponsesPerSecond = 0

    @Option(help: "With --rrl-responses-per-second: every Nth limited answer is sent truncated, so real clients retry over TCP (0: drop all).")
    var rrlSlip = 2

    @Option(help: "UDP overload shedding: a query that waited longer than this many seconds in the socket's queue is dropped unanswered, and while the server is behind, one client's queries beyond a quarter of a batch are dropped too; both counted in clusterdns_udp_shed_total. 0 turns it off.")
    var udpMaxQueueDelay: Double = 1

    @Option(help: "Node-local mode: listen on these addresses (e.g. 169.254.20.10,10.96.0.10) on --listen's port, carried by a `nodelocaldns` interface this process creates, with NOTRACK rules (nftables, else iptables) for DNS to and from them; both are removed on exit, and leftovers of a killed run at start. Needs CAP_NET_ADMIN.")
    var nodeLocal: String?

    @Option(help: "With --node-local: nftables or iptables for the NOTRACK rules; by default nftables where `nft` works, else iptables.")
    var nodeLocalFirewall: String?

    @Option(help: "The cluster DNS Service, HOST:PORT (normally with --node-local): asked over TCP for cluster names until the Kubernetes API is listed, and for reverse names we do not hold.")
    var nodeLocalUpstream: String?

    @Option(help: "Networks that may transfer our zones (AXFR, and IXFR answered in full) over TCP, as comma-separated CIDRs. Default: none, so transfers are REFUSED.")
    var transferTo: String?

    @OptionGroup var log: LogOptions

    func run() async throws {
        // First, before the threads that build and decode have taken arenas of their own.
        MallocArenas.limit(to: MallocArenas.serveLimit)
        log.bootstrap()
        let logger = Logger(label: "clusterdns")
        do {
            let application = try await ServeApplication.start(try settings(warn: { logger.warning("warning: \($0)") }), logger: logger)
            await application.serveUntilShutdown()
        } catch let failure as ServeApplication.RegistryLoadFailure {
            printError("clusterdns: cannot load registry:\n\(failure)")
            throw ExitCode(2)
        }
    }

    /// The flags as `ServeSettings`, or the usage error of the first that is wrong.
    func settings(warn: (String) -> Void) throws -> ServeSettings {
        guard tcpMessageTimeout > 0, tcpMessageTimeout <= 3600 else {
            throw ValidationError("--tcp-message-timeout must be more than 0 and at most 3600 seconds")
        }
        guard rrlResponsesPerSecond >= 0, rrlSlip >= 0 else {
            throw ValidationError("--rrl-responses-per-second and --rrl-slip must not be negative")
        }
        guard udpMaxQueueDelay >= 0, udpMaxQueueDelay <= 3600 else {
            throw ValidationError("--udp-max-queue-delay must be between 0 and 3600 seconds")
        }
        guard tcpMaxConnections > 0, tcpMaxConnectionsPerClient > 0 else {
            throw ValidationError("--tcp-max-connections and --tcp-max-connections-per-client must be at least 1")
        }
        var endpoint = try HostPort.flag(listen, defaultPort: 53)
        let nodeLocalAddresses = try nodeLocal.map(Self.nodeLocalAddresses) ?? []
        if let first = nodeLocalAddresses.first { endpoint.host = "\(first)" }
        let configuration = try registry.configuration()
        let source: ServeSettings.Source
        if kubernetes.enabled {
            if registry.manifests != nil { throw ValidationError("--manifests and --kubernetes exclude each other") }
            source = .kubernetes(
                connection: try kubernetes.connection(), serviceImports: try kubernetes.serviceImports(multicluster: configuration.multicluster != nil))
        } else {
            guard let manifests = registry.manifests else {
                throw ValidationError("serve needs --manifests DIR or --kubernetes (or --kubeconfig FILE)")
            }
            source = .manifests(directory: manifests)
        }
        var settings = ServeSettings(
            source: source, registry: configuration, listen: endpoint, resolver: try resolver.settings(listen: endpoint, warn: warn),
            reload: reload.options, health: try health.configuration())
        settings.zones = registry.zones
        settings.autopath = resolver.autopath
        settings.logQueries = resolver.logQueries
        settings.shuffle = shuffle
        settings.tcpMessageTimeout = .milliseconds(Int64(tcpMessageTimeout * 1000))
        settings.tcpConnectionLimits = ConnectionLimiter.Limits(total: tcpMaxConnections, perClient: tcpMaxConnectionsPerClient)
        settings.overloadShedding = udpMaxQueueDelay > 0
            ? OverloadShedder.Settings(maxQueueDelayNanoseconds: Int64(udpMaxQueueDelay * 1e9)) : nil
        if rrlResponsesPerSecond > 0 {
            settings.responseRateLimit = ResponseRateLimiter.Settings(responsesPerSecond: rrlResponsesPerSecond, slip: rrlSlip)
        }
        settings.transferTo = try transferTo.map { try ResolverOptions.networks($0, flag: "--transfer-to") }
        if !nodeLocalAddresses.isEmpty {
            let firewall = try nodeLocalFirewall.map { name in
                guard let firewall = NodeLocalNetwork.Firewall(rawValue: name) else {
                    throw ValidationError("--node-local-firewall: expected nftables or iptables, got \(name)")
                }
                return firewall
            }
            settings.nodeLocal = ServeSettings.NodeLocalSettings(addresses: nodeLocalAddresses, firewall: firewall)
        }
        settings.nodeLocalUpstream = try nodeLocalUpstream.map { try HostPort.flag($0, defaultPort: 53) }
        settings.lameduck = .milliseconds(Int64((health.lameduck * 1000).rounded()))
        settings.metricsListen = try metrics.endpoint()
        return settings
    }

    /// `--node-local`'s comma-separated addresses.
    private static func nodeLocalAddresses(_ list: String) throws -> [IPAddress] {
        try list.split(separator: ",").map { text in
            guard let address = IPAddress(String(text).trimmingSpaces), !address.isUnspecified else {
                throw ValidationError("--node-local: \(text) is not an address")
            }
            return address
        }
    }
}
