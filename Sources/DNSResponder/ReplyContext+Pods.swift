import ClusterRegistry
import DNSWire

extension ReplyContext {
    /// `a-b-c-d.<ns>.pod.<zone>` with `--pods insecure`: the label is the address, answered
    /// for any namespace that exists (k8s DNS spec leaves pods to the implementation; CoreDNS
    /// behaves this way). Nil when the name is not under a pod namespace.
    func synthesizePod(_ writer: inout ReplyWriter) -> ResponderOutcome? {
        let labelLength = Int(name[0])
        guard labelLength > 0, labelLength + 1 < name.count else { return nil }
        let parent = UnsafeRawBufferPointer(rebasing: name[(labelLength + 1)...])
        guard let namespace = snapshot.entry(for: parent), namespace.synthesizesPods else { return nil }
        let zone = snapshot.zones[namespace.zone]
        guard let address = Self.podAddress(UnsafeRawBufferPointer(rebasing: name[1...labelLength])) else {
            return negative(&writer, .nxDomain, zone: zone)
        }
        let type: RecordType = address.isIPv4 ? .a : .aaaa
        guard query.type == type || query.type == .any else { return negative(&writer, .noError, zone: zone) }
        startReply(&writer, .noError, counts: (1, 0, 0))
        let bytes = address.bytes
        writer.recordHeader(ownerOffset: DNSHeader.byteCount, type: type, ttl: snapshot.configuration.ttl,
                            rdataLength: bytes.count)
        bytes.withUnsafeBytes { writer.bytes($0) }
        finishReply(&writer, .noError)
        return .reply(length: writer.count, rcode: .noError)
    }

    /// `10-1-2-3` → 10.1.2.3; `fd00--1` → fd00::1. Anything else is not a pod name.
    static func podAddress(_ label: UnsafeRawBufferPointer) -> IPAddress? {
        var text = ""
        text.reserveCapacity(label.count)
        var dashes = 0
        for byte in label {
            if byte == UInt8(ascii: "-") { dashes += 1 }
            text.unicodeScalars.append(Unicode.Scalar(byte))
        }
        if dashes == 3, let address = IPAddress(text.replacingDashes(with: ".")), address.isIPv4 { return address }
        if let address = IPAddress(text.replacingDashes(with: ":")), !address.isIPv4 { return address }
        return nil
    }
}

extension String {
    fileprivate func replacingDashes(with separator: Character) -> String {
        String(map { $0 == "-" ? separator : $0 })
    }
}
