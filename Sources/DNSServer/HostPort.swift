import DNSWire
import NIOCore

/// An address to listen on or to reach: `HOST:PORT`, `[v6]:PORT` or a bare host. The one
/// host-and-port type of the server (issue #10): DNS listeners, probes, metrics and upstreams.
public struct HostPort: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`; `localhost` is 127.0.0.1 and a missing port is `defaultPort`.
    public init(_ text: String, defaultPort: Int) throws(ParseError) {
        var hostPart = Substring(text), portPart: Substring? = nil
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            hostPart = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") { portPart = rest.dropFirst() }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            hostPart = text[..<colon]
            portPart = text[text.index(after: colon)...]
        }
        guard IPAddress(String(hostPart)) != nil || hostPart == "localhost" else {
            throw ParseError(description: "\(text): expected an IP address with an optional :PORT")
        }
        guard let port = portPart.map({ Int($0) }) ?? defaultPort, (0...65535).contains(port) else {
            throw ParseError(description: "\(text): bad port")
        }
        host = hostPart == "localhost" ? "127.0.0.1" : String(hostPart)
        self.port = port
    }

    public init(address: SocketAddress) {
        host = address.ipAddress ?? "?"
        port = address.port ?? 0
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
