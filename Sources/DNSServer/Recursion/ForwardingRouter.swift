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
        for stub in stubs where stub.domain.withUnsafeBytes({ WireName.hasSuffix(name, $0) }) { return stub.forwarder }
        return defaultForwarder
    }
}
