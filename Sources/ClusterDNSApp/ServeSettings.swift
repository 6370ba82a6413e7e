import ClusterRegistry
import DNSServer
import DNSWire
import KubernetesSource
import NIOCore
import NodeLocal
import RegistryReload

/// Everything `serve` is asked to do, as values: what the command line's flags parse into and
/// what `ServeApplication` builds the server from. Tests build one directly.
public struct ServeSettings: Sendable {
    /// Where the cluster's objects come from.
    public enum Source: Sendable {
        /// A directory of manifests, reloaded as its files change.
        case manifests(directory: String)
        /// The Kubernetes API, listed and watched through `connection`; `serviceImports` is the
        /// ServiceImport resource watched with `--multicluster`.
        case kubernetes(connection: KubernetesConnection, serviceImports: KubernetesResource?)
    }

    public var source: Source
    /// `--zones`: a directory of zone files served beside the cluster.
    public var zones: String?
    /// The registry's answers (domain, TTL, pods, …). Its nameserver addresses are filled in
    /// from `listen` when that is a specific address.
    public var registry: RegistryConfiguration
    public var reload: RegistryReloader.Options
    /// The DNS listener; with node-local addresses, the first of them on this port.
    public var listen: HostPort
    public var resolver: ResolverSettings
    public var autopath = false
    public var logQueries = false
    public var shuffle = true
    public var tcpMessageTimeout: TimeAmount = .seconds(5)
    public var tcpConnectionLimits = ConnectionLimiter.Limits.dnsDefault
    public var responseRateLimit: ResponseRateLimiter.Settings?
    public var overloadShedding: OverloadShedder.Settings? = OverloadShedder.Settings(maxQueueDelayNanoseconds: 1_000_000_000)
    /// Networks that may transfer our zones; nil: nobody.
    public var transferTo: AccessControl?
    /// Node-local mode: the addresses served on an interface of our own, with NOTRACK rules.
    public var nodeLocal: NodeLocalSettings?
    /// The cluster DNS Service (normally with `nodeLocal`): asked over TCP for cluster names
    /// until the API is listed, and for reverse names we do not hold.
    public var nodeLocalUpstream: HostPort?
    public var health: HealthConfiguration
    public var lameduck: Duration = .seconds(5)
    /// `GET /metrics`; nil turns metrics off.
    public var metricsListen: HostPort?
    /// Whether SIGTERM and SIGINT are taken over (the command); tests stop the server themselves.
    public var handlesSignals = true

    public struct NodeLocalSettings: Sendable {
        public var addresses: [IPAddress]
        public var firewall: NodeLocalNetwork.Firewall?

        public init(addresses: [IPAddress], firewall: NodeLocalNetwork.Firewall? = nil) {
            self.addresses = addresses
            self.firewall = firewall
        }
    }

    public init(
        source: Source, registry: RegistryConfiguration, listen: HostPort, resolver: ResolverSettings,
        reload: RegistryReloader.Options = RegistryReloader.Options(), health: HealthConfiguration = HealthConfiguration(health: nil, ready: nil)
    ) {
        self.source = source
        self.registry = registry
        self.listen = listen
        self.resolver = resolver
        self.reload = reload
        self.health = health
    }
}
