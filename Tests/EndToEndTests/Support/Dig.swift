import Foundation

/// One resource record as `dig` prints it, with the rdata's fields joined by single spaces.
struct DigRecord: Equatable, CustomStringConvertible {
    var owner: String
    var ttl: Int
    var rrClass: String
    var type: String
    var rdata: String

    var description: String { "\(owner) \(ttl) \(rrClass) \(type) \(rdata)" }
}

/// The parts of a `dig +noall +comments +answer +authority +additional +stats` transcript the
/// tests compare.
struct DigReply: CustomStringConvertible {
    var status = ""
    var flags: Set<String> = []
    var answer: [DigRecord] = []
    var authority: [DigRecord] = []
    var additional: [DigRecord] = []
    /// The UDP payload size the server advertised in its OPT record, if it sent one.
    var ednsUDPSize: Int?
    var messageSize: Int?
    /// "UDP" or "TCP": the transport of the reply dig printed (after any TC retry).
    var transport = ""
    var transcript = ""

    var isAuthoritative: Bool { flags.contains("aa") }
    var isTruncated: Bool { flags.contains("tc") }
    var description: String { transcript }

    /// The rdata of the answer records of `type`, sorted (RRsets are sets).
    func answers(_ type: String) -> [String] {
        answer.filter { $0.type == type }.map(\.rdata).sorted()
    }

    init(parsing text: String) {
        transcript = text
        var section: WritableKeyPath<DigReply, [DigRecord]>?
        for line in text.split(separator: "\n").map(String.init) {
            if line.contains("->>HEADER<<-") {
                status = Self.field(after: "status: ", in: line, until: ",") ?? ""
                answer = []; authority = []; additional = []  // a TC retry prints a second reply
            } else if line.hasPrefix(";; flags:") {
                let list = Self.field(after: ";; flags:", in: line, until: ";") ?? ""
                flags = Set(list.split(separator: " ").map(String.init))
            } else if line.hasPrefix("; EDNS:") {
                ednsUDPSize = (Self.field(after: "udp: ", in: line, until: " ")).flatMap { Int($0) }
            } else if line.hasPrefix(";; MSG SIZE") {
                messageSize = Self.field(after: "rcvd: ", in: line, until: " ").flatMap { Int($0) }
            } else if line.hasPrefix(";; SERVER:") {
                transport = line.hasSuffix("(TCP)") ? "TCP" : "UDP"
            } else if line.hasPrefix(";; ") && (line.hasSuffix("SECTION:") || line.hasSuffix("PSEUDOSECTION:")) {
                switch line {
                case ";; ANSWER SECTION:": section = \.answer
                case ";; AUTHORITY SECTION:": section = \.authority
                case ";; ADDITIONAL SECTION:": section = \.additional
                default: section = nil
                }
            } else if !line.hasPrefix(";"), let section, let record = Self.record(line) {
                self[keyPath: section].append(record)
            }
        }
    }

    private static func field(after marker: String, in line: String, until end: Character) -> String? {
        guard let range = line.range(of: marker) else { return nil }
        return String(line[range.upperBound...].prefix { $0 != end }).trimmingCharacters(in: .whitespaces)
    }

    private static func record(_ line: String) -> DigRecord? {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count >= 4, let ttl = Int(fields[1]) else { return nil }
        return DigRecord(
            owner: fields[0], ttl: ttl, rrClass: fields[2], type: fields[3],
            rdata: fields.dropFirst(4).joined(separator: " "))
    }
}

/// `dig` against one server. Every query sets `+tries=1` so a dead server fails fast.
struct Dig {
    enum Transport: String, CaseIterable {
        case udp, tcp
    }

    let host: String
    let port: Int
    /// A command dig runs under, e.g. `ip netns exec NAME` to ask from inside a namespace.
    var prefix: [String] = []

    struct NoReply: Error, CustomStringConvertible {
        var description: String
    }

    private var base: [String] { ["@\(host)", "-p", "\(port)", "+tries=1", "+time=3"] }

    /// Full reply; `options` are extra dig flags (`+noedns`, `+bufsize=4096`, `+ignore`, …).
    func query(
        _ name: String, _ type: String = "A", over transport: Transport = .udp, options: [String] = []
    ) throws -> DigReply {
        let sections = ["+noall", "+comments", "+answer", "+authority", "+additional", "+stats"]
        let tcp = transport == .tcp ? ["+tcp"] : []
        let result = try run(base + sections + tcp + options + [name, type])
        let reply = DigReply(parsing: result.stdout)
        guard !reply.status.isEmpty else {
            throw NoReply(description: "dig \(name) \(type) over \(transport): no reply\n\(result.stdout)\(result.stderr)")
        }
        return reply
    }

    /// A reverse lookup (`dig -x ADDRESS`).
    func reverse(_ address: String, over transport: Transport = .udp) throws -> DigReply {
        try query("-x", address, over: transport)
    }

    /// `dig +short`: the answer rdata only, sorted.
    func short(_ name: String, _ type: String = "A", over transport: Transport = .udp) throws -> [String] {
        let tcp = transport == .tcp ? ["+tcp"] : []
        return try run(base + ["+short"] + tcp + [name, type]).lines.sorted()
    }

    private func run(_ arguments: [String]) throws -> CommandResult {
        let command = prefix + ["dig"] + arguments
        let result = try Subprocess.run(command[0], Array(command.dropFirst()), timeout: 15)
        guard result.status == 0, !result.timedOut else {
            throw NoReply(description: "dig \(arguments.joined(separator: " ")) exited \(result.status)"
                + "\(result.timedOut ? " (timed out)" : "")\n\(result.stdout)\(result.stderr)")
        }
        return result
    }
}
