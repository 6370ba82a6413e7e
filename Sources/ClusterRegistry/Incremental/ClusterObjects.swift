import DNSWire
import OrderedCollections

/// Identifies one stored object across changes. For a manifest: its file, and a number made
/// from the hash of its document's bytes and its number among the objects of the documents
/// with that hash in the file (`ObjectKey.manifest`). For the API: its resource and
/// `namespace/name` as `origin`. Every build reads the objects of one Service name in key
/// order, which fixes the order of records in an RRset: a full build and an incremental one
/// agree.
///
/// 24 bytes, with no text of its own for a manifest's objects: the file's path is one shared
/// string. Keys were "file|hash|Kind/namespace/name" strings, a heap block per object (10.5 MiB
/// of 122 at 100k Services, issue #9).
public struct ObjectKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var origin: String
    /// 0 for the API's objects; a builder's position; for a manifest's, the top bit set and
    /// its document's hash plus its number times an odd constant. That sum differs for every
    /// number of one document, and two documents' sums meet only by the same 2⁻⁶³ chance
    /// as their hashes (which already decide whether a document is unchanged).
    public var locator: UInt64

    public init(origin: String, position: Int = 0) {
        self.origin = origin
        // Clamped: a position is never negative, and no Int reaches the manifest bit.
        locator = UInt64(clamping: position)
    }

    private init(origin: String, locator: UInt64) {
        self.origin = origin
        self.locator = locator
    }

    /// The key of the `position`th object of the documents with hash `document` in `file`.
    public static func manifest(file: String, document: UInt64, position: Int) -> ObjectKey {
        ObjectKey(origin: file, locator: Self.manifestBit | (document &+ UInt64(truncatingIfNeeded: position) &* 0x9E37_79B9_7F4A_7C15))
    }

    private static let manifestBit: UInt64 = 1 << 63

    /// Whether this key is a manifest object's.
    public var isManifest: Bool { locator & Self.manifestBit != 0 }

    public static func < (lhs: ObjectKey, rhs: ObjectKey) -> Bool {
        lhs.origin != rhs.origin ? lhs.origin < rhs.origin : lhs.locator < rhs.locator
    }

    public var description: String {
        isManifest ? "\(origin)|\(String(locator, radix: 16))" : locator == 0 ? origin : "\(origin)#\(locator)"
    }
}

/// One change to the stored objects: `object` nil removes what `key` held.
public struct ObjectChange: Sendable {
    public var key: ObjectKey
    public var object: KubernetesObject?

    public init(key: ObjectKey, object: KubernetesObject?) {
        self.key = key
        self.object = object
    }
}

/// The objects of one namespace, grouped the way DNS reads them: Services and their endpoint
/// groups by Service name, so one change finds the few objects that shape its names. Names are
/// grouped in DNS lower case (RFC 4343), the form a unit is found by from a wire name.
struct NamespaceObjects: Sendable {
    var declarations: Set<ObjectKey> = []
    var names: [String: NameObjects] = [:]
    var pods: [ObjectKey: Pod] = [:]

    /// The namespace exists while anything names it or lives in it (DESIGN.md §1).
    var isEmpty: Bool { declarations.isEmpty && names.isEmpty && pods.isEmpty }
}

/// The objects that shape one Service name: normally one Service and one EndpointSlice, so
/// small arrays sorted by key (one allocation each) rather than a table per kind.
struct NameObjects: Sendable {
    var services: [Keyed<Service>] = []
    var slices: [Keyed<EndpointGroup>] = []
    var endpoints: [Keyed<EndpointGroup>] = []
    /// With `--multicluster`: the ServiceImports of this name and their slices (KEP-1645).
    var imports: [Keyed<Service>] = []
    var importSlices: [Keyed<EndpointGroup>] = []

    var isEmpty: Bool { services.isEmpty && slices.isEmpty && endpoints.isEmpty && imports.isEmpty && importSlices.isEmpty }
}

/// A stored object with its key.
struct Keyed<Value: Sendable>: Sendable {
    var key: ObjectKey
    var value: Value
}

extension Array {
    /// Stores `value` under `key`, keeping the array sorted by key.
    mutating func store<Value>(_ value: Value, at key: ObjectKey) where Element == Keyed<Value> {
        let index = partitioningIndex { $0.key >= key }
        if index < count, self[index].key == key { self[index].value = value } else { insert(Keyed(key: key, value: value), at: index) }
    }

    mutating func remove<Value>(_ key: ObjectKey) where Element == Keyed<Value> {
        let index = partitioningIndex { $0.key >= key }
        if index < count, self[index].key == key { remove(at: index) }
    }

    func value<Value>(at key: ObjectKey) -> Value? where Element == Keyed<Value> {
        let index = partitioningIndex { $0.key >= key }
        return index < count && self[index].key == key ? self[index].value : nil
    }

    /// The first index whose element satisfies `belongs` (which holds for a suffix).
    fileprivate func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if belongs(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}

/// Where a stored object is grouped: enough to find it from its key alone.
struct ObjectPlace: Sendable {
    enum Kind: UInt8, Sendable {
        case namespace, service, slice, endpoints, pod, serviceImport, importSlice

        /// `KubernetesObject.kindName` of objects of this kind.
        var kindName: String {
            switch self {
            case .namespace: return "Namespace"
            case .service: return "Service"
            case .slice, .importSlice: return "EndpointSlice"
            case .endpoints: return "Endpoints"
            case .pod: return "Pod"
            case .serviceImport: return "ServiceImport"
            }
        }
    }
    var kind: Kind
    /// The namespace and, for Services and endpoint groups, the Service name, lower-cased.
    var namespace: String
    var name: String
}

/// Every stored key and its place, in dense arrays under a compact index: a `Dictionary`
/// rounds its buckets up to a power of two, and at 200k objects (100k Services and their
/// slices) it held 524,288 buckets of 64 bytes, 32 MiB for 13 MiB of places. The order means
/// nothing: a removal swaps the last entry into the hole, O(1).
struct ObjectPlaces: Sendable {
    private var table: OrderedDictionary<ObjectKey, ObjectPlace> = [:]

    var count: Int { table.count }
    var keys: OrderedSet<ObjectKey> { table.keys }
    var places: OrderedDictionary<ObjectKey, ObjectPlace>.Values { table.values }

    subscript(key: ObjectKey) -> ObjectPlace? {
        get { table[key] }
        set {
            guard let newValue else {
                remove(key)
                return
            }
            table[key] = newValue
        }
    }

    mutating func reserveCapacity(_ count: Int) { table.reserveCapacity(count) }

    @discardableResult
    mutating func remove(_ key: ObjectKey) -> ObjectPlace? {
        guard let index = table.index(forKey: key) else { return nil }
        let place = table.values[index]
        table.swapAt(index, table.count - 1)
        table.removeLast()
        return place
    }
}

/// The registry's one copy of the objects (DESIGN.md §4: the DNS model only, never manifests
/// or JSON), grouped per namespace and Service name, and a small index from key to group.
/// Owned by one builder thread; readers never see it, they see compiled snapshots.
public struct ClusterObjects: Sendable {
    private(set) var places = ObjectPlaces()
    private(set) var namespaces: [String: NamespaceObjects] = [:]
    /// Pods by address: an address can outlive its pod (a finished pod keeps it while a new
    /// one is given it), so the autopath table asks which pod holds it now.
    private(set) var podsByAddress: [IPAddress: Set<ObjectKey>] = [:]
    /// One copy of each port list: most Services and slices repeat a handful of them.
    private var portLists = PortLists()
    /// Accepted alias → the Service names claiming it, counted per stored Service object: an
    /// alias two Services claim goes to the older (`aliasOwner`), so a change to either
    /// rebuilds both.
    private var aliasClaims: [DomainName: [ServiceUnit: Int]] = [:]
    /// ServiceImports and multicluster slices received while `--multicluster` is off.
    private(set) var ignoredMulticluster: Set<ObjectKey> = []
    public let configuration: RegistryConfiguration

    public init(configuration: RegistryConfiguration) {
        self.configuration = configuration
    }

    public var count: Int { places.count }

    /// Room for `count` objects in the key index: a start-up stores 100k objects at once, and
    /// growing the index rehashed it again and again (issue #9: start-up).
    mutating func reserveCapacity(_ count: Int) { places.reserveCapacity(count) }

    /// Every stored object (in no particular order).
    public var allObjects: [KubernetesObject] { places.keys.compactMap { self[$0] } }

    /// How many objects of each kind are stored (`KubernetesObject.kindName`), read from the
    /// index alone: `allObjects` would copy 200k objects at 100k Services for a count.
    var countsByKind: [String: Int] {
        var counts: [String: Int] = [:]
        for place in places.places { counts[place.kind.kindName, default: 0] += 1 }
        return counts
    }

    /// Endpoints held by stored EndpointSlices and Endpoints, counted in place.
    var endpointCount: Int {
        var count = 0
        for objects in namespaces.values {
            for group in objects.names.values {
                for slice in group.slices + group.importSlices { count += slice.value.endpoints.count }
                for endpoints in group.endpoints { count += endpoints.value.endpoints.count }
            }
        }
        return count
    }

    public subscript(key: ObjectKey) -> KubernetesObject? {
        guard let place = places[key], let objects = namespaces[place.namespace] else { return nil }
        switch place.kind {
        case .namespace: return objects.declarations.contains(key) ? .namespace(Namespace(name: place.name)) : nil
        case .service: return objects.names[place.name]?.services.value(at: key).map(KubernetesObject.service)
        case .slice: return objects.names[place.name]?.slices.value(at: key).map(KubernetesObject.endpoints)
        case .endpoints: return objects.names[place.name]?.endpoints.value(at: key).map(KubernetesObject.endpoints)
        case .pod: return objects.pods[key].map(KubernetesObject.pod)
        case .serviceImport: return objects.names[place.name]?.imports.value(at: key).map(KubernetesObject.serviceImport)
        case .importSlice: return objects.names[place.name]?.importSlices.value(at: key).map(KubernetesObject.endpoints)
        }
    }

    /// Every stored key: a relist deletes the ones it did not see.
    public var keys: some Collection<ObjectKey> { places.keys }

    /// What one change did: the object it replaced and the one it stored (nil when none).
    struct Replacement {
        var previous: KubernetesObject?
        var stored: KubernetesObject?
    }

    /// Stores `change`, returning the object it replaced and the one it stored. Objects in
    /// namespaces that `--namespaces` hides are not stored at all.
    @discardableResult
    mutating func apply(_ change: ObjectChange) -> Replacement {
        let previous = self[change.key]
        if let previous { remove(previous, key: change.key) }
        // A first sync stores 200k new keys, none of them ignored: the set is not hashed then.
        if !ignoredMulticluster.isEmpty { ignoredMulticluster.remove(change.key) }
        guard let object = change.object.map(configuration.forDNS), configuration.exposes(namespace: object.namespaceName) else {
            return Replacement(previous: previous)
        }
        // ServiceImports and their slices mean nothing without `--multicluster`: noted, not kept.
        guard configuration.multicluster != nil || !object.isMulticluster else {
            ignoredMulticluster.insert(change.key)
            return Replacement(previous: previous)
        }
        let stored = portLists.sharing(object)
        insert(stored, key: change.key)
        return Replacement(previous: previous, stored: stored)
    }

    private mutating func insert(_ object: KubernetesObject, key: ObjectKey) {
        let namespace = object.namespaceName.dnsLowercased
        switch object {
        case .namespace(let declared):
            // The declared spelling is kept as the place's name: a Namespace is its name.
            places[key] = ObjectPlace(kind: .namespace, namespace: namespace, name: declared.name)
            namespaces[namespace, default: NamespaceObjects()].declarations.insert(key)
        case .service(let service):
            let name = service.name.dnsLowercased
            places[key] = ObjectPlace(kind: .service, namespace: namespace, name: name)
            namespaces[namespace, default: NamespaceObjects()].names[name, default: NameObjects()].services.store(service, at: key)
            for alias in acceptedAliases(of: service) {
                aliasClaims[alias, default: [:]][ServiceUnit(namespace: namespace, name: name), default: 0] += 1
            }
        case .endpoints(let group):
            let name = group.serviceName.dnsLowercased
            switch group.origin {
            case .multiclusterSlice:
                places[key] = ObjectPlace(kind: .importSlice, namespace: namespace, name: name)
                namespaces[namespace, default: NamespaceObjects()].names[name, default: NameObjects()].importSlices.store(group, at: key)
            case .endpointSlice:
                places[key] = ObjectPlace(kind: .slice, namespace: namespace, name: name)
                namespaces[namespace, default: NamespaceObjects()].names[name, default: NameObjects()].slices.store(group, at: key)
            case .endpoints:
                places[key] = ObjectPlace(kind: .endpoints, namespace: namespace, name: name)
                namespaces[namespace, default: NamespaceObjects()].names[name, default: NameObjects()].endpoints.store(group, at: key)
            }
        case .serviceImport(let serviceImport):
            let name = serviceImport.name.dnsLowercased
            places[key] = ObjectPlace(kind: .serviceImport, namespace: namespace, name: name)
            namespaces[namespace, default: NamespaceObjects()].names[name, default: NameObjects()].imports.store(serviceImport, at: key)
        case .pod(let pod):
            places[key] = ObjectPlace(kind: .pod, namespace: namespace, name: "")
            namespaces[namespace, default: NamespaceObjects()].pods[key] = pod
            for address in pod.ips { podsByAddress[address, default: []].insert(key) }
        }
    }

    private mutating func remove(_ object: KubernetesObject, key: ObjectKey) {
        guard let place = places.remove(key), var objects = namespaces.removeValue(forKey: place.namespace)
        else { return }
        if case .service(let service) = object {
            let unit = ServiceUnit(namespace: place.namespace, name: place.name)
            for alias in acceptedAliases(of: service) {
                aliasClaims[alias]?[unit, default: 1] -= 1
                if aliasClaims[alias]?[unit] == 0 { aliasClaims[alias]?[unit] = nil }
                if aliasClaims[alias]?.isEmpty == true { aliasClaims[alias] = nil }
            }
        }
        switch object {
        case .namespace: objects.declarations.remove(key)
        case .service, .endpoints, .serviceImport:
            if var group = objects.names.removeValue(forKey: place.name) {
                switch place.kind {
                case .service: group.services.remove(key)
                case .slice: group.slices.remove(key)
                case .serviceImport: group.imports.remove(key)
                case .importSlice: group.importSlices.remove(key)
                default: group.endpoints.remove(key)
                }
                if !group.isEmpty { objects.names[place.name] = group }
            }
        case .pod(let pod):
            objects.pods[key] = nil
            for address in pod.ips {
                podsByAddress[address]?.remove(key)
                if podsByAddress[address]?.isEmpty == true { podsByAddress[address] = nil }
            }
        }
        if !objects.isEmpty { namespaces[place.namespace] = objects }
    }

    // MARK: - Reading

    /// Exposed namespaces that exist, sorted.
    var namespaceNames: [String] { namespaces.keys.sorted() }

    /// How many exposed namespaces exist: `namespaceNames.count` without sorting them (every
    /// store of a list page asked, issue #9).
    var namespaceCount: Int { namespaces.count }

    func namespaceExists(_ name: String) -> Bool { namespaces[name] != nil }

    /// The Services named `name` in `namespace`, in key order: normally one, but manifests may
    /// declare one twice (the records builder serves the first and reports the others).
    func services(_ namespace: String, _ name: String) -> [Service] {
        namespaces[namespace]?.names[name]?.services.map(\.value) ?? []
    }

    /// The same as stored, with their keys: no array is made (a full build asks per Service).
    func storedServices(_ namespace: String, _ name: String) -> [Keyed<Service>] {
        namespaces[namespace]?.names[name]?.services ?? []
    }

    /// The ServiceImports named `name` in `namespace`, in key order (normally one).
    func serviceImports(_ namespace: String, _ name: String) -> [Service] {
        namespaces[namespace]?.names[name]?.imports.map(\.value) ?? []
    }

    /// The endpoints of a ServiceImport, ready ones only, each with the cluster it is in, in
    /// slice key order.
    func importEndpoints(_ namespace: String, _ name: String) -> [(endpoint: ResolvedEndpoint, cluster: String)] {
        (namespaces[namespace]?.names[name]?.importSlices ?? []).flatMap { keyed -> [(ResolvedEndpoint, String)] in
            guard case .multiclusterSlice(let cluster) = keyed.value.origin else { return [] }
            return keyed.value.endpoints.filter(\.ready).map { (ResolvedEndpoint(endpoint: $0, ports: keyed.value.ports), cluster) }
        }
    }

    /// The aliases of `service` that `--alias-domains` accepts, each once.
    func acceptedAliases(of service: Service) -> [DomainName] {
        guard let aliases = service.aliases else { return [] }
        var seen: Set<DomainName> = []
        return aliases.names.compactMap { try? configuration.acceptedAlias($0).get() }.filter { seen.insert($0).inserted }
    }

    /// The Service names claiming `alias`, sorted.
    func aliasClaimants(_ alias: DomainName) -> [ServiceUnit] {
        (aliasClaims[alias] ?? [:]).keys.sorted()
    }

    /// The Service name `alias` is served for: of those claiming it, the one whose first
    /// Service was created first (`metadata.creationTimestamp`); without timestamps (manifests),
    /// or at equal ones, the first by namespace and name, so every replica chooses alike.
    func aliasOwner(_ alias: DomainName) -> ServiceUnit? {
        aliasClaimants(alias).min { left, right in
            let leftCreated = services(left.namespace, left.name).first?.aliases?.created ?? .infinity
            let rightCreated = services(right.namespace, right.name).first?.aliases?.created ?? .infinity
            return leftCreated != rightCreated ? leftCreated < rightCreated : left < right
        }
    }

    /// Whether the Service an endpoint group belongs to is headless with a selector: the only
    /// kind CoreDNS's programming-latency metric counts.
    public func isHeadlessWithSelector(_ group: EndpointGroup) -> Bool {
        // Read in place: the first sync asks it for every slice (issue #9).
        storedServices(group.namespace.dnsLowercased, group.serviceName.dnsLowercased).contains { keyed in
            keyed.value.kind == .headless && !(keyed.value.selector ?? [:]).isEmpty
        }
    }

    /// The namespace of the pod that holds `address` for autopath: a ready pod before one that
    /// is not, then the first by key, so every build picks the same one.
    func podNamespace(of address: IPAddress) -> String? {
        let pods = (podsByAddress[address] ?? []).sorted().compactMap { key -> Pod? in
            if case .pod(let pod)? = self[key] { return pod } else { return nil }
        }
        return (pods.first(where: \.ready) ?? pods.first)?.namespace
    }

    var podAddresses: Dictionary<IPAddress, Set<ObjectKey>>.Keys { podsByAddress.keys }

    /// What a Service name holds, for the reload line: its Services (without their source
    /// locations) and every endpoint of every group naming it, ready or not.
    struct ServiceContent {
        var services: [Service]
        var endpoints: [Endpoint]
    }

    func serviceContent(_ unit: ServiceUnit) -> ServiceContent {
        let objects = namespaces[unit.namespace]?.names[unit.name]
        let groups = (objects?.slices ?? []).map(\.value) + (objects?.endpoints ?? []).map(\.value)
        return ServiceContent(
            services: services(unit.namespace, unit.name).map { service in
                var service = service
                service.source = nil
                return service
            },
            endpoints: groups.flatMap(\.endpoints))
    }

    func pods(in namespace: String) -> [Pod] { Self.sorted(namespaces[namespace]?.pods) }

    /// Every (namespace, Service name) with a Service, sorted: the units of a full build.
    var serviceUnits: [ServiceUnit] {
        namespaces.keys.sorted().flatMap { namespace in
            (namespaces[namespace]?.names.compactMap { $0.value.services.isEmpty && $0.value.imports.isEmpty ? nil : $0.key }.sorted() ?? [])
                .map { ServiceUnit(namespace: namespace, name: $0) }
        }
    }

    /// The endpoints DNS publishes for `service`: EndpointSlices when there are any (as
    /// CoreDNS prefers them), else v1 Endpoints, else — for a selector that matches Pod
    /// objects in the manifests — what the endpoints controller would derive from them.
    /// Not-ready endpoints are dropped unless `publishNotReadyAddresses` is set.
    func endpoints(of service: Service) -> [ResolvedEndpoint] {
        endpoints(of: service, among: namespaces[service.namespace.dnsLowercased]?.names[service.name.dnsLowercased])
    }

    /// The objects stored under `unit`'s name: its Services and their endpoints, read with
    /// one lookup (a full build reads both for every Service).
    func objects(named unit: ServiceUnit) -> NameObjects? { namespaces[unit.namespace]?.names[unit.name] }

    /// `endpoints(of:)`, given the objects stored under the Service's name.
    func endpoints(of service: Service, among objects: NameObjects?) -> [ResolvedEndpoint] {
        // Read from the stored groups in place, into one array: a full build asks once per
        // Service, and copying the groups out and filtering and mapping them made four arrays.
        if let slices = objects?.slices, !slices.isEmpty { return Self.resolved(slices.lazy.map(\.value), of: service) }
        if let endpoints = objects?.endpoints, !endpoints.isEmpty { return Self.resolved(endpoints.lazy.map(\.value), of: service) }
        return podGroup(for: service).map { Self.resolved(CollectionOfOne($0), of: service) } ?? []
    }

    /// The endpoints of `groups` that `service` publishes, each with its group's ports.
    private static func resolved(_ groups: some Collection<EndpointGroup>, of service: Service) -> [ResolvedEndpoint] {
        var resolved: [ResolvedEndpoint] = []
        resolved.reserveCapacity(groups.reduce(0) { $0 + $1.endpoints.count })
        for group in groups {
            for endpoint in group.endpoints where endpoint.ready || service.publishNotReadyAddresses {
                resolved.append(ResolvedEndpoint(endpoint: endpoint, ports: group.ports))
            }
        }
        return resolved
    }

    /// Whether `service` takes its endpoints from Pod objects (no slices or Endpoints name it).
    func derivesEndpointsFromPods(_ service: Service) -> Bool {
        guard let selector = service.selector, !selector.isEmpty else { return false }
        let objects = namespaces[service.namespace.dnsLowercased]?.names[service.name.dnsLowercased]
        return objects?.slices.isEmpty ?? true && objects?.endpoints.isEmpty ?? true
    }

    private func podGroup(for service: Service) -> EndpointGroup? {
        guard derivesEndpointsFromPods(service), let selector = service.selector else { return nil }
        let members = pods(in: service.namespace.dnsLowercased).filter { pod in
            !pod.ips.isEmpty && selector.allSatisfy { pod.labels[$0.key] == $0.value }
        }
        guard !members.isEmpty else { return nil }
        let endpoints = members.map { pod in
            // The endpoints controller sets `hostname` only when the pod's subdomain names
            // this Service (k8s DNS spec §2.4.1, StatefulSet pods).
            Endpoint(
                addresses: pod.ips, hostname: pod.subdomain == service.name ? pod.hostname : nil,
                podName: pod.name, ready: pod.ready)
        }
        let ports = service.ports.map { EndpointPort(name: $0.name, port: $0.targetPort ?? $0.port, proto: $0.proto) }
        return EndpointGroup(
            serviceName: service.name, namespace: service.namespace, origin: .endpoints,
            endpoints: endpoints, ports: ports)
    }

    /// Services of `namespace` whose endpoints come from pods: a pod change may change them.
    func podDerivedServices(in namespace: String) -> [ServiceUnit] {
        guard let objects = namespaces[namespace] else { return [] }
        return objects.names.compactMap { name, group in
            group.services.contains { derivesEndpointsFromPods($0.value) } ? ServiceUnit(namespace: namespace, name: name) : nil
        }
    }

    private static func sorted<Value>(_ table: [ObjectKey: Value]?) -> [Value] {
        guard let table else { return [] }
        if table.count == 1, let only = table.first { return [only.value] }
        return table.keys.sorted().compactMap { table[$0] }
    }
}

/// A Service name in a namespace: the names `<name>.<namespace>.svc.<zone>` and below, which a
/// change to that Service or its endpoints rebuilds together.
public struct ServiceUnit: Hashable, Comparable, Sendable {
    public var namespace: String
    public var name: String

    public static func < (lhs: ServiceUnit, rhs: ServiceUnit) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}

/// A ready-filtered endpoint with the port list of the group it came from.
struct ResolvedEndpoint {
    var endpoint: Endpoint
    var ports: [EndpointPort]
}

extension String {
    /// ASCII-only lower case, as DNS compares names (RFC 4343 §3): the key under which objects
    /// are grouped and units are named.
    var dnsLowercased: String {
        guard utf8.contains(where: { (65...90).contains($0) }) else { return self }
        return String(decoding: utf8.map(DomainName.lowercase), as: UTF8.self)
    }
}

extension RegistryConfiguration {
    /// The object as this configuration's answers use it: endpoints' pod names are kept only
    /// with `--endpoint-pod-names` (a heap string per endpoint at 250k endpoints otherwise).
    /// Changes are compared in this form, so a pod name alone changes nothing.
    func forDNS(_ object: KubernetesObject) -> KubernetesObject {
        // Aliases mean nothing without `--alias-domains`: an annotation edit is then no change.
        if case .service(var service) = object, service.aliases != nil, aliasDomains.isEmpty {
            service.aliases = nil
            return .service(service)
        }
        guard !endpointPodNames, case .endpoints(var group) = object, group.endpoints.contains(where: { $0.podName != nil })
        else { return object }
        for index in group.endpoints.indices { group.endpoints[index].podName = nil }
        return .endpoints(group)
    }
}

/// Interned port lists: a Service's or endpoint group's ports are swapped for an equal list
/// already stored, so thousands of objects with the same ports share one array. Lists no
/// object uses any more stay (a few hundred bytes each, and few distinct lists exist).
struct PortLists: Sendable {
    private var servicePorts: Set<[ServicePort]> = []
    private var endpointPorts: Set<[EndpointPort]> = []
    /// Beyond this many distinct lists of a kind, new ones are not kept: a cluster of unique
    /// port lists gains nothing from sharing, and the set must not grow without bound.
    static let limit = 4096

    mutating func sharing(_ object: KubernetesObject) -> KubernetesObject {
        switch object {
        case .service(var service) where !service.ports.isEmpty:
            service.ports = Self.shared(service.ports, in: &servicePorts)
            return .service(service)
        case .endpoints(var group) where !group.ports.isEmpty:
            group.ports = Self.shared(group.ports, in: &endpointPorts)
            return .endpoints(group)
        default:
            return object
        }
    }

    private static func shared<Port: Hashable>(_ ports: [Port], in lists: inout Set<[Port]>) -> [Port] {
        if let stored = lists.firstIndex(of: ports) { return lists[stored] }
        if lists.count < limit { lists.insert(ports) }
        return ports
    }
}
