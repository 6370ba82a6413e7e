import DNSWire
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--log-queries`: one line per answered query in CoreDNS's `log` plugin format,
/// `[INFO] 10.0.0.5:41234 - 4711 "A IN web.shop.svc.cluster.local. udp 56 false 512" NOERROR qr,aa,rd 98 0.000071s`.
/// When off the server holds no `QueryLog` at all, so it costs nothing per query.
public final class QueryLog: Sendable {
    private let lock = NIOLock()

    public init() {}

    func record(request: [UInt8], reply: [UInt8], client: SocketAddress?, transport: String, seconds: Double) {
        guard let query = try? DNSMessage(decoding: request),
              let question = query.questions.first, reply.count >= DNSHeader.byteCount
        else { return }
        let flags = UInt16(reply[2]) << 8 | UInt16(reply[3])
        let header = DNSHeader(flags: flags)
        let names: [(DNSHeader.Flag, String)] = [
            (.response, "qr"), (.authoritative, "aa"), (.truncated, "tc"), (.recursionDesired, "rd"), (.recursionAvailable, "ra"),
        ]
        let flagText = names.filter { header[$0.0] }.map(\.1).joined(separator: ",")
        let rcode = (try? DNSMessage(decoding: reply).responseCode) ?? ResponseCode(rawValue: UInt16(reply[3] & 0x0F))
        let bufsize = query.edns.map { Int($0.udpPayloadSize) } ?? 512
        let clientText = client.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "-"
        let line = "[INFO] \(clientText) - \(query.header.id) \"\(question.type) \(question.recordClass) \(question.name) "
            + "\(transport) \(request.count) \(query.edns?.dnssecOK ?? false) \(bufsize)\" \(rcode) \(flagText) "
            + "\(reply.count) \(String(format6: seconds))s\n"
        lock.withLock {
            _ = line.utf8CString.withUnsafeBufferPointer { write(1, $0.baseAddress, $0.count - 1) }
        }
    }
}

extension String {
    /// Seconds with six decimals, without Foundation.
    init(format6 seconds: Double) {
        let micros = Int((seconds * 1_000_000).rounded())
        let fraction = String(micros % 1_000_000)
        self = "\(micros / 1_000_000)." + String(repeating: "0", count: 6 - fraction.count) + fraction
    }
}
