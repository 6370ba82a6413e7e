import ArgumentParser
import ClusterDNSApp
import DNSServer
import ClusterRegistry
import DNSWire

extension RegistryConfiguration.PodMode: ExpressibleByArgument {}

/// Flags that shape the registry, shared by `serve`, `check` and `records`.
struct RegistryOptions: ParsableArguments {
    @Option(help: "Directory of Kubernetes manifests (*.yaml, *.yml, *.json, recursively).")
    var manifests: String?

    @Option(help: "Directory of RFC 1035 zone files (*.zone) served authoritatively.")
    var zones: String?

    @Option(help: "Cluster domain.")
    var domain = "cluster.local"

    @Option(help: "TTL of cluster answers, in seconds.")
    var ttl: UInt32 = 5

    @Option(help: "Pod records: disabled, insecure or verified.")
    var pods: RegistryConfiguration.PodMode = .insecure

    @Option(help: "Expose only these namespaces (comma-separated).")
    var namespaces: String?

    @Flag(help: "Name endpoints without a hostname after their pod.")
    var endpointPodNames = false

    @Flag(help: "One PTR per address instead of one per name: an endpoint's hostname first, then the Service whose ClusterIP it is, then the smallest name.")
    var singlePTR = false

    @Option(help: "Serve the KEP-1645 multi-cluster Services DNS specification (schema 1.0.0) in this zone, e.g. clusterset.local, from ServiceImports and their EndpointSlices. Off by default.")
    var multicluster: String?

    @Option(help: "Domains below which Services' clusterdns.io/aliases annotations are served (comma-separated); none (the default) turns aliases off. A security boundary: a namespace owner can claim names below these only.")
    var aliasDomains: String?

    func configuration(nameserverAddresses: [IPAddress] = []) throws -> RegistryConfiguration {
        guard let domain = try? DomainName(domain), !domain.isRoot else {
            throw ValidationError("--domain \(self.domain) is not a domain name")
        }
        let exposed = namespaces.map { Set($0.split(separator: ",").map { String($0).trimmingSpaces }) }
        var configuration = RegistryConfiguration(
            domain: domain, ttl: ttl, pods: pods, namespaces: exposed, endpointPodNames: endpointPodNames,
            nameserverAddresses: nameserverAddresses, singlePointer: singlePTR)
        if let multicluster {
            guard let zone = try? DomainName(multicluster), !zone.isRoot, !zone.isSubdomain(of: domain), !domain.isSubdomain(of: zone)
            else { throw ValidationError("--multicluster: \(multicluster) is not a zone apart from the cluster domain \(domain)") }
            configuration.multicluster = zone
        }
        configuration.aliasDomains = try (aliasDomains ?? "").split(separator: ",").map { text in
            let trimmed = String(text).trimmingSpaces
            guard let name = try? DomainName(trimmed), !name.isRoot, !name.isSubdomain(of: domain), !domain.isSubdomain(of: name)
            else {
                throw ValidationError("--alias-domains: \(trimmed) is not a domain name apart from the cluster domain \(domain)")
            }
            return name
        }
        return configuration
    }

    /// Loads everything, or prints every problem to stderr and exits non-zero.
    func load(nameserverAddresses: [IPAddress] = []) throws -> SnapshotBuilder.Result {
        let configuration = try configuration(nameserverAddresses: nameserverAddresses)
        guard let manifests else { throw ValidationError("--manifests is required") }
        do {
            return try RegistryLoader.load(manifests: manifests, zones: zones, configuration: configuration)
        } catch {
            printError("clusterdns: cannot load registry:\n\(error)")
            throw ExitCode(2)
        }
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}


#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension HostPort {
    /// A flag's `HOST:PORT`, or the usage error ArgumentParser reports with the usage line.
    static func flag(_ text: String, defaultPort: Int) throws -> HostPort {
        do {
            return try HostPort(text, defaultPort: defaultPort)
        } catch {
            throw ValidationError(error.description)
        }
    }
}
