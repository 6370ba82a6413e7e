import ArgumentParser
import ClusterRegistry
import DNSResponder
import DNSServer
import DNSWire
import NIOCore
import NIOPosix

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Answer DNS over UDP and TCP.")

    @OptionGroup var registry: RegistryOptions

    @OptionGroup var reload: ReloadOptions

    @OptionGroup var health: HealthOptions

    @OptionGroup var metrics: MetricsOptions

    @Option(help: "Address to listen on, HOST:PORT ([v6]:PORT for IPv6). Port 0 picks a free port.")
    var listen = "0.0.0.0:53"

    @OptionGroup var resolver: ResolverOptions

    func run() async throws {
        let endpoint = try HostPort(listen, defaultPort: 53)
        let resolverSettings = try resolver.settings(listen: endpoint, warn: { printError("warning: \($0)") })
        let nameserver = IPAddress(endpoint.host).map { [$0] }?.filter { !$0.isUnspecified } ?? []
        let (reloader, loaded) = try reload.load(registry, nameserverAddresses: nameserver)
        let store = RegistryStore(loaded.snapshot)
        reloader.start(store: store)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        let serverMetrics = try metrics.makeMetrics(listen: endpoint)
        let server = try await DNSServer.start(
            configuration: ServerConfiguration(
                listenHost: endpoint.host, listenPort: endpoint.port, resolver: resolverSettings,
                autopath: resolver.autopath, logQueries: resolver.logQueries, metrics: serverMetrics),
            store: store, group: group, report: { printError("warning: \($0)") })
        let readiness = Readiness()
        readiness.markReady()  // the registry is loaded; a Kubernetes API source marks it after its first sync
        let probes = try await health.start(readiness: readiness, group: group)
        let cache = server.resolver.cache
        _ = try await metrics.start(metrics: serverMetrics, group: group) { [reloader] in
            serverMetrics?.update(cache: cache)
            serverMetrics?.update(registry: store.snapshot.statistics)
            serverMetrics?.update(reloads: reloader.counts)
        }
        let bound = server.localAddress.map(HostPort.init(address:)) ?? endpoint
        let statistics = loaded.snapshot.statistics
        print("clusterdns listening on \(bound) (udp+tcp), domain \(loaded.snapshot.configuration.domain); "
              + "loaded \(statistics.summary)")
        for warning in statistics.warnings { printError("warning: \(warning)") }
        flushStandardOutput()
        server.probeForLoops()
        await probes.serveUntilShutdown(server)
    }
}

/// `HOST:PORT`, `[v6]:PORT` or a bare host.
struct HostPort: CustomStringConvertible {
    var host: String
    var port: Int

    init(_ text: String, defaultPort: Int) throws {
        var hostPart = Substring(text), portPart: Substring? = nil
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portPart = rest.dropFirst() }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard IPAddress(String(hostPart)) != nil || hostPart == "localhost" else {
            throw ValidationError("\(text): expected an IP address with an optional :PORT")
        }
        guard let port = portPart.map({ Int($0) }) ?? defaultPort, (0...65535).contains(port) else {
            throw ValidationError("\(text): bad port")
        }
        host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        self.port = port
    }

    init(address: SocketAddress) {
        host = address.ipAddress ?? "?"
        port = address.port ?? 0
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

extension IPAddress {
    var isUnspecified: Bool { self == .v4(0) || self == .v6(0, 0) }
}

func flushStandardOutput() {
    fflush(nil)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
