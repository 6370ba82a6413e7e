import ArgumentParser
import DNSServer
import DNSWire
import NIOCore

extension UpstreamSet.Policy: ExpressibleByArgument {}

/// Flags of the recursive side (issue #3): upstreams, stub domains, cache, access control.
struct ResolverOptions: ParsableArguments {
    @Option(help: "Upstream resolver for names outside our zones, HOST:PORT (repeatable). Default: the nameservers of --resolv-conf.")
    var upstream: [String] = []

    @Option(help: "resolv.conf whose nameserver lines are the default upstreams.")
    var resolvConf = "/etc/resolv.conf"

    @Option(help: "Upstream choice: random or sequential.")
    var policy: UpstreamSet.Policy = .random

    @Option(help: "Seconds to wait for one upstream before trying the next.")
    var upstreamTimeout: Double = 2

    @Flag(help: "Always forward over TCP.")
    var forceTCP = false

    @Option(help: "Forwarded queries in flight at most; beyond it SERVFAIL at once.")
    var maxConcurrent = 1000

    @Option(help: "DOMAIN=HOST:PORT[,HOST:PORT]: send DOMAIN to its own servers (repeatable).")
    var stub: [String] = []

    @Option(help: "Cached forwarded answers at most (0 disables the cache).")
    var cacheSize = 10_000

    @Option(help: "Bytes of cached answers at most, in MiB; answers over 16 KiB are not cached.")
    var cacheMaxMiB = 32

    @Option(help: "Longest time a forwarded answer is cached, in seconds.")
    var cacheMaxTTL: UInt32 = 3600

    @Option(help: "Longest time a negative forwarded answer is cached, in seconds.")
    var cacheNegativeTTL: UInt32 = 30

    @Option(help: "Seconds past expiry a cached answer may be served when all upstreams fail (0 disables).")
    var serveStale: UInt32 = 3600

    @Option(help: "Networks (CIDR, comma-separated) allowed to use us recursively. Default: loopback and private ranges.")
    var allowRecursion: String?

    @Flag(help: "Complete the search path server-side for queries from known pod IPs (CNAME to the first name that exists).")
    var autopath = false

    @Flag(help: "Answer AAAA questions for names outside our zones with an empty NOERROR (NODATA) at once, never forwarded: for IPv4-only clusters. Cluster names keep their AAAA records.")
    var filterAAAA = false

    @Flag(help: "DNS64 (RFC 6147) for IPv6-only clusters behind a NAT64: forwarded names with A records but no AAAA get AAAA synthesized in --dns64-prefix, and PTR questions for that prefix are answered through the IPv4 reverse name.")
    var dns64 = false

    @Option(help: "With --dns64: the NAT64 prefix, a /96.")
    var dns64Prefix = "64:ff9b::/96"

    @Flag(help: "Log one line per query (CoreDNS log format) on stdout.")
    var logQueries = false

    /// The resolver settings; loops onto `listen` itself are dropped here with a warning.
    func settings(listen: HostPort, warn: (String) -> Void) throws -> ResolverSettings {
        var upstreams = try upstream.map { try Self.address($0) }
        if upstream.isEmpty {
            upstreams = try ResolvConf.nameservers(path: resolvConf).map { try SocketAddress(ipAddress: $0.description, port: 53) }
        }
        let ours = upstreams.filter { LoopDetector.isOwnAddress($0, listenHost: listen.host, listenPort: listen.port) }
        for address in ours {
            warn("loop: upstream \(address) is this server's own address; not forwarding to it")
        }
        upstreams.removeAll { LoopDetector.isOwnAddress($0, listenHost: listen.host, listenPort: listen.port) }
        let stubs = try stub.map(Self.stub)
        let cache = cacheSize > 0
            ? ResponseCache.Settings(
                capacity: cacheSize, maxTTL: cacheMaxTTL, maxNegativeTTL: cacheNegativeTTL, staleWindow: serveStale,
                maxBytes: max(0, cacheMaxMiB) << 20)
            : nil
        var settings = ResolverSettings(
            upstreams: upstreams, policy: policy, timeout: .milliseconds(Int64(upstreamTimeout * 1000)),
            forceTCP: forceTCP, maxConcurrent: maxConcurrent, stubs: stubs, cache: cache,
            accessControl: try accessControl())
        settings.filtersAAAA = filterAAAA
        if dns64 {
            guard !filterAAAA else { throw ValidationError("--dns64 and --filter-aaaa contradict each other: choose one") }
            guard let prefix = DNS64(prefix: dns64Prefix) else {
                throw ValidationError("--dns64-prefix \(dns64Prefix): expected an IPv6 /96 prefix such as 64:ff9b::/96")
            }
            settings.dns64 = prefix
        }
        return settings
    }

    private func accessControl() throws -> AccessControl {
        guard let allowRecursion else { return .privateNetworks }
        return try Self.networks(allowRecursion, flag: "--allow-recursion")
    }

    /// A flag's comma-separated CIDRs (`10.0.0.0/8,fd00::/8`, or bare addresses).
    static func networks(_ list: String, flag: String) throws -> AccessControl {
        let networks = try list.split(separator: ",").map { text in
            guard let network = AccessControl.Network(String(text).trimmingSpaces) else {
                throw ValidationError("\(flag): \(text) is not a CIDR")
            }
            return network
        }
        return AccessControl(networks: networks)
    }

    private static func address(_ text: String) throws -> SocketAddress {
        let parsed = try HostPort.flag(text, defaultPort: 53)
        return try SocketAddress(ipAddress: parsed.host, port: parsed.port)
    }

    private static func stub(_ text: String) throws -> ResolverSettings.Stub {
        let parts = text.split(separator: "=", maxSplits: 1)
        guard parts.count == 2, let domain = try? DomainName(String(parts[0])), !domain.isRoot else {
            throw ValidationError("--stub \(text): expected DOMAIN=HOST:PORT[,HOST:PORT]")
        }
        return ResolverSettings.Stub(domain: domain, upstreams: try parts[1].split(separator: ",").map { try address(String($0)) })
    }
}
