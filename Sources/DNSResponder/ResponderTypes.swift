import ClusterRegistry
import DNSWire

/// How the reply travels: it decides the size limit (RFC 1035 §4.2.1, RFC 6891 §6.2.5).
public enum Transport: Sendable {
    case udp
    case tcp
}

/// Settings of the server that change replies but are not registry data.
public struct ResponderOptions: Sendable {
    /// Set RA: true when upstreams are configured, so clients know we recurse for them.
    public var recursionAvailable: Bool
    /// Payload size we advertise in our OPT record and the most we send over UDP.
    public var maxUDPPayload: Int
    /// Rotate address RRsets per query, so clients that take the first address spread over
    /// the endpoints (CoreDNS's `loadbalance`, kube-dns's rotation). `--no-shuffle` clears it.
    public var shuffle: Bool
    /// Before the Kubernetes API's first list, forward cluster-zone names (to
    /// `--node-local-upstream`, the cluster DNS Service) instead of answering SERVFAIL.
    public var forwardsUnsyncedClusterNames = false

    public init(recursionAvailable: Bool = false, maxUDPPayload: Int = 1232, shuffle: Bool = true) {
        self.recursionAvailable = recursionAvailable
        self.maxUDPPayload = maxUDPPayload
        self.shuffle = shuffle
    }
}

/// What to do with one request. Replies are written into the caller's `ResponseScratch`.
public enum ResponderOutcome: Sendable, Equatable {
    /// Send the first `length` bytes of the scratch output.
    case reply(length: Int, rcode: ResponseCode)
    /// Send nothing (too short to answer, or a response: no reflection).
    case drop
    /// Not ours: forward the request upstream (REFUSED if there is no upstream). `sizeLimit`
    /// is the largest reply the client takes over this transport.
    case forward(sizeLimit: Int)
    /// The first `length` bytes hold a CNAME answer whose target lies outside our zones:
    /// resolve `target`/`type` upstream and append its answer.
    case chase(length: Int, target: DomainName, type: RecordType, sizeLimit: Int)
}

/// Per-thread working memory so answering allocates nothing: the lower-cased question name and
/// the reply. Not thread-safe; each event loop (or test) owns one.
public final class ResponseScratch {
    public let name: UnsafeMutableRawBufferPointer
    public let output: UnsafeMutableRawBufferPointer

    /// Room for the largest TCP message.
    public static let outputCapacity = 65535

    public init() {
        name = .allocate(byteCount: 256, alignment: 8)
        output = .allocate(byteCount: Self.outputCapacity, alignment: 8)
    }

    deinit {
        name.deallocate()
        output.deallocate()
    }

    public var lowercasedName: UnsafeRawBufferPointer { UnsafeRawBufferPointer(name) }

    /// The query `Responder.respond` parsed last and the packet it came from: the forwarding
    /// path reads it (and `lowercasedName`) instead of parsing the same datagram again
    /// (issue #10: parsed once).
    var lastParsed: (packet: UnsafeRawBufferPointer, query: QueryView)?

    /// The parsed view of `packet` when it is the one `respond` just answered, else nil.
    public func parsedQuery(of packet: UnsafeRawBufferPointer) -> QueryView? {
        guard let lastParsed, lastParsed.packet.baseAddress == packet.baseAddress, lastParsed.packet.count == packet.count
        else { return nil }
        return lastParsed.query
    }

    public func bytes(_ length: Int) -> [UInt8] { Array(output.prefix(length)) }
}
