import ClusterRegistry
import DNSWire

/// The fixed cluster every responder test answers from, built in code (no manifests), so a
/// failure points at the responder or the snapshot compiler, never at YAML parsing.
///
/// Namespaces: `testns`, `other`, `emptyns` (Namespace objects) and `podonly` (exists only
/// because a Pod lives in it). Services, all in `testns` unless noted:
///
/// | service | kind | addresses / target | ports | endpoints |
/// |---|---|---|---|---|
/// | svc1 | ClusterIP | 10.0.0.1 | http 80/TCP, (unnamed) 8080/TCP, dns 53/UDP | slice: 172.17.0.1 (pod svc1-pod-a), 172.17.0.2 (hostname svc1-host), 172.17.0.3 not ready |
/// | dual | ClusterIP dual-stack | 10.0.0.2, fd00::2 | http 80 | none |
/// | v6only | ClusterIP | fd00::3 | http 80 | none |
/// | noeps | ClusterIP | 10.0.0.6 | (unnamed) 80 | none |
/// | manual | ClusterIP, no selector | 10.0.0.5 | db 5432 | v1 Endpoints: 192.168.1.1, 192.168.1.2 not ready |
/// | hdls | headless | — | http 80, (unnamed) 90 | slice ports http 8080, (unnamed) 9090: web-0 172.17.1.1, web-1 172.17.1.2, web-2 172.17.1.3 not ready, 172.17.1.4 (pod hdls-pod-4), web-dup 172.17.1.2, 172.17.1.5 (64-char pod name) |
/// | pnr | headless, publishNotReadyAddresses | — | http 80 | pnr-0 172.17.2.1 not ready |
/// | hdls-empty | headless | — | http 80 | 172.17.3.1 not ready (so none ready) |
/// | hdls-v6 | headless | — | http 80 | slice port http 8080: fd00:1::a, fd00:1::b |
/// | both | headless | — | http 80 | slice 10.1.0.1 and v1 Endpoints 10.1.0.2 (the slice wins) |
/// | big | headless | — | http 80 | 150 ready: 10.2.0.1 … 10.2.0.150 |
/// | forty | headless | — | http 80 | 40 ready: 10.4.0.1 … 10.4.0.40 |
/// | mid | headless | — | http 80 | 7 ready with hostnames host-0 … host-6: 10.3.0.1 … 10.3.0.7 |
/// | hdls-dual | headless | — | http 80 | IPv4 slice: ds-0 172.17.4.1, ds-1 172.17.4.2; IPv6 slice: ds-0 fd00:4::1 |
/// | sel | headless, selector app=sel | — | http 80→8080 | from Pods: sel-a 172.17.5.1 (hostname h0, subdomain sel), sel-b 172.17.5.2 not ready, sel-c 172.17.5.3 (subdomain elsewhere) |
/// | alias | ExternalName | svc1.testns.svc.cluster.local (in zone) | — | — |
/// | chain | ExternalName | alias.testns.svc.cluster.local (a CNAME itself) | — | — |
/// | bigalias | ExternalName | big.testns.svc.cluster.local | — | — |
/// | ext | ExternalName | example.com (outside) | http 80 | — |
/// | iplit | ExternalName | 10.1.1.1 (IP literal: ignored) | — | — |
/// | other/svc1 | ClusterIP | 10.0.1.1 | http 80 | none |
///
/// Pods: the sel-* pods above, testns/pod-a 172.17.0.1, testns/pod-v6 fd00::99, podonly/lonely 10.9.9.9.
/// Static zone `example.internal` (see `staticZone`).
enum TestCluster {
    static let serial: UInt32 = 2_024_010_101
    static let longPodName = String(repeating: "a", count: 64)

    static func ip(_ text: String) -> IPAddress {
        guard let address = IPAddress(text) else { preconditionFailure("bad test address \(text)") }
        return address
    }

    static func name(_ text: String) -> DomainName {
        do { return try DomainName(text) } catch { preconditionFailure("bad test name \(text): \(error)") }
    }

    static func configuration(
        domain: String = "cluster.local", ttl: UInt32 = 5, pods: RegistryConfiguration.PodMode = .insecure,
        namespaces: Set<String>? = nil, endpointPodNames: Bool = false, reverse: Bool = true
    ) -> RegistryConfiguration {
        RegistryConfiguration(
            domain: name(domain), ttl: ttl, pods: pods, namespaces: namespaces, endpointPodNames: endpointPodNames,
            reverse: reverse, nameserverAddresses: [ip("10.96.0.10"), ip("fd00::10")])
    }

    static func snapshot(_ configuration: RegistryConfiguration) -> RegistrySnapshot {
        SnapshotBuilder.build(
            objects: objects, staticZones: [staticZone()], configuration: configuration, serial: serial
        ).snapshot
    }

    /// Default flags: `--domain cluster.local --ttl 5 --pods insecure`.
    static let standard = snapshot(configuration())

    // MARK: - Objects

    private static func slice(
        _ service: String, _ namespace: String = "testns", _ endpoints: [Endpoint],
        ports: [EndpointPort] = [EndpointPort(name: "http", port: 80)], origin: EndpointGroup.Origin = .endpointSlice
    ) -> KubernetesObject {
        .endpoints(EndpointGroup(serviceName: service, namespace: namespace, origin: origin, endpoints: endpoints, ports: ports))
    }

    private static func service(
        _ name: String, _ kind: Service.Kind, ports: [ServicePort] = [ServicePort(name: "http", port: 80)],
        namespace: String = "testns", selector: [String: String]? = nil, publishNotReady: Bool = false
    ) -> KubernetesObject {
        .service(Service(name: name, namespace: namespace, kind: kind, ports: ports, selector: selector,
                         publishNotReadyAddresses: publishNotReady))
    }

    private static func ready(_ address: String, hostname: String? = nil, pod: String? = nil) -> Endpoint {
        Endpoint(addresses: [ip(address)], hostname: hostname, podName: pod)
    }

    private static func notReady(_ address: String, hostname: String? = nil, pod: String? = nil) -> Endpoint {
        Endpoint(addresses: [ip(address)], hostname: hostname, podName: pod, ready: false)
    }

    static var objects: [KubernetesObject] {
        var objects: [KubernetesObject] = [
            .namespace(Namespace(name: "testns")),
            .namespace(Namespace(name: "other")),
            .namespace(Namespace(name: "emptyns")),
            service("svc1", .clusterIP([ip("10.0.0.1")]), ports: [
                ServicePort(name: "http", port: 80),
                ServicePort(name: nil, port: 8080),
                ServicePort(name: "dns", port: 53, proto: .udp),
            ], selector: ["app": "svc1"]),
            slice("svc1", "testns", [
                ready("172.17.0.1", pod: "svc1-pod-a"),
                ready("172.17.0.2", hostname: "svc1-host"),
                notReady("172.17.0.3", pod: "svc1-pod-c"),
            ], ports: [
                EndpointPort(name: "http", port: 8080),
                EndpointPort(name: nil, port: 8081),
                EndpointPort(name: "dns", port: 5353, proto: .udp),
            ]),
            service("dual", .clusterIP([ip("10.0.0.2"), ip("fd00::2")])),
            service("v6only", .clusterIP([ip("fd00::3")])),
            service("noeps", .clusterIP([ip("10.0.0.6")]), ports: [ServicePort(name: nil, port: 80)]),
            service("manual", .clusterIP([ip("10.0.0.5")]), ports: [ServicePort(name: "db", port: 5432)]),
            slice("manual", "testns", [ready("192.168.1.1"), notReady("192.168.1.2")],
                  ports: [EndpointPort(name: "db", port: 5432)], origin: .endpoints),
            service("hdls", .headless, ports: [ServicePort(name: "http", port: 80), ServicePort(name: nil, port: 90)]),
            slice("hdls", "testns", [
                ready("172.17.1.1", hostname: "web-0"),
                ready("172.17.1.2", hostname: "web-1"),
                notReady("172.17.1.3", hostname: "web-2"),
                ready("172.17.1.4", pod: "hdls-pod-4"),
                ready("172.17.1.2", hostname: "web-dup"),
                ready("172.17.1.5", pod: longPodName),
            ], ports: [EndpointPort(name: "http", port: 8080), EndpointPort(name: nil, port: 9090)]),
            service("pnr", .headless, publishNotReady: true),
            slice("pnr", "testns", [notReady("172.17.2.1", hostname: "pnr-0")]),
            service("hdls-empty", .headless),
            slice("hdls-empty", "testns", [notReady("172.17.3.1")]),
            service("hdls-v6", .headless),
            slice("hdls-v6", "testns", [ready("fd00:1::a"), ready("fd00:1::b")],
                  ports: [EndpointPort(name: "http", port: 8080)]),
            service("both", .headless),
            slice("both", "testns", [ready("10.1.0.1")]),
            slice("both", "testns", [ready("10.1.0.2")], origin: .endpoints),
            service("big", .headless),
            slice("big", "testns", (1...150).map { ready("10.2.0.\($0)") }),
            service("forty", .headless),
            slice("forty", "testns", (1...40).map { ready("10.4.0.\($0)") }),
            service("mid", .headless),
            slice("mid", "testns", (0..<7).map { ready("10.3.0.\($0 + 1)", hostname: "host-\($0)") }),
            // Dual-stack headless: ds-0 appears in the IPv4 and the IPv6 slice.
            service("hdls-dual", .headless),
            slice("hdls-dual", "testns", [ready("172.17.4.1", hostname: "ds-0"), ready("172.17.4.2", hostname: "ds-1")]),
            slice("hdls-dual", "testns", [ready("fd00:4::1", hostname: "ds-0")]),
            service("alias", .externalName("svc1.testns.svc.cluster.local"), ports: []),
            service("chain", .externalName("alias.testns.svc.cluster.local"), ports: []),
            service("dangling", .externalName("gone.testns.svc.cluster.local"), ports: []),
            service("podalias", .externalName("10-0-0-9.testns.pod.cluster.local"), ports: []),
            service("bigalias", .externalName("big.testns.svc.cluster.local"), ports: []),
            service("ext", .externalName("example.com")),
            service("iplit", .externalName("10.1.1.1"), ports: []),
            service("svc1", .clusterIP([ip("10.0.1.1")]), namespace: "other"),
            // No EndpointSlice or Endpoints: endpoints derived from the selected Pods, as the
            // endpoints controller would (hostname only when the pod's subdomain names the service).
            service("sel", .headless, ports: [ServicePort(name: "http", port: 80, targetPort: 8080)], selector: ["app": "sel"]),
            .pod(Pod(name: "sel-a", namespace: "testns", labels: ["app": "sel"], ips: [ip("172.17.5.1")],
                     hostname: "h0", subdomain: "sel")),
            .pod(Pod(name: "sel-b", namespace: "testns", labels: ["app": "sel"], ips: [ip("172.17.5.2")], ready: false)),
            .pod(Pod(name: "sel-c", namespace: "testns", labels: ["app": "sel"], ips: [ip("172.17.5.3")],
                     hostname: "h3", subdomain: "elsewhere")),
            .pod(Pod(name: "pod-a", namespace: "testns", ips: [ip("172.17.0.1")])),
            .pod(Pod(name: "pod-v6", namespace: "testns", ips: [ip("fd00::99")])),
            .pod(Pod(name: "lonely", namespace: "podonly", ips: [ip("10.9.9.9")])),
        ]
        var order = FixedOrder()
        objects.shuffle(using: &order)  // answers must not depend on the order objects were loaded in
        return objects
    }

    // MARK: - Static zone

    /// `example.internal`, as `--zones` would load it (same content as zones/static, plus an
    /// out-of-zone CNAME).
    static func staticZone() -> ZoneModel {
        let apex = name("example.internal")
        func at(_ label: String) -> DomainName { label == "@" ? apex : name(label + ".example.internal") }
        let soa = ResourceRecord(name: apex, ttl: 300, data: .soa(SOAData(
            mname: at("ns1"), rname: at("hostmaster"), serial: 2_024_060_101, refresh: 3600, retry: 900,
            expire: 604_800, minimum: 300)))
        var zone = ZoneModel(apex: apex, kind: .file, soa: soa)
        let records: [(String, UInt32, RData)] = [
            ("@", 300, soa.data),
            ("@", 300, .ns(at("ns1"))),
            ("@", 300, .ns(at("ns2"))),
            ("@", 300, .mx(preference: 10, exchange: at("mail"))),
            ("@", 300, .mx(preference: 20, exchange: at("mail-backup"))),
            ("@", 300, .txt([Array("v=spf1 mx -all".utf8)])),
            ("ns1", 300, .a(ip("192.168.39.10"))),
            ("ns2", 300, .a(ip("192.168.39.11"))),
            ("mail", 300, .a(ip("192.168.39.25"))),
            ("mail-backup", 300, .a(ip("192.168.39.26"))),
            ("db", 300, .a(ip("192.168.39.175"))),
            ("db", 300, .aaaa(ip("fd00:39::175"))),
            ("www", 300, .a(ip("192.168.39.80"))),
            ("www", 300, .aaaa(ip("fd00:39::80"))),
            ("intranet", 3600, .cname(at("www"))),
            ("outside", 300, .cname(name("example.net"))),
            ("_mysql._tcp", 300, .srv(SRVData(priority: 0, weight: 100, port: 3306, target: at("db")))),
        ]
        for (owner, ttl, data) in records { zone.add(ResourceRecord(name: at(owner), ttl: ttl, data: data)) }
        return zone
    }
}

/// A deterministic shuffle (xorshift), so object order is scrambled the same way every run.
struct FixedOrder: RandomNumberGenerator {
    private var state: UInt64 = 0x9E37_79B9_7F4A_7C15

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
