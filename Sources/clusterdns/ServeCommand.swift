import ArgumentParser
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
        let descriptors = FileDescriptorLimit.raiseToHardLimit()
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
        // Descriptors kept back from TCP clients: UDP and upstream sockets, files, the admin
        // port (issue #11 item 3).
        let connectionLimits = ConnectionLimiter.Limits(total: tcpMaxConnections, perClient: tcpMaxConnectionsPerClient)
            .within(descriptors: descriptors, reserve: 256)
        var endpoint = try HostPort.flag(listen, defaultPort: 53)
        let nodeLocalAddresses = try nodeLocal.map(Self.nodeLocalAddresses) ?? []
        if let first = nodeLocalAddresses.first { endpoint.host = "\(first)" }
        let transferNetworks = try transferTo.map { try ResolverOptions.networks($0, flag: "--transfer-to") }
        var resolverSettings = try resolver.settings(listen: endpoint, warn: { logger.warning("warning: \($0)") })
        resolverSettings.cache?.shufflesAddresses = shuffle
        if let nodeLocalUpstream {
            let parsed = try HostPort.flag(nodeLocalUpstream, defaultPort: 53)
            let upstream = try SocketAddress(ipAddress: parsed.host, port: parsed.port)
            // The cluster zone (used only before the first API list) and the reverse zones' names
            // we do not hold go to the cluster DNS Service, over TCP as NodeLocal DNSCache does.
            let domains = [try registry.configuration().domain] + ["in-addr.arpa", "ip6.arpa"].compactMap { try? DomainName($0) }
            resolverSettings.stubs += domains.map { ResolverSettings.Stub(domain: $0, upstreams: [upstream], forceTCP: true) }
        }
        let nameserver = IPAddress(endpoint.host).map { [$0] }?.filter { !$0.isUnspecified } ?? []
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let (reloader, loaded, watcher) = try loadRegistry(nameserverAddresses: nameserver, group: group)
        let store = RegistryStore(loaded)
        let readiness = Readiness(
            notReadyReason: watcher == nil ? "waiting for the first registry load" : "waiting for the first Kubernetes API sync")
        // Ready once the served snapshot holds the cluster: at once for manifests, after the
        // first full list for the API.
        if loaded.clusterSynced { readiness.markReady() }
        let serverMetrics = try metrics.makeMetrics(listen: endpoint)
        reloader.onServed { times, now, wallNow in serverMetrics?.recordServed(times, now: now, wallNow: wallNow) }
        reloader.start(store: store) { snapshot in
            if snapshot.clusterSynced { readiness.markReady() }
        }
        watcher?.start()
        var responderOptions = ResponderOptions(recursionAvailable: resolverSettings.hasUpstreams, shuffle: shuffle)
        responderOptions.forwardsUnsyncedClusterNames = nodeLocalUpstream != nil
        var serverConfiguration = ServerConfiguration(
            listenHost: endpoint.host, listenPort: endpoint.port, resolver: resolverSettings,
            responder: responderOptions, autopath: resolver.autopath, logQueries: resolver.logQueries, metrics: serverMetrics)
        serverConfiguration.additionalListenHosts = nodeLocalAddresses.dropFirst().map { "\($0)" }
        serverConfiguration.tcpMessageTimeout = .milliseconds(Int64(tcpMessageTimeout * 1000))
        serverConfiguration.tcpConnectionLimits = connectionLimits
        serverConfiguration.transferTo = transferNetworks
        serverConfiguration.overloadShedding = udpMaxQueueDelay > 0
            ? OverloadShedder.Settings(maxQueueDelayNanoseconds: Int64(udpMaxQueueDelay * 1e9)) : nil
        if rrlResponsesPerSecond > 0 {
            serverConfiguration.responseRateLimit = ResponseRateLimiter.Settings(responsesPerSecond: rrlResponsesPerSecond, slip: rrlSlip)
        }
        // Node-local mode: the interface and rules exist before the sockets bind to them.
        let firewall = try nodeLocalFirewall.map { name in
            guard let firewall = NodeLocalNetwork.Firewall(rawValue: name) else {
                throw ValidationError("--node-local-firewall: expected nftables or iptables, got \(name)")
            }
            return firewall
        }
        let nodeLocalNetwork = try nodeLocalAddresses.isEmpty
            ? nil
            : NodeLocalNetwork.install(addresses: nodeLocalAddresses, port: endpoint.port, firewall: firewall) { logger.info("\($0)") }
        let server: DNSServer
        do {
            server = try await DNSServer.start(
                configuration: serverConfiguration,
                store: store, group: group, report: { logger.warning("warning: \($0)") })
        } catch {
            nodeLocalNetwork?.remove { logger.info("\($0)") }
            throw error
        }
        let probes = try await health.start(readiness: readiness, group: group)
        let cache = server.resolver.cache
        _ = try await metrics.start(metrics: serverMetrics, group: group) { [reloader] in
            serverMetrics?.update(cache: cache)
            serverMetrics?.update(registry: store.snapshot.statistics)
            serverMetrics?.update(reloads: reloader.counts)
        }
        announce(server, endpoint: endpoint, snapshot: loaded, watcher: watcher, logger: logger)
        server.probeForLoops()
        await probes.serveUntilShutdown(server)
        nodeLocalNetwork?.remove { logger.info("\($0)") }
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

    /// The structured start-up line (tests and scripts wait for its `clusterdns listening on`)
    /// and the registry's warnings.
    private func announce(
        _ server: DNSServer, endpoint: HostPort, snapshot: RegistrySnapshot, watcher: KubernetesWatcher?, logger: Logger
    ) {
        let bound = server.localAddress.map(HostPort.init(address:)) ?? endpoint
        let statistics = snapshot.statistics
        let source = watcher.map { watcher in
            let paths = watcher.store.resources.map(\KubernetesResource.path).sorted().joined(separator: ", ")
            return "watching the Kubernetes API at \(watcher.server) (\(paths))"
        } ?? "loaded \(statistics.summary)"
        var facts: Logger.Metadata = [
            "listen": "\(bound)", "domain": "\(snapshot.configuration.domain)", "version": "\(ServerMetrics.version)",
            "source": "\(watcher == nil ? "manifests" : "kubernetes")", "udp_threads": "\(server.udpThreadCount)",
        ]
        if watcher == nil {
            facts.merge([
                "objects": "\(statistics.objectsByKind.values.reduce(0, +))", "records": "\(statistics.records)",
                "names": "\(statistics.names)", "namespaces": "\(statistics.namespaces)",
                "build_ms": "\(Int((statistics.buildSeconds * 1000).rounded()))",
            ]) { _, new in new }
        }
        logger.info("clusterdns listening on \(bound) (udp+tcp), domain \(snapshot.configuration.domain); \(source)", metadata: facts)
        for warning in statistics.warnings { logger.warning("warning: \(warning)") }
    }

    /// The registry's first snapshot and what keeps it current: the manifests reloader, or the
    /// API watcher and its reloader.
    private func loadRegistry(
        nameserverAddresses: [IPAddress], group: any EventLoopGroup
    ) throws -> (RegistryReloader, RegistrySnapshot, KubernetesWatcher?) {
        if kubernetes.enabled {
            let (reloader, loaded, watcher) = try kubernetes.load(
                registry, reload: reload, autopath: resolver.autopath, nameserverAddresses: nameserverAddresses,
                group: group)
            return (reloader, loaded, watcher)
        }
        let (reloader, loaded) = try reload.load(registry, nameserverAddresses: nameserverAddresses)
        return (reloader, loaded, nil)
    }
}

extension IPAddress {
    var isUnspecified: Bool { self == .v4(0) || self == .v6(0, 0) }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
