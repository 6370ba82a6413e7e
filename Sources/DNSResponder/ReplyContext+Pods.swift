import ClusterRegistry
import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension ReplyContext {
    /// `a-b-c-d.<ns>.pod.<zone>` with `--pods insecure`: the label is the address, answered
    /// for any namespace that exists (k8s DNS spec leaves pods to the implementation; CoreDNS
    /// behaves this way). Nil when the name is not under a pod namespace.
    func synthesizePod(_ writer: inout ReplyWriter) -> ResponderOutcome? {
        let labelLength = Int(name[0])
        guard labelLength > 0, labelLength + 1 < name.count else { return nil }
        let parent = UnsafeRawBufferPointer(rebasing: name[(labelLength + 1)...])
        guard let namespace = snapshot.lookup(parent)?.entry, namespace.synthesizesPods else { return nil }
        let zone = snapshot.zones[namespace.zone]
        guard let address = Self.podAddress(UnsafeRawBufferPointer(rebasing: name[1...labelLength])) else {
            return negative(&writer, .nxDomain, zone: zone)
        }
        let type: RecordType = address.isIPv4 ? .a : .aaaa
        guard query.type == type || query.type == .any else { return negative(&writer, .noError, zone: zone) }
        startReply(&writer, .noError, counts: (1, 0, 0))
        address.withRDataBytes { bytes in
            writer.recordHeader(ownerOffset: DNSHeader.byteCount, type: type, ttl: snapshot.configuration.ttl,
                                rdataLength: bytes.count)
            writer.bytes(bytes)
        }
        finishReply(&writer, .noError)
        return .reply(length: writer.count, rcode: .noError)
    }

    /// `10-1-2-3` → 10.1.2.3; `fd00--1` → fd00::1. Anything else is not a pod name. Parsed
    /// in a stack buffer: this runs per query and must not allocate.
    static func podAddress(_ label: UnsafeRawBufferPointer) -> IPAddress? {
        guard label.count < 64 else { return nil }  // a label is at most 63 bytes
        let dashes = label.reduce(0) { $1 == UInt8(ascii: "-") ? $0 + 1 : $0 }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { text -> IPAddress? in
            func parse(_ separator: UInt8, family: Int32) -> IPAddress? {
                for (index, byte) in label.enumerated() {
                    text[index] = CChar(bitPattern: byte == UInt8(ascii: "-") ? separator : byte)
                }
                text[label.count] = 0
                return IPAddress(cString: text.baseAddress!, family: family)
            }
            if dashes == 3, let address = parse(UInt8(ascii: "."), family: AF_INET) { return address }
            return parse(UInt8(ascii: ":"), family: AF_INET6)
        }
    }
}
