import DNSWire
import NIOConcurrencyHelpers
import NIOCore

/// Finds upstreams that send our queries back to us (the classic `nameserver 127.0.0.53` or
/// own-address-in-resolv.conf trap), like CoreDNS's `loop` plugin: at start we forward a query
/// for a random name to each upstream; if that name arrives at our own listener, the upstream
/// loops and is never used again. Probe queries that arrive are answered REFUSED, not forwarded,
/// so a loop dies at once.
public final class LoopDetector: Sendable {
    /// (lower-cased wire probe name, upstream set, index in it)
    private let probes: NIOLockedValueBox<[(name: [UInt8], upstreams: UpstreamSet, index: Int)]>
    private let report: @Sendable (String) -> Void

    public init(report: @escaping @Sendable (String) -> Void) {
        probes = NIOLockedValueBox([])
        self.report = report
    }

    /// A new probe name for `upstreams[index]`: `<random>.loop-probe.clusterdns.invalid.`
    public func makeProbe(upstreams: UpstreamSet, index: Int) -> DomainName? {
        let label = (0..<4).map { _ in String(UInt32.random(in: .min ... .max), radix: 16) }.joined()
        guard let name = try? DomainName("\(label).loop-probe.clusterdns.invalid") else { return nil }
        probes.withLockedValue { $0.append((name.lowercasedWire, upstreams, index)) }
        return name
    }

    /// True when the lower-cased wire name is one of our probes; marks its upstream as looping.
    func intercept(_ name: UnsafeRawBufferPointer) -> Bool {
        // Cheap pre-check: every probe ends in the same labels.
        guard Self.probeSuffix.withUnsafeBytes({ WireName.hasSuffix(name, $0) }) else { return false }
        let match = probes.withLockedValue { probes in
            probes.first { probe in probe.name.count == name.count && zip(probe.name, name).allSatisfy { $0 == $1 } }
        }
        // Another server's probe must travel on: that is how its loop is found.
        guard let match else { return false }
        match.upstreams.markLooping(match.index)
        report("loop detected: upstream \(match.upstreams.addresses[match.index]) sends our queries back to us; "
               + "no longer forwarding to it (check the resolv.conf or --upstream given to clusterdns)")
        return true
    }

    /// True when `upstream` is our own listener: the same address and port, or a loopback
    /// address on our port while we listen on every address (the `nameserver 127.0.0.53` trap).
    public static func isOwnAddress(_ upstream: SocketAddress, listenHost: String, listenPort: Int) -> Bool {
        guard upstream.port == listenPort, let host = upstream.ipAddress, let address = IPAddress(host),
              let listening = IPAddress(listenHost)
        else { return false }
        if address == listening { return true }
        let unspecified = listening == .v4(0) || listening == .v6(0, 0)
        let loopback = AccessControl(networks: ["127.0.0.0/8", "::1/128"].compactMap(AccessControl.Network.init))
        return unspecified && loopback.allows(address)
    }

    static let probeSuffix: [UInt8] = (try? DomainName("loop-probe.clusterdns.invalid").lowercasedWire) ?? [0]
}
