import ClusterRegistry
import DNSResponder
import DNSServer
import DNSWire
import KubernetesSource
import Logging
import NIOCore
import NIOPosix
import NodeLocal
import RegistryReload

/// The composition root of `serve` (issue #10), in the style of Hummingbird's
/// `buildApplication`: from `ServeSettings` it builds the registry source and its reloader, the
/// DNS listeners, the probes and the metrics listener, and wires them together. The command
/// line and the tests start the server through it alike.
public final class ServeApplication: Sendable {
    public let dns: DNSServer
    public let store: RegistryStore
    public let readiness: Readiness
    public let probes: HealthServer?
    public let metricsServer: MetricsServer?
    /// Where the DNS listener is bound (port 0 resolved).
    public let listening: HostPort
    private let reloader: RegistryReloader
    private let watcher: KubernetesWatcher?
    private let nodeLocalNetwork: NodeLocalNetwork?
    private let signals: AsyncStream<ShutdownSignal>?
    private let lameduck: Lameduck
    private let logger: Logger
    private let group: MultiThreadedEventLoopGroup

    /// Why the server could not start, for the command line to report (exit code 2).
    public struct RegistryLoadFailure: Error, CustomStringConvertible {
        public var description: String
    }

    private init(
        dns: DNSServer, store: RegistryStore, readiness: Readiness, probes: HealthServer?, metricsServer: MetricsServer?,
        listening: HostPort, reloader: RegistryReloader, watcher: KubernetesWatcher?, nodeLocalNetwork: NodeLocalNetwork?,
        signals: AsyncStream<ShutdownSignal>?, lameduck: Lameduck, logger: Logger, group: MultiThreadedEventLoopGroup
    ) {
        self.group = group
        self.dns = dns
        self.store = store
        self.readiness = readiness
        self.probes = probes
        self.metricsServer = metricsServer
        self.listening = listening
        self.reloader = reloader
        self.watcher = watcher
        self.nodeLocalNetwork = nodeLocalNetwork
        self.signals = signals
        self.lameduck = lameduck
        self.logger = logger
    }

    /// Loads the registry, binds every listener and logs `clusterdns listening on …` (what
    /// scripts and tests wait for). Throws `RegistryLoadFailure` when the first load fails.
    public static func start(_ settings: ServeSettings, logger: Logger = Logger(label: "clusterdns")) async throws -> ServeApplication {
        let descriptors = FileDescriptorLimit.raiseToHardLimit()
        // Descriptors kept back from TCP clients: UDP and upstream sockets, files, the admin
        // port (issue #11 item 3).
        let connectionLimits = settings.tcpConnectionLimits.within(descriptors: descriptors, reserve: 256)
        var registry = settings.registry
        registry.nameserverAddresses = IPAddress(settings.listen.host).map { [$0] }?.filter { !$0.isUnspecified } ?? []
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let (reloader, loaded, watcher) = try loadRegistry(settings, registry: registry, group: group, logger: logger)
        let store = RegistryStore(loaded)
        let readiness = Readiness(
            notReadyReason: watcher == nil ? "waiting for the first registry load" : "waiting for the first Kubernetes API sync")
        // Ready once the served snapshot holds the cluster: at once for manifests, after the
        // first full list for the API.
        if loaded.clusterSynced { readiness.markReady() }
        let metrics = settings.metricsListen == nil ? nil : ServerMetrics(server: settings.listen.description)
        reloader.onServed { times, now, wallNow in metrics?.recordServed(times, now: now, wallNow: wallNow) }
        reloader.start(store: store) { snapshot in
            if snapshot.clusterSynced { readiness.markReady() }
        }
        watcher?.start()

        var resolver = settings.resolver
        resolver.cache?.shufflesAddresses = settings.shuffle
        if let upstream = settings.nodeLocalUpstream {
            // The cluster zone (used only before the first API list) and the reverse zones'
            // names we do not hold go to the cluster DNS Service, over TCP as NodeLocal
            // DNSCache does.
            let address = try SocketAddress(ipAddress: upstream.host, port: upstream.port)
            let domains = [registry.domain] + ["in-addr.arpa", "ip6.arpa"].compactMap { try? DomainName($0) }
            resolver.stubs += domains.map { ResolverSettings.Stub(domain: $0, upstreams: [address], forceTCP: true) }
        }
        var responderOptions = ResponderOptions(recursionAvailable: resolver.hasUpstreams, shuffle: settings.shuffle)
        responderOptions.forwardsUnsyncedClusterNames = settings.nodeLocalUpstream != nil
        var configuration = ServerConfiguration(
            listenHost: settings.listen.host, listenPort: settings.listen.port, resolver: resolver,
            responder: responderOptions, autopath: settings.autopath, logQueries: settings.logQueries, metrics: metrics)
        configuration.additionalListenHosts = (settings.nodeLocal?.addresses ?? []).dropFirst().map { "\($0)" }
        configuration.tcpMessageTimeout = settings.tcpMessageTimeout
        configuration.tcpConnectionLimits = connectionLimits
        configuration.transferTo = settings.transferTo
        configuration.overloadShedding = settings.overloadShedding
        configuration.responseRateLimit = settings.responseRateLimit

        // Node-local mode: the interface and rules exist before the sockets bind to them.
        let nodeLocalNetwork = try settings.nodeLocal.map { nodeLocal in
            try NodeLocalNetwork.install(
                addresses: nodeLocal.addresses, port: settings.listen.port, firewall: nodeLocal.firewall) { logger.info("\($0)") }
        }
        let dns: DNSServer
        do {
            dns = try await DNSServer.start(
                configuration: configuration, store: store, group: group, report: { logger.warning("warning: \($0)") })
        } catch {
            nodeLocalNetwork?.remove { logger.info("\($0)") }
            throw error
        }
        // Signals are taken over before anything is announced, so whoever waits for the lines
        // below can already signal and probe.
        let signals = settings.handlesSignals ? ShutdownSignals.install() : nil
        var probes: HealthServer?
        if settings.health.health != nil || settings.health.ready != nil {
            let server = try await HealthServer.start(configuration: settings.health, readiness: readiness, group: group)
            let paths = [("/health", server.healthAddress), ("/ready", server.readyAddress)]
                .compactMap { path, address in address.map { "\(path) on \(HostPort(address: $0))" } }
            logger.info("clusterdns probes: \(paths.joined(separator: ", "))")
            probes = server
        }
        var metricsServer: MetricsServer?
        if let metrics, let endpoint = settings.metricsListen {
            let cache = dns.resolver.cache
            let server = try await MetricsServer.start(endpoint: endpoint, metrics: metrics, group: group) { [reloader] in
                metrics.update(cache: cache)
                metrics.update(registry: store.snapshot.statistics)
                metrics.update(reloads: reloader.counts)
            }
            logger.info("clusterdns metrics: /metrics on \(server.localAddress.map(HostPort.init(address:)) ?? endpoint)")
            metricsServer = server
        }
        let listening = dns.localAddress.map(HostPort.init(address:)) ?? settings.listen
        announce(dns, listening: listening, snapshot: loaded, watcher: watcher, logger: logger)
        dns.probeForLoops()
        return ServeApplication(
            dns: dns, store: store, readiness: readiness, probes: probes, metricsServer: metricsServer, listening: listening,
            reloader: reloader, watcher: watcher, nodeLocalNetwork: nodeLocalNetwork, signals: signals,
            lameduck: Lameduck(duration: settings.lameduck), logger: logger, group: group)
    }

    /// Serves until SIGTERM (after the lameduck period), SIGINT, or the DNS listeners closing;
    /// then removes node-local's interface and rules.
    public func serveUntilShutdown() async {
        await lameduck.serve(dns: dns, probes: probes, readiness: readiness, signals: signals ?? AsyncStream { $0.finish() }) { message in
            printError("clusterdns: \(message)")
        }
        nodeLocalNetwork?.remove { [logger] in logger.info("\($0)") }
    }

    /// Stops at once (tests): the listeners close, `serveUntilShutdown` returns, and the
    /// reloader, the API watcher and the event loops end.
    public func shutdown() async {
        await dns.close()
        await probes?.close()
        await metricsServer?.close()
        reloader.stop()
        await watcher?.stop()
        nodeLocalNetwork?.remove { [logger] in logger.info("\($0)") }
        try? await group.shutdownGracefully()
    }

    /// The registry's first snapshot and what keeps it current: the manifests reloader, or the
    /// API watcher and its reloader.
    private static func loadRegistry(
        _ settings: ServeSettings, registry: RegistryConfiguration, group: any EventLoopGroup, logger: Logger
    ) throws -> (RegistryReloader, RegistrySnapshot, KubernetesWatcher?) {
        switch settings.source {
        case .manifests(let directory):
            let reloader = RegistryReloader(
                loader: RegistryLoader.Incremental(manifests: directory, zones: settings.zones, configuration: registry),
                options: settings.reload)
            return (reloader, try loadInitial(reloader), nil)
        case .kubernetes(let connection, let serviceImports):
            if let exposure = connection.credentialExposure { logger.warning("warning: \(exposure)") }
            let resources = KubernetesResource.needed(
                podsVerified: registry.pods == .verified, autopath: settings.autopath, serviceImports: serviceImports)
            let watcher = try KubernetesWatcher(
                connection: connection, resources: resources, group: group, logger: Logger(label: "clusterdns.kubernetes"))
            var options = settings.reload
            options.watch = options.watch && settings.zones != nil
            // Watch events are applied incrementally, so a burst waits at most 10 ms (issue #9).
            options.quietPeriod = 0.001
            options.maxDelay = 0.01
            let reloader = RegistryReloader(
                loader: KubernetesRegistrySource(store: watcher.store, zones: settings.zones, configuration: registry),
                options: options)
            watcher.store.onChange { [weak reloader] in reloader?.noteChange() }
            return (reloader, try loadInitial(reloader), watcher)
        }
    }

    /// The reloader's first load, or every problem it found.
    private static func loadInitial(_ reloader: RegistryReloader) throws -> RegistrySnapshot {
        switch reloader.loadInitial() {
        case .success(let loaded): return loaded
        case .failure(let error): throw RegistryLoadFailure(description: "\(error)")
        }
    }

    /// The structured start-up line (tests and scripts wait for its `clusterdns listening on`)
    /// and the registry's warnings.
    private static func announce(
        _ server: DNSServer, listening: HostPort, snapshot: RegistrySnapshot, watcher: KubernetesWatcher?, logger: Logger
    ) {
        let statistics = snapshot.statistics
        let source = watcher.map { watcher in
            let paths = watcher.store.resources.map(\KubernetesResource.path).sorted().joined(separator: ", ")
            return "watching the Kubernetes API at \(watcher.server) (\(paths))"
        } ?? "loaded \(statistics.summary)"
        var facts: Logger.Metadata = [
            "listen": "\(listening)", "domain": "\(snapshot.configuration.domain)", "version": "\(ServerMetrics.version)",
            "source": "\(watcher == nil ? "manifests" : "kubernetes")", "udp_threads": "\(server.udpThreadCount)",
        ]
        if watcher == nil {
            facts.merge([
                "objects": "\(statistics.objectsByKind.values.reduce(0, +))", "records": "\(statistics.records)",
                "names": "\(statistics.names)", "namespaces": "\(statistics.namespaces)",
                "build_ms": "\(Int((statistics.buildSeconds * 1000).rounded()))",
            ]) { _, new in new }
        }
        logger.info("clusterdns listening on \(listening) (udp+tcp), domain \(snapshot.configuration.domain); \(source)", metadata: facts)
        for warning in statistics.warnings { logger.warning("warning: \(warning)") }
    }
}

extension IPAddress {
    /// 0.0.0.0 or ::, which listen everywhere and name no server.
    public var isUnspecified: Bool { self == .v4(0) || self == .v6(0, 0) }
}

/// Writes a line to standard error (unbuffered, so it interleaves correctly with stdout).
public func printError(_ message: String) {
    let line = message + "\n"
    _ = line.utf8CString.withUnsafeBufferPointer { write(2, $0.baseAddress, $0.count - 1) }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
