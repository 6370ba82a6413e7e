import ClusterRegistry
import DNSResponder
import DNSWire
import NIOCore

/// Shared by the UDP and TCP front ends: answers from the snapshot at once, or hands back the
/// asynchronous work for queries that need an upstream.
struct QueryProcessor: Sendable {
    let store: RegistryStore
    let responder: Responder
    let forwarder: Forwarder

    enum Result {
        case drop
        /// The reply is the first `length` bytes of the scratch output.
        case reply(length: Int)
        /// Run this off the event loop and send what it returns (nil: send nothing).
        case later(@Sendable () async -> [UInt8]?)
    }

    func process(_ packet: ByteBuffer, transport: Transport, scratch: ResponseScratch) -> Result {
        let snapshot = store.snapshot
        let outcome = packet.withUnsafeReadableBytes {
            responder.respond(to: $0, snapshot: snapshot, transport: transport, scratch: scratch)
        }
        switch outcome {
        case .drop:
            return .drop
        case .reply(let length, _):
            return .reply(length: length)
        case .forward(let sizeLimit):
            guard forwarder.isEnabled else {
                let length = packet.withUnsafeReadableBytes { self.responder.reject(request: $0, rcode: .refused, scratch: scratch) }
                return .reply(length: length)
            }
            let query = Array(packet.readableBytesView)
            let udpLimit = transport == .udp ? sizeLimit : nil
            let upstreamResponder = self.responder, upstreamForwarder = self.forwarder
            return .later {
                do {
                    return try await upstreamForwarder.resolve(query, udpLimit: udpLimit)
                } catch {
                    return Self.failure(query, responder: upstreamResponder)
                }
            }
        case .chase(let length, let target, let type, let sizeLimit):
            guard forwarder.isEnabled else { return .reply(length: length) }
            let prefix = scratch.bytes(length)
            let chase = ExternalNameChase(forwarder: forwarder)
            return .later { await chase.complete(prefix, target: target, type: type, sizeLimit: sizeLimit) }
        }
    }

    /// SERVFAIL for a forwarded query whose upstreams all failed or timed out.
    static func failure(_ query: [UInt8], responder: Responder) -> [UInt8] {
        let scratch = ResponseScratch()
        let length = query.withUnsafeBytes { responder.reject(request: $0, rcode: .servFail, scratch: scratch) }
        return scratch.bytes(length)
    }
}
