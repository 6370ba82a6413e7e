import ArgumentParser
import ClusterRegistry
import DNSResponder
import DNSWire
import Foundation
import KubernetesSource
import Logging
import NIOPosix

/// `clusterdns explain NAME [TYPE]`: the answer ClusterDNS gives a name, each record with the
/// object and field it comes from, and for NXDOMAIN or NODATA the reason in words; with
/// `--search`, every query a glibc client would send for the name, in order (issue #12).
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Show the answer for a name, where each record comes from, and why a name does not resolve.")

    @Argument(help: "The name a client asks for: a full name, or a short one with --search.")
    var name: String

    @Argument(help: "Record type (A, AAAA, SRV, PTR, TXT, CNAME, …).")
    var type = "A"

    @Option(help: "A pod's resolv.conf search line, e.g. \"myns.svc.cluster.local svc.cluster.local cluster.local\": list the queries a glibc client sends, in order, and which one answers.")
    var search: String?

    @Option(help: "resolv.conf ndots with --search (Kubernetes pods have 5).")
    var ndots = 5

    @Flag(help: "Print JSON for tools.")
    var json = false

    @OptionGroup var registry: RegistryOptions
    @OptionGroup var kubernetes: KubernetesOptions

    func run() async throws {
        guard let recordType = RecordType(mnemonic: type) else { throw ValidationError("\(type) is not a record type") }
        let loaded = try await load()
        let queries = try Self.searchOrder(name, search: search, ndots: ndots)
        let explainer = RegistryExplainer(loaded.registry)
        let responder = Responder(options: ResponderOptions(recursionAvailable: true, shuffle: false))
        var report = ExplainReport(name: name, type: recordType.description, search: search.map(Self.domains), ndots: search == nil ? nil : ndots)
        for query in queries {
            let explained = Self.explain(query, type: recordType, snapshot: loaded.snapshot, responder: responder, explainer: explainer)
            report.queries.append(explained)
            // glibc's res_search stops at the first answer; NXDOMAIN, NODATA and SERVFAIL go on.
            if explained.answered || explained.forwarded { break }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
        }
    }

    // MARK: - The search path

    private static func domains(_ line: String) -> [String] {
        line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "," }).map(String.init)
    }

    /// The names a glibc stub asks for `name`, in order (res_nsearch): an absolute name alone;
    /// with at least `ndots` dots the name as given first, then each search domain; with fewer,
    /// each search domain first and the name as given last.
    static func searchOrder(_ name: String, search: String?, ndots: Int) throws -> [DomainName] {
        func parse(_ text: String) throws -> DomainName {
            guard let parsed = try? DomainName(text), !parsed.isRoot else { throw ValidationError("\(text) is not a domain name") }
            return parsed
        }
        guard let search, !name.hasSuffix(".") else { return [try parse(name)] }
        let expanded = try domains(search).map { try parse(name + "." + $0) }
        let asGiven = try parse(name)
        return name.filter { $0 == "." }.count >= ndots ? [asGiven] + expanded : expanded + [asGiven]
    }

    // MARK: - One query

    static func explain(
        _ name: DomainName, type: RecordType, snapshot: RegistrySnapshot, responder: Responder, explainer: RegistryExplainer
    ) -> ExplainedQuery {
        var explained = ExplainedQuery(name: "\(name)", type: type.description)
        var request = DNSMessage(questions: [DNSQuestion(name: name, type: type)])
        request.header.id = 1
        request.header[.recursionDesired] = true
        let scratch = ResponseScratch()
        let outcome = request.encoded().withUnsafeBytes { responder.respond(to: $0, snapshot: snapshot, transport: .tcp, scratch: scratch) }
        switch outcome {
        case .drop:
            explained.outcome = "dropped"
        case .forward:
            explained.outcome = "forwarded"
            explained.forwarded = true
            let zone = name.lowercased().wire.withUnsafeBytes { snapshot.zoneIndex(containing: $0) }.map { snapshot.zones[$0] }
            switch zone?.kind {
            case nil: explained.why = ["outside our zones: forwarded to the upstreams (and cached); a pod stops here if they answer"]
            case .alias?: explained.why = ["not an alias of any Service below \(zone!.apex): forwarded to the upstreams"]
            default: explained.why = ["a reverse name we do not hold: forwarded to the upstreams"]
            }
        case .reply(let length, let rcode):
            explain(reply: scratch.bytes(length), rcode: rcode, into: &explained, name: name, type: type, explainer: explainer)
        case .chase(let length, let target, _, _):
            explain(reply: scratch.bytes(length), rcode: .noError, into: &explained, name: name, type: type, explainer: explainer)
            explained.why.append("the CNAME target \(target) is outside our zones: the server resolves it upstream and appends its records")
            explained.forwarded = true
        }
        return explained
    }

    private static func explain(
        reply: [UInt8], rcode: ResponseCode, into explained: inout ExplainedQuery, name: DomainName, type: RecordType,
        explainer: RegistryExplainer
    ) {
        explained.outcome = rcode == .nxDomain ? "NXDOMAIN" : rcode == .noError ? "NOERROR" : rcode == .servFail ? "SERVFAIL" : "\(rcode)"
        guard let message = try? DNSMessage(decoding: reply) else { return }
        explained.answers = message.answers.map { record in
            ExplainedRecord(record: Self.line(record), from: explainer.origin(of: record))
        }
        explained.answered = rcode == .noError && !message.answers.isEmpty
        if rcode == .servFail {
            explained.why = ["the Kubernetes API has not been listed yet: cluster names are SERVFAIL until it is"]
        } else if !explained.answered {
            let exists = rcode == .noError
            explained.why = explainer.whyNoAnswer(name, type: type, nameExists: exists)
        }
    }

    private static func line(_ record: ResourceRecord) -> String {
        RecordPresentation.line(record).split(whereSeparator: { $0 == "\t" || $0 == " " }).joined(separator: " ")
    }

    // MARK: - Loading

    private func load() async throws -> (snapshot: RegistrySnapshot, registry: SegmentedRegistry) {
        guard kubernetes.enabled else {
            let result = try registry.load()
            return (result.snapshot, result.registry)
        }
        // One full list of a live cluster, then the registry is built as `serve` builds it.
        let configuration = try registry.configuration()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let loaded = try await list(configuration, group: group)
            try await group.shutdownGracefully()
            return loaded
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func list(
        _ configuration: RegistryConfiguration, group: MultiThreadedEventLoopGroup
    ) async throws -> (snapshot: RegistrySnapshot, registry: SegmentedRegistry) {
        var resources = KubernetesResource.needed(podsVerified: configuration.pods == .verified, autopath: false)
        if configuration.multicluster != nil {
            resources.append(kubernetes.multiclusterAPIVersion == "v1alpha1" ? .serviceImportsV1alpha1 : .serviceImports)
        }
        let watcher = try KubernetesWatcher(
            connection: try kubernetes.connection(), resources: resources, group: group,
            logger: Logger(label: "clusterdns.kubernetes"))
        watcher.start()
        let deadline = Date().addingTimeInterval(60)
        while !watcher.store.isSynced {
            guard Date() < deadline else {
                await watcher.stop()
                throw ValidationError("the Kubernetes API was not listed within 60 s")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        var source = KubernetesRegistrySource(store: watcher.store, zones: registry.zones, configuration: configuration)
        _ = source.load(force: true)
        await watcher.stop()
        return (source.registry.snapshot(), source.registry)
    }
}

/// What `explain` found, for people (`text`) and tools (JSON).
struct ExplainReport: Encodable {
    var name: String
    var type: String
    var search: [String]?
    var ndots: Int?
    var queries: [ExplainedQuery] = []

    var text: String {
        var out = ""
        if let search {
            out += "A glibc client (ndots \(ndots ?? 5), search \(search.joined(separator: " "))) asks for \(name) \(type):\n"
        }
        for (index, query) in queries.enumerated() {
            let number = search == nil ? "" : "\(index + 1). "
            out += "\(number)\(query.name) \(query.type): \(query.outcome)"
            out += query.answered ? (search == nil ? "\n" : ", answers\n") : "\n"
            for answer in query.answers {
                out += "  \(answer.record)\n    from \(answer.from)\n"
            }
            for reason in query.why { out += "  why: \(reason)\n" }
        }
        if search != nil, !queries.contains(where: { $0.answered || $0.forwarded }) {
            out += "No query answers: the client gets the last error.\n"
        }
        return out
    }
}

struct ExplainedQuery: Encodable {
    var name: String
    var type: String
    var outcome = ""
    var answered = false
    var forwarded = false
    var answers: [ExplainedRecord] = []
    var why: [String] = []
}

struct ExplainedRecord: Encodable {
    var record: String
    var from: String
}
