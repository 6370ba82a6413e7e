@testable import ClusterRegistry
import DNSTestSupport
import DNSWire
import XCTest

/// The incremental registry against a full build (DESIGN.md §4): after every burst of seeded
/// random changes, the snapshot that `apply` maintains must answer every name and type byte for
/// byte like a registry built whole from the same objects. The changes cover Services added,
/// modified (ClusterIP → headless → ExternalName and back) and deleted; endpoints added, made
/// not-ready and removed; pods; namespaces created and deleted; addresses shared across
/// namespaces; ExternalNames chasing into other namespaces and into a zone file, and a zone
/// file's records pointing into the cluster.
final class IncrementalEquivalenceTests: XCTestCase {
    func testDefaultConfiguration() { check(RegistryConfiguration(), seeds: 0..<6) }

    func testPodsVerifiedWithEndpointPodNames() {
        check(RegistryConfiguration(pods: .verified, endpointPodNames: true), seeds: 10..<14)
    }

    func testExposedNamespacesOnly() { check(RegistryConfiguration(namespaces: ["ns0", "ns2"]), seeds: 20..<24) }

    func testPodsDisabledWithoutReverseZones() {
        check(RegistryConfiguration(pods: .disabled, reverse: false), seeds: 30..<33)
    }

    /// `--single-ptr`: the PTR each address keeps must not depend on which units changed.
    func testSinglePointer() { check(RegistryConfiguration(singlePointer: true), seeds: 40..<44) }

    /// ServiceImports and their slices from several clusters, with and without `--multicluster`.
    func testMulticluster() {
        var configuration = RegistryConfiguration()
        configuration.multicluster = try! DomainName("clusterset.local")
        check(configuration, seeds: 60..<66, multicluster: true)
        check(RegistryConfiguration(), seeds: 66..<68, multicluster: true)
    }

    /// A burst that adds an object and removes it again (a manifest read while its file had an
    /// error, then the file deleted) leaves nothing behind.
    func testABurstThatAddsAndRemovesAKeyLeavesNothing() {
        var registry = SegmentedRegistry(configuration: RegistryConfiguration(), staticZones: [], changes: [], serial: 1)
        let key = ObjectKey(origin: "bomb.yaml|0|Service/default/bomb")
        let service = Service(name: "bomb", namespace: "default", kind: .clusterIP([.v4(0x0A00_0009)]))
        registry.apply([ObjectChange(key: key, object: .service(service)), ObjectChange(key: key, object: nil)], serial: 2)
        XCTAssertNil(registry.objects[key])
        XCTAssertEqual(registry.objects.count, 0)
        XCTAssertFalse(registry.snapshot().records(ofZone: 0).contains { "\($0.name)" == "bomb.default.svc.cluster.local." })
        // And the other way round: removed, then added again in one burst.
        registry.apply([ObjectChange(key: key, object: .service(service))], serial: 3)
        registry.apply([ObjectChange(key: key, object: nil), ObjectChange(key: key, object: .service(service))], serial: 4)
        XCTAssertNotNil(registry.objects[key])
    }

    /// An address that is both a local endpoint and a clusterset endpoint has the local PTR
    /// only; when the local one goes, the clusterset one must come back without a full build.
    func testClustersetPointerReturnsWhenTheLocalNameGoes() {
        var configuration = RegistryConfiguration()
        configuration.multicluster = try! DomainName("clusterset.local")
        let address = IPAddress.v4(0x0A01_0005)
        let local = ObjectChange(key: ObjectKey(origin: "slices/shop/web"), object: .endpoints(EndpointGroup(
            serviceName: "web", namespace: "shop", origin: .endpointSlice, endpoints: [Endpoint(addresses: [address])], ports: [])))
        let changes = [
            ObjectChange(key: ObjectKey(origin: "services/shop/web"), object: .service(Service(name: "web", namespace: "shop", kind: .headless))),
            local,
            ObjectChange(key: ObjectKey(origin: "imports/shop/db"), object: .serviceImport(Service(name: "db", namespace: "shop", kind: .headless))),
            ObjectChange(key: ObjectKey(origin: "mcslices/shop/db"), object: .endpoints(EndpointGroup(
                serviceName: "db", namespace: "shop", origin: .multiclusterSlice(sourceCluster: "east"),
                endpoints: [Endpoint(addresses: [address], hostname: "db-0")], ports: []))),
        ]
        var registry = SegmentedRegistry(configuration: configuration, staticZones: [], changes: changes, serial: 10)
        let before = registry.snapshot()
        let name = address.reverseDomainName
        XCTAssertEqual(before.records(ofZone: 1).filter { $0.name == name }.map(\.data), [.ptr(try! DomainName("10-1-0-5.web.shop.svc.cluster.local"))])
        registry.apply([ObjectChange(key: local.key, object: nil)], serial: 11)
        let full = SegmentedRegistry(
            configuration: configuration, staticZones: [],
            changes: registry.objects.keys.map { ObjectChange(key: $0, object: registry.objects[$0]) }, serial: registry.serial)
        XCTAssertEqual(SnapshotComparison.differences(registry.snapshot(), full.snapshot()), [])
        XCTAssertEqual(
            registry.snapshot().records(ofZone: 1).filter { $0.name == name }.map(\.data),
            [.ptr(try! DomainName("db-0.east.db.shop.svc.clusterset.local"))])
    }

    /// Aliases claimed by several Services, won and lost as Services and their timestamps change.
    func testAliases() {
        var configuration = RegistryConfiguration()
        configuration.aliasDomains = [try! DomainName("example.com"), try! DomainName("deep.example.com")]
        check(configuration, seeds: 50..<56, aliases: true)
    }

    /// A large full build is split over two threads: it must equal the single-threaded one.
    func testParallelFullBuildEqualsSequential() {
        var random = RandomCluster(seed: 99, namespaces: 6, servicesPerNamespace: 40)
        let changes = (0..<600).map { _ in random.change(existing: [:]) }
        let staticZones = [RandomCluster.staticZone()]
        let one = SegmentedRegistry(
            configuration: RegistryConfiguration(), staticZones: staticZones, changes: changes, serial: 5, clusterSynced: true,
            parallel: false)
        let two = SegmentedRegistry(
            configuration: RegistryConfiguration(), staticZones: staticZones, changes: changes, serial: 5, clusterSynced: true,
            parallel: true)
        XCTAssertEqual(SnapshotComparison.differences(one.snapshot(), two.snapshot()), [])
        XCTAssertGreaterThan(one.snapshot().statistics.names, 300, "a cluster worth comparing")
    }

    /// A compiler handed to the shards starts its next chunk empty: Services in different
    /// chunks that alias one out-of-zone name must each keep that name as their chase target.
    func testChunkedFullBuildKeepsEachChunksExternalTargets() {
        let changes = (0..<6).map { index in
            ObjectChange(
                key: ObjectKey(origin: "services/default/alias\(index)"),
                object: .service(Service(name: "alias\(index)", namespace: "default", kind: .externalName(
                    index % 2 == 0 ? "db.external.test" : "cache.external.test"))))
        }
        let reference = SegmentedRegistry(
            configuration: RegistryConfiguration(), staticZones: [], changes: changes, serial: 3, clusterSynced: true,
            parallel: false, method: .wholeModel)
        for parallel in [false, true] {
            let chunked = SegmentedRegistry(
                configuration: RegistryConfiguration(), staticZones: [], changes: changes, serial: 3, clusterSynced: true,
                parallel: parallel, chunkNames: 1)
            XCTAssertEqual(SnapshotComparison.differences(chunked.snapshot(), reference.snapshot()), [], "parallel \(parallel)")
        }
    }

    /// A full build compiles unit by unit; the reference compiles one model of the whole
    /// cluster. Both must give the same snapshot, statistics and warnings, on one thread or two.
    func testUnitByUnitFullBuildEqualsWholeModel() {
        let configurations = [
            RegistryConfiguration(), RegistryConfiguration(pods: .verified, endpointPodNames: true),
            RegistryConfiguration(namespaces: ["ns0", "ns2"]), RegistryConfiguration(pods: .disabled, reverse: false),
        ]
        for (index, configuration) in configurations.enumerated() {
            for seed in UInt64(40 + index * 10)..<UInt64(44 + index * 10) {
                var random = RandomCluster(seed: seed, namespaces: 4, servicesPerNamespace: 12)
                var objects: [ObjectKey: KubernetesObject] = [:]
                for _ in 0..<300 {
                    let change = random.change(existing: objects)
                    objects[change.key] = change.object
                }
                let changes = objects.map { ObjectChange(key: $0.key, object: $0.value) }
                let staticZones = [RandomCluster.staticZone()]
                let reference = SegmentedRegistry(
                    configuration: configuration, staticZones: staticZones, changes: changes, serial: 9, clusterSynced: true,
                    parallel: false, method: .wholeModel)
                // Chunks of 7 names: handing compiled names to the shards many times per thread
                // must give what one hand-over at the end gives.
                for (parallel, chunkNames) in [(false, 16_384), (true, 16_384), (false, 7), (true, 7)] {
                    let built = SegmentedRegistry(
                        configuration: configuration, staticZones: staticZones, changes: changes, serial: 9, clusterSynced: true,
                        parallel: parallel, chunkNames: chunkNames)
                    let context = "configuration \(index), seed \(seed), parallel \(parallel), chunk \(chunkNames)"
                    XCTAssertEqual(SnapshotComparison.differences(built.snapshot(), reference.snapshot()), [], context)
                    XCTAssertEqual(built.snapshot().statistics, reference.snapshot().statistics, context)
                    XCTAssertEqual(built.dependencies.serialDependents, reference.dependencies.serialDependents, context)
                    XCTAssertEqual(built.dependencies.consults, reference.dependencies.consults, context)
                }
                XCTAssertGreaterThan(reference.snapshot().statistics.names, 50, "a cluster worth comparing")
            }
        }
    }

    private func check(
        _ configuration: RegistryConfiguration, seeds: Range<UInt64>, steps: Int = 60, aliases: Bool = false, multicluster: Bool = false
    ) {
        for seed in seeds {
            var random = RandomCluster(seed: seed)
            random.aliases = aliases
            random.multicluster = multicluster
            let staticZones = [RandomCluster.staticZone()]
            let initial = (0..<random.int(0..<30)).map { _ in random.change(existing: [:]) }
            var registry = SegmentedRegistry(
                configuration: configuration, staticZones: staticZones, changes: initial, serial: 1000)
            var serial: UInt32 = 1000
            for step in 0..<steps {
                let current = Dictionary(uniqueKeysWithValues: registry.objects.keys.map { ($0, registry.objects[$0]!) })
                let burst = (0..<random.int(1..<6)).map { _ in random.change(existing: current) }
                serial += 1
                registry.apply(burst, serial: serial)
                let full = SegmentedRegistry(
                    configuration: configuration, staticZones: staticZones,
                    changes: registry.objects.keys.map { ObjectChange(key: $0, object: registry.objects[$0]) },
                    serial: registry.serial)  // a burst that changes nothing keeps the serial
                let differences = SnapshotComparison.differences(registry.snapshot(), full.snapshot())
                XCTAssertEqual(differences, [], "seed \(seed), step \(step), after \(burst.map(\.key))")
                XCTAssertEqual(podTable(registry, registry.objects), podTable(full, registry.objects), "seed \(seed), step \(step)")
                // The counts read from the index agree with the objects themselves.
                let objects = registry.objects.allObjects
                XCTAssertEqual(
                    registry.objects.countsByKind, Dictionary(objects.map { ($0.kindName, 1) }, uniquingKeysWith: +),
                    "seed \(seed), step \(step)")
                XCTAssertEqual(
                    registry.objects.endpointCount,
                    objects.reduce(0) { count, object in
                        if case .endpoints(let group) = object { return count + group.endpoints.count } else { return count }
                    })
                if !differences.isEmpty { return }
            }
        }
    }

    /// The autopath table's answer for every pod address.
    private func podTable(_ registry: SegmentedRegistry, _ objects: ClusterObjects) -> [String] {
        let snapshot = registry.snapshot()
        return objects.allObjects.compactMap { object -> [String]? in
            guard case .pod(let pod) = object else { return nil }
            return pod.ips.map { "\($0)=\(snapshot.podNamespaces[$0] ?? "-")" }
        }.flatMap { $0 }.sorted()
    }
}

/// Seeded random objects over a small universe, so that names, addresses and keys collide
/// often: the same Service changes kind, two namespaces share an endpoint address, an
/// ExternalName points at another namespace's Service.
struct RandomCluster {
    var generator: SplitMix64
    let namespaces: Int
    let servicesPerNamespace: Int
    /// Services carry `clusterdns.io/aliases` from a small pool, so that they collide (off by
    /// default: the other seeds' sequences stay as they were).
    var aliases = false
    /// ServiceImports and multicluster slices too (off by default, as `aliases`).
    var multicluster = false

    init(seed: UInt64, namespaces: Int = 3, servicesPerNamespace: Int = 5) {
        generator = SplitMix64(seed: seed)
        self.namespaces = namespaces
        self.servicesPerNamespace = servicesPerNamespace
    }

    mutating func int(_ range: Range<Int>) -> Int { Int.random(in: range, using: &generator) }
    mutating func chance(_ percent: Int) -> Bool { int(0..<100) < percent }

    /// A change at a random key: mostly a new version of an object, sometimes a deletion of an
    /// existing one.
    mutating func change(existing: [ObjectKey: KubernetesObject]) -> ObjectChange {
        if !existing.isEmpty, chance(25) {
            let keys = existing.keys.sorted()
            return ObjectChange(key: keys[int(0..<keys.count)], object: nil)
        }
        let namespace = "ns\(int(0..<namespaces))"
        let service = "s\(int(0..<servicesPerNamespace))"
        if multicluster, chance(35) { return multiclusterChange(service, namespace) }
        switch int(0..<10) {
        case 0:
            return ObjectChange(key: ObjectKey(origin: "namespaces/\(namespace)"), object: .namespace(Namespace(name: namespace)))
        case 1, 2:
            let pod = "p\(int(0..<4))"
            let ips = [IPAddress.v4(0x0A02_0000 | UInt32(int(0..<24)))]
            let object = Pod(
                name: pod, namespace: namespace, labels: ["app": service], ips: ips, hostname: chance(30) ? "h\(int(0..<2))" : nil,
                subdomain: chance(30) ? service : nil, ready: chance(80))
            return ObjectChange(key: ObjectKey(origin: "pods/\(namespace)/\(pod)"), object: .pod(object))
        case 3, 4, 5:
            let slice = int(0..<2)
            let endpoints = (0..<int(0..<4)).map { _ in
                Endpoint(
                    addresses: [address()], hostname: chance(40) ? "e\(int(0..<3))" : nil, podName: chance(50) ? "pod-\(int(0..<3))" : nil,
                    ready: chance(75))
            }
            let ports = (0..<int(0..<3)).map { _ in EndpointPort(name: chance(70) ? "p\(int(0..<2))" : nil, port: 80 + int(0..<3)) }
            let group = EndpointGroup(
                serviceName: service, namespace: namespace, origin: chance(85) ? .endpointSlice : .endpoints,
                endpoints: endpoints, ports: ports)
            return ObjectChange(key: ObjectKey(origin: "slices/\(namespace)/\(service)-\(slice)"), object: .endpoints(group))
        default:
            return ObjectChange(key: ObjectKey(origin: "services/\(namespace)/\(service)"), object: .service(randomService(service, namespace)))
        }
    }

    /// A ServiceImport (ClusterSetIP, dual-stack sometimes, or headless) or one of its slices
    /// from one of three clusters (one id of two labels, one not a DNS name).
    private mutating func multiclusterChange(_ service: String, _ namespace: String) -> ObjectChange {
        if chance(40) {
            let ports = (0..<int(0..<3)).map { index in
                ServicePort(name: chance(75) ? "p\(index)" : nil, port: 42, proto: index == 1 ? .udp : .tcp)
            }
            let kind: Service.Kind = chance(50)
                ? .headless : .clusterIP(chance(30) ? [address(), .v6(0xFD00_0000_0000_0042, UInt64(int(0..<4)))] : [address()])
            return ObjectChange(
                key: ObjectKey(origin: "serviceimports/\(namespace)/\(service)"),
                object: .serviceImport(Service(name: service, namespace: namespace, kind: kind, ports: ports)))
        }
        let cluster = ["cluster-a", "cluster-b.registry", "Bad_Cluster"][int(0..<3)]
        let endpoints = (0..<int(0..<4)).map { _ in
            Endpoint(addresses: [address()], hostname: chance(40) ? "e\(int(0..<3))" : nil, ready: chance(75))
        }
        let ports = (0..<int(0..<3)).map { _ in EndpointPort(name: chance(70) ? "p\(int(0..<2))" : nil, port: 42) }
        let group = EndpointGroup(
            serviceName: service, namespace: namespace, origin: .multiclusterSlice(sourceCluster: cluster), endpoints: endpoints,
            ports: ports)
        return ObjectChange(key: ObjectKey(origin: "mcslices/\(namespace)/\(service)-\(cluster)"), object: .endpoints(group))
    }

    private mutating func randomService(_ name: String, _ namespace: String) -> Service {
        let ports = (0..<int(0..<3)).map { index in
            ServicePort(name: chance(75) ? "p\(index)" : nil, port: 80 + index, proto: chance(80) ? .tcp : .udp, targetPort: 8080)
        }
        let kind: Service.Kind
        switch int(0..<10) {
        case 0, 1, 2: kind = .headless
        case 3:
            let targets = [
                "s\(int(0..<servicesPerNamespace)).ns\(int(0..<namespaces)).svc.cluster.local",  // another Service
                "e\(int(0..<3)).s0.ns0.svc.cluster.local",  // an endpoint's name
                "www.example.org", "mail.example.org",  // the zone file
                "db.external.test", "\(name).\(namespace).svc.cluster.local",  // upstream; itself
            ]
            kind = .externalName(targets[int(0..<targets.count)])
        default:
            // A small address pool: ClusterIPs collide with each other and with endpoints.
            kind = .clusterIP(chance(15) ? [address(), .v6(0xFD00_0000_0000_0000, UInt64(int(0..<4)))] : [address()])
        }
        var service = Service(
            name: name, namespace: namespace, kind: kind, ports: ports, selector: chance(30) ? ["app": name] : nil,
            publishNotReadyAddresses: chance(15))
        if aliases, chance(50) {
            // Under the alias domains, nested ones, outside them, and not a name at all.
            let pool = ["api.example.com", "www.example.com", "x.deep.example.com", "evil.test", "a b.example.com", "API.Example.com"]
            service.aliases = ServiceAliases(
                names: (0..<int(1..<3)).map { _ in pool[int(0..<pool.count)] },
                created: chance(70) ? Double(int(0..<3)) : nil)
        }
        return service
    }

    private mutating func address() -> IPAddress { .v4(0x0A01_0000 | UInt32(int(0..<12))) }

    /// A zone file whose records point into the cluster zone: an MX and a CNAME into Services
    /// that come and go.
    static func staticZone() -> ZoneModel {
        let apex = try! DomainName("example.org")
        let soa = ResourceRecord(name: apex, ttl: 60, data: .soa(SOAData(
            mname: try! DomainName("ns.example.org"), rname: try! DomainName("hostmaster.example.org"), serial: 7,
            refresh: 3600, retry: 900, expire: 604800, minimum: 60)))
        var zone = ZoneModel(apex: apex, kind: .file, soa: soa)
        zone.add(soa)
        zone.add(ResourceRecord(name: try! DomainName("www.example.org"), ttl: 60, data: .a(.v4(0xC000_0201))))
        zone.add(ResourceRecord(name: try! DomainName("mail.example.org"), ttl: 60, data: .mx(preference: 10, exchange: try! DomainName("s1.ns1.svc.cluster.local"))))
        zone.add(ResourceRecord(name: try! DomainName("api.example.org"), ttl: 60, data: .cname(try! DomainName("s2.ns0.svc.cluster.local"))))
        return zone
    }
}
