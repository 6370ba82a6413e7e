import DNSWire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `nameserver` lines of a resolv.conf: our default upstreams, as kube-dns and CoreDNS's
/// `forward . /etc/resolv.conf` use the node's resolvers.
public enum ResolvConf {
    /// Addresses in file order; a missing or unreadable file has none.
    public static func nameservers(path: String) -> [IPAddress] {
        guard let file = fopen(path, "r") else { return [] }
        defer { fclose(file) }
        var result: [IPAddress] = []
        var line: UnsafeMutablePointer<CChar>? = nil
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, file) > 0, let line {
            result += parse(line: String(cString: line))
        }
        return result
    }

    static func parse(line: String) -> [IPAddress] {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
        guard fields.count >= 2, fields[0] == "nameserver" else { return [] }
        // A zone index (`fe80::1%eth0`) cannot be used from here: skip such entries.
        return IPAddress(String(fields[1])).map { [$0] } ?? []
    }
}
