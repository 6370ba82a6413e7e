import CLDNS
import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Zone-file text for a record, rendered by ldns from our wire form (DESIGN.md §6): the text is
/// what an independent DNS library makes of our bytes.
public enum RecordPresentation {
    public static func line(_ record: ResourceRecord) -> String {
        var writer = WireWriter()
        writer.compresses = false
        writer.writeRecord(record)
        let wire = writer.bytes
        var rr: UnsafeMutablePointer<ldns_rr>? = nil
        var position = 0
        let status = wire.withUnsafeBufferPointer {
            ldns_wire2rr(&rr, $0.baseAddress, $0.count, &position, LDNS_SECTION_ANSWER)
        }
        guard status == LDNS_STATUS_OK, let rr else { return "; unrenderable \(record.name) \(record.type)" }
        defer { ldns_rr_free(rr) }
        guard let text = ldns_rr2str(rr) else { return "; unrenderable \(record.name) \(record.type)" }
        defer { free(text) }
        return String(cString: text).trimmingTrailingNewlines
    }
}

extension String {
    fileprivate var trimmingTrailingNewlines: String {
        var result = self
        while result.last == "\n" { result.removeLast() }
        return result
    }
}
