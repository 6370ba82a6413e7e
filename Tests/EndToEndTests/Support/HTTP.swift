import Foundation

/// One HTTP/1.1 GET over `RawSocket`; the probe server closes the connection after replying.
enum HTTP {
    struct Response {
        var status: Int
        var body: String
    }

    static func get(_ path: String, host: String, port: Int) throws -> Response {
        let socket = try RawSocket(.tcp, host: host, port: port)
        try socket.send(Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\n\r\n".utf8))
        var received: [UInt8] = []
        while let chunk = socket.receive(timeout: 5000), !chunk.isEmpty { received += chunk }
        let text = String(decoding: received, as: UTF8.self)
        let statusLine = text.prefix { $0 != "\r" }.split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else {
            throw CommandFailure(description: "no HTTP reply from \(host):\(port)\(path): \(text)")
        }
        let body = text.range(of: "\r\n\r\n").map { String(text[$0.upperBound...]) } ?? ""
        return Response(status: status, body: body)
    }
}
