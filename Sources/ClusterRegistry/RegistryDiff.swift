import DNSWire

/// Fingerprints of what one snapshot serves: small (one integer per service, endpoint and record)
/// so the reloader can keep the served one beside the snapshot and report what a reload changed.
///
/// Hash collisions could only make a count off by one in a log line; answers never depend on them.
public struct RegistryInventory: Sendable, Hashable {
    /// Identity (namespace, name) → hash of everything that shapes answers (not the source location).
    var services: [Int: Int] = [:]
    /// One hash per (namespace, service, endpoint): a readiness or hostname change is one removal
    /// plus one addition.
    var endpoints: Set<Int> = []
    /// One hash per record except SOAs, whose serial changes on every build.
    var records: Set<Int> = []
    /// Every record served, SOAs included (the same count as `RegistryStatistics.records`).
    public private(set) var recordCount = 0

    public init() {}

    public init(objects: [KubernetesObject], zones: [ZoneModel]) {
        for object in objects {
            switch object {
            case .service(let service):
                services[Self.hash(service.namespace, service.name)] = Self.contentHash(service)
            case .endpoints(let group):
                for endpoint in group.endpoints {
                    var hasher = Hasher()
                    hasher.combine(group.namespace)
                    hasher.combine(group.serviceName)
                    hasher.combine(endpoint)
                    endpoints.insert(hasher.finalize())
                }
            case .namespace, .pod:
                break
            }
        }
        for zone in zones {
            for nodeRecords in zone.nodes.values {
                recordCount += nodeRecords.count
                for record in nodeRecords where record.type != .soa { records.insert(record.hashValue) }
            }
        }
    }

    public var serviceCount: Int { services.count }
    public var endpointCount: Int { endpoints.count }

    private static func hash(_ namespace: String, _ name: String) -> Int {
        var hasher = Hasher()
        hasher.combine(namespace)
        hasher.combine(name)
        return hasher.finalize()
    }

    private static func contentHash(_ service: Service) -> Int {
        var hasher = Hasher()
        hasher.combine(service.kind)
        hasher.combine(service.ports)
        hasher.combine(service.selector)
        hasher.combine(service.publishNotReadyAddresses)
        return hasher.finalize()
    }
}

/// What changed between two inventories, for the reloader's one-line log:
/// `services +1 -0 ~2, endpoints +2 -1, records +5 -3 (123 total)`.
public struct RegistryDiff: Sendable, Hashable, CustomStringConvertible {
    public struct Counts: Sendable, Hashable {
        public var added = 0
        public var removed = 0
        /// Present before and after with different content (services only).
        public var changed = 0

        public init(added: Int = 0, removed: Int = 0, changed: Int = 0) {
            self.added = added
            self.removed = removed
            self.changed = changed
        }

        public var isZero: Bool { added == 0 && removed == 0 && changed == 0 }
    }

    public var services = Counts()
    public var endpoints = Counts()
    public var records = Counts()
    /// Records served after the change.
    public var totalRecords = 0

    public init(services: Counts = Counts(), endpoints: Counts = Counts(), records: Counts = Counts(), totalRecords: Int = 0) {
        self.services = services
        self.endpoints = endpoints
        self.records = records
        self.totalRecords = totalRecords
    }

    public init(from old: RegistryInventory, to new: RegistryInventory) {
        for (key, content) in new.services {
            switch old.services[key] {
            case nil: services.added += 1
            case content?: break
            case _?: services.changed += 1
            }
        }
        services.removed = old.services.keys.reduce(0) { new.services[$1] == nil ? $0 + 1 : $0 }
        endpoints = Self.setCounts(old.endpoints, new.endpoints)
        records = Self.setCounts(old.records, new.records)
        totalRecords = new.recordCount
    }

    private static func setCounts(_ old: Set<Int>, _ new: Set<Int>) -> Counts {
        let kept = old.intersection(new).count
        return Counts(added: new.count - kept, removed: old.count - kept)
    }

    /// Nothing that answers depend on changed (SOA serials aside).
    public var isEmpty: Bool { services.isZero && endpoints.isZero && records.isZero }

    public var description: String {
        "services +\(services.added) -\(services.removed) ~\(services.changed), "
            + "endpoints +\(endpoints.added) -\(endpoints.removed), "
            + "records +\(records.added) -\(records.removed) (\(totalRecords) total)"
    }
}
