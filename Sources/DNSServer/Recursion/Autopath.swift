import ClusterRegistry
import DNSResponder
import DNSWire
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Search-path relief (`--autopath`, CoreDNS's autopath without pod watches): a pod with
/// `ndots:5` asks `name.<its ns>.svc.<zone>` first; when that misses, we walk the rest of the
/// pod's search list (`name.svc.<zone>`, `name.<zone>`, then `name` itself upstream) and answer
/// with a CNAME to the first name that has records, plus those records — one round trip
/// instead of four or more. Only for clients whose IP is a Pod in the registry.
///
/// Trade-off: a miss from a pod costs the server a few extra lookups (cheap in-zone, one
/// upstream query for the bare name), and the pod sees a CNAME it did not ask for; the node's
/// own search domains (after the cluster ones) are unknown to us and are skipped.
struct Autopath: Sendable {
    let responder: Responder
    let resolver: Resolver

    /// The reply to send instead of NXDOMAIN, or nil to keep the NXDOMAIN.
    func complete(
        _ packet: UnsafeRawBufferPointer, nxdomain: [UInt8], snapshot: RegistrySnapshot, client: sockaddr_storage, sizeLimit: Int
    ) -> QueryOutcome? {
        guard let address = IPAddress(socketAddress: client),
              let namespace = snapshot.podNamespaces[address],
              let request = try? DNSMessage(decoding: Array(packet)),
              let question = request.questions.first,
              let firstDomain = try? snapshot.configuration.domain.prepending(labels: Self.labels(namespace, "svc")),
              question.name.isSubdomain(of: firstDomain), question.name != firstDomain
        else { return nil }
        let prefix = Array(question.name.labels.dropLast(firstDomain.labelCount))
        let domain = snapshot.configuration.domain
        let inZone = [try? domain.prepending(labels: prefix + Self.labels("svc")), try? domain.prepending(labels: prefix)]
        for case let candidate? in inZone {
            if let answers = answersInZone(candidate, question.type, request: request, snapshot: snapshot) {
                return .owned(compose(request, question, candidate, answers, ttl: snapshot.configuration.ttl, fallback: nxdomain, sizeLimit: sizeLimit), source: .kubernetes)
            }
        }
        guard resolver.mayRecurse(client), let bare = try? DomainName(labels: prefix) else { return nil }
        let forwarder = bare.lowercasedWire.withUnsafeBytes { resolver.router.forwarder(for: $0) }
        guard forwarder.isEnabled else { return nil }
        var upstreamQuery = DNSMessage(questions: [DNSQuestion(name: bare, type: question.type)], edns: EDNSRecord(udpPayloadSize: 1232))
        upstreamQuery.header[.recursionDesired] = true
        let queryBytes = upstreamQuery.encoded()
        let ttl = snapshot.configuration.ttl
        let answer = forwarder.resolving(queryBytes, udpLimit: 65535).map { bytes -> [UInt8]? in
            guard let reply = try? DNSMessage(decoding: bytes), reply.responseCode == .noError else { return nxdomain }
            // NOERROR even without records: the name exists, so the client's search ends here too.
            return compose(request, question, bare, reply.answers, ttl: ttl, fallback: nxdomain, sizeLimit: sizeLimit)
        }
        return .later(answer.recover { _ in nxdomain })
    }

    private static func labels(_ parts: String...) -> [ArraySlice<UInt8>] { parts.map { Array($0.utf8)[...] } }

    /// Answers for `name` from our own zones, when it has records of `type` (or a CNAME).
    private func answersInZone(_ name: DomainName, _ type: RecordType, request: DNSMessage, snapshot: RegistrySnapshot) -> [ResourceRecord]? {
        var query = DNSMessage(questions: [DNSQuestion(name: name, type: type)])
        query.header.id = request.header.id
        let scratch = ResponseScratch()
        let outcome = query.encoded().withUnsafeBytes {
            responder.respond(to: $0, snapshot: snapshot, transport: .tcp, scratch: scratch)
        }
        guard case .reply(let length, .noError) = outcome, let reply = try? DNSMessage(decoding: scratch.bytes(length)),
              !reply.answers.isEmpty
        else { return nil }
        return reply.answers
    }

    /// `qname CNAME target` followed by the target's answers, in the client's question.
    private func compose(
        _ request: DNSMessage, _ question: DNSQuestion, _ target: DomainName, _ answers: [ResourceRecord], ttl: UInt32,
        fallback: [UInt8], sizeLimit: Int
    ) -> [UInt8] {
        var reply = DNSMessage(header: request.header, questions: [question], edns: request.edns.map { _ in EDNSRecord(udpPayloadSize: 1232) })
        reply.header[.response] = true
        reply.header[.recursionAvailable] = true
        reply.header[.authoritative] = false
        reply.header.rcodeLow = 0
        reply.answers = [ResourceRecord(name: question.name, ttl: ttl, data: .cname(target))] + answers
        let bytes = reply.encoded()
        return bytes.count <= sizeLimit ? bytes : fallback
    }
}
