import DNSWire

/// The statistics a snapshot reports, kept up to date by each change instead of recounted.
struct RegistryCounts: Sendable {
    var objectsByKind: [String: Int] = [:]
    var namespaces = 0
    var records = 0

    init() {}

    init(objects: ClusterObjects, records: Int) {
        objectsByKind = objects.countsByKind
        namespaces = objects.namespaceCount
        self.records = records
    }

    mutating func count(replacing previous: KubernetesObject?, with object: KubernetesObject?) {
        if let previous { objectsByKind[previous.kindName, default: 0] -= 1 }
        if let object { objectsByKind[object.kindName, default: 0] += 1 }
        if let previous, objectsByKind[previous.kindName] == 0 { objectsByKind[previous.kindName] = nil }
    }

    func statistics(warnings: [RegistryUnit: [String]]) -> RegistryStatistics {
        var statistics = RegistryStatistics()
        statistics.objectsByKind = objectsByKind
        statistics.namespaces = namespaces
        statistics.records = records
        statistics.warnings = warnings.keys.sorted().flatMap { warnings[$0] ?? [] }
        return statistics
    }
}
