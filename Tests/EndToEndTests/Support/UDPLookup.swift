import DNSTestSupport
import DNSWire

/// One A (or other) query over UDP to the server under test without starting a process: for
/// tests that check thousands of names, where one `dig` each would take seconds.
enum UDPLookup {
    /// The rcode and the addresses of the A/AAAA answers of `type`, as text.
    static func answer(_ name: String, _ type: RecordType = .a, port: Int) throws -> (rcode: UInt8, data: [String]) {
        var query = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: type)])
        query.header.id = UInt16.random(in: 1...UInt16.max)
        guard let reply = try DNSTestClient.udp(query.encoded(), port: port, timeout: 1) else {
            throw DNSTestClient.Failure(description: "no reply for \(name)")
        }
        let message = try DNSMessage(decoding: reply)
        let addresses = message.answers.compactMap { record -> String? in
            switch record.data {
            case .a(let address), .aaaa(let address): return "\(address)"
            default: return nil
            }
        }
        return (message.header.rcodeLow, addresses.sorted())
    }

    /// The A addresses of `name` (none for NXDOMAIN, NODATA or no reply).
    static func addresses(_ name: String, port: Int) -> [String] {
        (try? answer(name, port: port).data) ?? []
    }
}
