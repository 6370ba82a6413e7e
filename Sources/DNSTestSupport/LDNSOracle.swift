import CLDNS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An independent decoder for tests: NLnet Labs ldns parses our wire bytes and renders them as
/// text, so a codec bug cannot hide behind our own decoder agreeing with our own encoder.
public enum LDNSOracle {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public enum Section: Sendable {
        case answer, authority, additional
    }

    /// The whole packet as ldns prints it (header, sections, OPT pseudosection).
    public static func packetText(_ bytes: [UInt8]) throws -> String {
        try withPacket(bytes) { packet in
            guard let text = ldns_pkt2str(packet) else { throw Failure(description: "ldns_pkt2str failed") }
            defer { free(text) }
            return String(cString: text)
        }
    }

    /// One line per record of `section`, as ldns renders it (tabs between fields).
    public static func records(_ bytes: [UInt8], section: Section) throws -> [String] {
        try withPacket(bytes) { packet in
            let list: UnsafeMutablePointer<ldns_rr_list>?
            switch section {
            case .answer: list = ldns_pkt_answer(packet)
            case .authority: list = ldns_pkt_authority(packet)
            case .additional: list = ldns_pkt_additional(packet)
            }
            guard let list else { return [] }
            return (0..<ldns_rr_list_rr_count(list)).compactMap { index in
                guard let rr = ldns_rr_list_rr(list, index), let text = ldns_rr2str(rr) else { return nil }
                defer { free(text) }
                var line = String(cString: text)
                while line.last == "\n" { line.removeLast() }
                return line
            }
        }
    }

    /// RCODE as ldns names it ("NOERROR", "NXDOMAIN", …), including EDNS extended bits.
    public static func rcode(_ bytes: [UInt8]) throws -> String {
        try withPacket(bytes) { packet in
            // ldns_pkt_rcode2str knows the names; the extended bits live in the OPT TTL.
            let low = UInt16(ldns_pkt_get_rcode(packet).rawValue)
            let code = UInt16(ldns_pkt_edns_extended_rcode(packet)) << 4 | low
            if code == 16 { return "BADVERS" }  // RFC 6891; ldns has no name for it
            guard code <= 15, let text = ldns_pkt_rcode2str(ldns_pkt_rcode(rawValue: UInt32(code))) else { return "RCODE\(code)" }
            defer { free(text) }
            return String(cString: text)
        }
    }

    /// Header flags ldns sees, e.g. ["qr", "aa", "rd"].
    public static func flags(_ bytes: [UInt8]) throws -> Set<String> {
        try withPacket(bytes) { packet in
            var flags: Set<String> = []
            if ldns_pkt_qr(packet) { flags.insert("qr") }
            if ldns_pkt_aa(packet) { flags.insert("aa") }
            if ldns_pkt_tc(packet) { flags.insert("tc") }
            if ldns_pkt_rd(packet) { flags.insert("rd") }
            if ldns_pkt_ra(packet) { flags.insert("ra") }
            return flags
        }
    }

    private static func withPacket<T>(_ bytes: [UInt8], _ body: (UnsafeMutablePointer<ldns_pkt>) throws -> T) throws -> T {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = bytes.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            throw Failure(description: "ldns rejected the packet: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        return try body(packet)
    }
}
