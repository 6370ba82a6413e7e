import ClusterRegistry
import DNSResponder
import DNSWire

/// A client's message through the query decoder and the responder, over UDP and TCP, on the
/// demo cluster (zones/cluster, zones/static). Every reply must answer the query (its ID, QR
/// set), fit the transport's limit and decode.
enum ResponderTarget {
    nonisolated(unsafe) private static var snapshot: RegistrySnapshot?
    nonisolated(unsafe) private static var scratch = ResponseScratch()
    private static let responder = Responder()

    static func prepare() {
        do {
            snapshot = try RegistryLoader.load(
                manifests: repositoryRoot + "/zones/cluster", zones: repositoryRoot + "/zones/static",
                configuration: RegistryConfiguration()
            ).snapshot
        } catch {
            fatalError("the demo cluster does not load: \(error)")
        }
    }

    static func run(_ packet: UnsafeRawBufferPointer) {
        guard let snapshot else { return }
        for transport in [Transport.udp, .tcp] {
            let length: Int
            switch responder.respond(to: packet, snapshot: snapshot, transport: transport, scratch: scratch) {
            case .drop, .forward: continue
            case .reply(let replyLength, _): length = replyLength
            case .chase(let replyLength, _, _, _): length = replyLength
            }
            let reply = scratch.bytes(length)
            require(reply.count >= DNSHeader.byteCount, "reply shorter than a header")
            require(reply.count <= (transport == .udp ? 4_096 : 65_535), "reply of \(reply.count) bytes over \(transport)")
            require(reply[0] == packet[0] && reply[1] == packet[1], "reply ID differs from the query's")
            require(reply[2] & 0x80 != 0, "reply without QR")
            do {
                _ = try DNSMessage(decoding: reply)
            } catch {
                fatalError("reply does not decode: \(error), \(reply)")
            }
        }
    }
}
