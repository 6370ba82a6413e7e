import DNSWire

/// Who may use us as a recursive resolver (`--allow-recursion`): everyone gets authoritative
/// answers for our zones, only these networks get forwarding, so we are not an open resolver.
public struct AccessControl: Sendable {
    public struct Network: Sendable, Hashable, CustomStringConvertible {
        public var address: IPAddress
        public var prefixLength: Int

        /// `10.0.0.0/8`, `fd00::/8`, or a bare address (a host route).
        public init?(_ text: String) {
            let parts = text.split(separator: "/", maxSplits: 1)
            guard let first = parts.first, let address = IPAddress(String(first)) else { return nil }
            let maximum = address.isIPv4 ? 32 : 128
            let length = parts.count == 2 ? Int(parts[1]) : maximum
            guard let length, (0...maximum).contains(length) else { return nil }
            self.address = address
            self.prefixLength = length
        }

        public func contains(_ candidate: IPAddress) -> Bool {
            switch (address, candidate) {
            case (.v4(let network), .v4(let value)):
                let mask: UInt32 = prefixLength == 0 ? 0 : ~0 << (32 - prefixLength)
                return network & mask == value & mask
            case (.v6(let networkHigh, let networkLow), .v6(let high, let low)):
                let highBits = min(prefixLength, 64), lowBits = max(prefixLength - 64, 0)
                let highMask: UInt64 = highBits == 0 ? 0 : ~0 << (64 - highBits)
                let lowMask: UInt64 = lowBits == 0 ? 0 : ~0 << (64 - lowBits)
                return networkHigh & highMask == high & highMask && networkLow & lowMask == low & lowMask
            default:
                return false
            }
        }

        public var description: String { "\(address)/\(prefixLength)" }
    }

    public var networks: [Network]

    public init(networks: [Network]) { self.networks = networks }

    /// Loopback, RFC 1918, shared address space (often pod CIDRs), unique-local and link-local.
    public static let privateNetworks = AccessControl(networks: [
        "127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10",
        "::1/128", "fc00::/7", "fe80::/10",
    ].compactMap(Network.init))

    public func allows(_ address: IPAddress) -> Bool {
        // IPv4-mapped IPv6 clients (dual-stack sockets) are judged by their IPv4 address.
        if case .v6(let high, let low) = address, high == 0, low >> 32 == 0xFFFF {
            return allows(.v4(UInt32(truncatingIfNeeded: low)))
        }
        return networks.contains { $0.contains(address) }
    }
}
