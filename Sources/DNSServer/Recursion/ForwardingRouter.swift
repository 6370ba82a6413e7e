import DNSWire

/// Chooses where an out-of-zone query goes: the stub domain whose name is the longest suffix
/// of the query (kube-dns `stubDomains`), else the default upstreams.
public struct ForwardingRouter: Sendable {
    public struct Stub: Sendable {
        /// Lower-cased wire form of the domain.
        var domain: [UInt8]
        var forwarder: Forwarder

        public init(domain: DomainName, forwarder: Forwarder) {
            self.domain = domain.lowercasedWire
            self.forwarder = forwarder
        }
    }

    public let defaultForwarder: Forwarder
    /// Longest domain first, so the first match is the most specific.
    let stubs: [Stub]

    public init(default forwarder: Forwarder, stubs: [Stub] = []) {
        defaultForwarder = forwarder
        self.stubs = stubs.sorted { $0.domain.count > $1.domain.count }
    }

    public var forwarders: [Forwarder] { [defaultForwarder] + stubs.map(\.forwarder) }

    /// The forwarder for a lower-cased wire name.
    func forwarder(for name: UnsafeRawBufferPointer) -> Forwarder {
        for stub in stubs where WireNames.hasSuffix(name, stub.domain) { return stub.forwarder }
        return defaultForwarder
    }
}

/// Suffix tests on lower-cased wire names without building `DomainName`s.
enum WireNames {
    static func hasSuffix(_ name: UnsafeRawBufferPointer, _ suffix: [UInt8]) -> Bool {
        guard suffix.count <= name.count else { return false }
        let start = name.count - suffix.count
        var position = 0
        while position < start { position += 1 + Int(name[position]) }
        guard position == start else { return false }
        for index in 0..<suffix.count where name[start + index] != suffix[index] { return false }
        return true
    }
}
