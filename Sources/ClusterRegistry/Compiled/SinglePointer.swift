import DNSWire

/// `--single-ptr` (issue #13): each address gets exactly one PTR. The DNS specification gives an
/// address one PTR for every name that has it (a ClusterIP shared with an endpoint, an endpoint in
/// several Services' slices), and software that checks forward against reverse names (Kerberos,
/// SSH, some databases; kubernetes#50495) breaks on several. The one kept, the same on every
/// replica and after every restart:
/// 1. an endpoint's own hostname (StatefulSet style): `<hostname>.<svc>.<ns>.svc.<zone>`;
/// 2. the Service whose ClusterIP it is: `<svc>.<ns>.svc.<zone>`;
/// 3. otherwise the smallest name, compared as lower-case text (endpoints named after their
///    address, names outside the cluster zone).
/// Ties within a rank also go to the smallest name.
enum SinglePointer {
    static func choose(for owner: DomainName, among records: [ResourceRecord], clusterDomain: DomainName?) -> [ResourceRecord] {
        let pointers = records.filter { $0.type == .ptr }
        guard pointers.count > 1 else { return records }
        let dashed = IPAddress(reverseDomainName: owner)?.dashed
        let ranked = pointers.map { (rank: rank($0, addressLabel: dashed, clusterDomain: clusterDomain), record: $0) }
        guard let best = ranked.min(by: { $0.rank < $1.rank }) else { return records }
        return records.filter { $0.type != .ptr } + [best.record]
    }

    /// (rank, lower-case name): smaller is preferred.
    private static func rank(_ record: ResourceRecord, addressLabel: String?, clusterDomain: DomainName?) -> (Int, String) {
        guard case .ptr(let target) = record.data else { return (3, "") }
        let text = target.description.lowercased()
        guard let clusterDomain, target.isSubdomain(of: clusterDomain) else { return (2, text) }
        let labels = target.labels
        let depth = labels.count - clusterDomain.labelCount
        guard depth == 3 || depth == 4, labels[depth - 1].map(DomainName.lowercase).elementsEqual("svc".utf8) else {
            return (2, text)
        }
        if depth == 3 { return (1, text) }
        // An endpoint without a hostname is named after its address.
        let host = String(decoding: labels[0].map(DomainName.lowercase), as: UTF8.self)
        return host == addressLabel ? (2, text) : (0, text)
    }
}
