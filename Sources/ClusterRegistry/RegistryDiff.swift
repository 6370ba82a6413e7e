import DNSWire

/// What one load changed, for the reloader's one-line log:
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
    /// Objects added, changed or removed (a change that alters nothing is not counted).
    public var objectChanges = 0

    public init(services: Counts = Counts(), endpoints: Counts = Counts(), records: Counts = Counts(), totalRecords: Int = 0) {
        self.services = services
        self.endpoints = endpoints
        self.records = records
        self.totalRecords = totalRecords
    }

    /// Everything a registry holds, as added: the first load's line.
    public init(everythingIn registry: SegmentedRegistry) {
        services.added = registry.objects.countsByKind["Service"] ?? 0
        endpoints.added = registry.objects.endpointCount
        records.added = registry.counts.records
        totalRecords = registry.counts.records
        objectChanges = registry.objects.count
    }

    /// Nothing that answers depend on changed (SOA serials aside).
    public var isEmpty: Bool { services.isZero && endpoints.isZero && records.isZero }

    public var description: String {
        "services +\(services.added) -\(services.removed) ~\(services.changed), "
            + "endpoints +\(endpoints.added) -\(endpoints.removed), "
            + "records +\(records.added) -\(records.removed) (\(totalRecords) total)"
    }
}
