import Foundation
import NIOCore
import NIOHTTP1

extension FakeKubernetesAPIServer {
    struct Event: Sendable {
        var rv: Int
        var type: String
        /// The object without kind/apiVersion, as stored.
        var json: String
    }

    struct Item: Sendable {
        var key: String
        var json: String
    }

    struct Watch: Sendable {
        var serial: Int
        var resource: Resource
        var channel: Channel
        var bookmarks: Bool
        var keepAlive: Bool
    }

    struct HeldList: Sendable {
        var connection: Int
        var channel: Channel
        var resource: Resource
        var query: [String: String]
        var keepAlive: Bool
    }

    struct State: Sendable {
        /// One counter for all resources, like the etcd revision; a fresh etcd starts at 1.
        var resourceVersion = 1
        var compactedRevision = 0
        /// Per resource, "namespace/name" (or "name") → object JSON without kind/apiVersion.
        var objects: [Resource: [String: String]] = [:]
        var history: [Resource: [Event]] = [:]
        /// Paged lists' item snapshots by "resource@rv"; the state at one revision never changes.
        var snapshots: [String: [Item]] = [:]
        /// Lists encoded once up front (`prepareListPages`), and how many pages were served so.
        var preparedLists: [Resource: PreparedList] = [:]
        var preparedPagesServed = 0
        /// Open watches by connection (HTTP/1.1 has one request in flight per connection).
        var watches: [Int: Watch] = [:]
        var connections: [Int: Channel] = [:]
        var heldLists: [HeldList] = []
        var holdLists = false
        var failures: (count: Int, status: Int, retryAfter: Int?) = (0, 0, nil)
        var requiredToken: String?
        var goneMode: GoneMode = .errorEvent
        var requests: [RecordedRequest] = []
        var nextID = 0
        var stopped = false
    }

    /// All mutable state and protocol logic. Every write to a connection is queued with
    /// `eventLoop.execute` while the lock is held: that keeps events in revision order across
    /// threads, and never runs pipeline code (which may call back into `Core`) under the lock.
    final class Core: Sendable {
        let state = LockedBox(State())

        func nextID() -> Int { state.withLock { $0.nextID += 1; return $0.nextID } }

        /// False when the server is already stopped (the caller closes the connection).
        func connectionOpened(_ id: Int, _ channel: Channel) -> Bool {
            state.withLock { s in
                if s.stopped { return false }
                s.connections[id] = channel
                return true
            }
        }

        func connectionClosed(_ id: Int) {
            state.withLock { s in
                s.connections[id] = nil
                s.watches[id] = nil
                s.heldLists.removeAll { $0.connection == id }
            }
        }

        /// The connections to close, or nil when already stopped.
        func markStopped() -> [Channel]? {
            state.withLock { s in
                if s.stopped { return nil }
                s.stopped = true
                s.watches = [:]
                s.heldLists = []
                return Array(s.connections.values)
            }
        }

        // MARK: Mutations

        func put(_ resource: Resource, _ json: String) -> Int {
            guard var object = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any],
                var metadata = object["metadata"] as? [String: Any], let name = metadata["name"] as? String
            else { preconditionFailure("put(\(resource)): not a JSON object with metadata.name: \(json)") }
            let key = Self.key(namespace: metadata["namespace"] as? String, name: name)
            object["kind"] = nil  // added back per watch event, absent from list items
            object["apiVersion"] = nil
            if metadata["uid"] == nil { metadata["uid"] = FakeKubernetesAPIServer.uid("\(resource.kind)/\(key)") }
            if metadata["creationTimestamp"] == nil { metadata["creationTimestamp"] = FakeKubernetesAPIServer.created }
            return state.withLock { s in
                s.resourceVersion += 1
                metadata["resourceVersion"] = String(s.resourceVersion)
                object["metadata"] = metadata
                let text = Self.serialize(object)
                let type = s.objects[resource]?[key] == nil ? "ADDED" : "MODIFIED"
                s.objects[resource, default: [:]][key] = text
                Self.record(&s, resource, Event(rv: s.resourceVersion, type: type, json: text))
                return s.resourceVersion
            }
        }

        func delete(_ resource: Resource, key: String) -> Int {
            state.withLock { s in
                guard let text = s.objects[resource]?[key],
                    var object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                    var metadata = object["metadata"] as? [String: Any]
                else { return s.resourceVersion }
                s.resourceVersion += 1
                // The DELETED object is the last state, stamped with the deletion's revision.
                metadata["resourceVersion"] = String(s.resourceVersion)
                object["metadata"] = metadata
                s.objects[resource]?[key] = nil
                Self.record(&s, resource, Event(rv: s.resourceVersion, type: "DELETED", json: Self.serialize(object)))
                return s.resourceVersion
            }
        }

        private static func record(_ s: inout State, _ resource: Resource, _ event: Event) {
            s.history[resource, default: []].append(event)
            let line = Self.eventLine(event.type, Self.withKind(resource, event.json))
            for watch in s.watches.values where watch.resource == resource {
                Self.send(watch.channel, [Self.chunk(line)])
            }
        }

        func bookmark(_ resource: Resource) {
            state.withLock { s in
                let object = "{\"kind\":\"\(resource.kind)\",\"apiVersion\":\"\(resource.apiVersion)\","
                    + "\"metadata\":{\"resourceVersion\":\"\(s.resourceVersion)\"}}"
                for watch in s.watches.values where watch.resource == resource && watch.bookmarks {
                    Self.send(watch.channel, [Self.chunk(Self.eventLine("BOOKMARK", object))])
                }
            }
        }

        func setHoldLists(_ hold: Bool) {
            state.withLock { s in
                s.holdLists = hold
                guard !hold else { return }
                let held = s.heldLists
                s.heldLists = []
                for list in held {
                    Self.answerList(&s, list.resource, list.query, list.channel, keepAlive: list.keepAlive)
                }
            }
        }

        func finishWatches(_ resource: Resource?, cleanly: Bool) {
            state.withLock { s in
                for (connection, watch) in s.watches where resource == nil || watch.resource == resource {
                    s.watches[connection] = nil
                    Self.finish(watch, cleanly: cleanly)
                }
            }
        }

        /// The `timeoutSeconds` expiry of one particular watch (the connection may have moved on).
        private func endWatch(connection: Int, serial: Int) {
            state.withLock { s in
                guard let watch = s.watches[connection], watch.serial == serial else { return }
                s.watches[connection] = nil
                Self.finish(watch, cleanly: true)
            }
        }

        private static func finish(_ watch: Watch, cleanly: Bool) {
            let channel = watch.channel
            if cleanly {
                send(channel, [.end(nil)], thenClose: !watch.keepAlive)
            } else {
                channel.eventLoop.execute { channel.close(promise: nil) }
            }
        }

        // MARK: Requests

        func handle(_ head: HTTPRequestHead, connection: Int, channel: Channel) {
            state.withLock { s in
                guard !s.stopped else { return }
                let keepAlive = head.isKeepAlive
                let authorization = head.headers.first(name: "authorization")
                s.requests.append(RecordedRequest(
                    method: head.method.rawValue, uri: head.uri, authorization: authorization,
                    userAgent: head.headers.first(name: "user-agent")))
                if s.failures.count > 0 {
                    s.failures.count -= 1
                    let retry = s.failures.retryAfter.map { [("Retry-After", String($0))] } ?? []
                    Self.respondStatus(channel, s.failures.status, "injected failure", keepAlive, retry)
                    return
                }
                if let token = s.requiredToken, authorization != "Bearer \(token)" {
                    return Self.respondStatus(channel, 401, "Unauthorized", keepAlive)
                }
                guard head.method == .GET else {
                    return Self.respondStatus(
                        channel, 405, "the server does not allow this method on the requested resource", keepAlive)
                }
                let path = String(head.uri.prefix { $0 != "?" })
                guard let resource = Resource.allCases.first(where: { $0.path == path }) else {
                    return Self.respondStatus(channel, 404, "the server could not find the requested resource", keepAlive)
                }
                let query = FakeKubernetesAPIServer.parseQuery(head.uri)
                if query["watch"] == "true" || query["watch"] == "1" {
                    startWatch(&s, resource, query, connection, channel, keepAlive: keepAlive)
                } else if s.holdLists {
                    s.heldLists.append(HeldList(
                        connection: connection, channel: channel, resource: resource, query: query, keepAlive: keepAlive))
                } else {
                    Self.answerList(&s, resource, query, channel, keepAlive: keepAlive)
                }
            }
        }

        private static func answerList(
            _ s: inout State, _ resource: Resource, _ query: [String: String], _ channel: Channel, keepAlive: Bool
        ) {
            if let page = preparedPage(&s, resource, query) {
                return respond(channel, 200, page, keepAlive)
            }
            let limit = Int(query["limit"] ?? "") ?? 0
            var items: [Item]
            var listRV: Int
            if let token = query["continue"], !token.isEmpty {
                guard let position = decodeContinue(token) else {
                    return respondStatus(channel, 400, "continue key is not valid: \(token)", keepAlive)
                }
                guard let snapshot = s.snapshots["\(resource)@\(position.rv)"] else {
                    return respondStatus(channel, 410, expiredContinue, keepAlive)
                }
                items = snapshot.filter { $0.key >= position.start }
                listRV = position.rv
            } else {
                items = (s.objects[resource] ?? [:]).map { Item(key: $0.key, json: $0.value) }.sorted { $0.key < $1.key }
                listRV = s.resourceVersion
            }
            var metadata = "\"resourceVersion\":\"\(listRV)\""
            if limit > 0, items.count > limit {
                let last = items[limit - 1]
                if s.snapshots["\(resource)@\(listRV)"] == nil { s.snapshots["\(resource)@\(listRV)"] = items }
                // Like the real token: "start" is the key to resume at ("last key" + NUL).
                metadata += ",\"continue\":\"\(encodeContinue(rv: listRV, start: last.key + "\u{0}"))\""
                metadata += ",\"remainingItemCount\":\(items.count - limit)"
                items = Array(items.prefix(limit))
            }
            let body = "{\"kind\":\"\(resource.listKind)\",\"apiVersion\":\"\(resource.apiVersion)\","
                + "\"metadata\":{\(metadata)},\"items\":[\(items.map(\.json).joined(separator: ","))]}"
            respond(channel, 200, body, keepAlive)
        }

        private func startWatch(
            _ s: inout State, _ resource: Resource, _ query: [String: String], _ connection: Int, _ channel: Channel,
            keepAlive: Bool
        ) {
            let from = query["resourceVersion"] ?? ""
            var lines: [String]
            if from.isEmpty || from == "0" {
                // "Any" version: the current state as synthetic ADDED events, then live ones.
                lines = (s.objects[resource] ?? [:]).sorted { $0.key < $1.key }.map {
                    Self.eventLine("ADDED", Self.withKind(resource, $0.value))
                }
            } else {
                guard let rv = Int(from), rv >= 0 else {
                    return Self.respondStatus(channel, 400, "resourceVersion: Invalid value: \"\(from)\"", keepAlive)
                }
                if rv < s.compactedRevision {
                    let status = Self.statusJSON(410, "too old resource version: \(rv) (\(s.compactedRevision))")
                    switch s.goneMode {
                    case .httpStatus:
                        Self.respond(channel, 410, status, keepAlive)
                    case .errorEvent:
                        Self.send(
                            channel, [Self.streamHead(keepAlive), Self.chunk(Self.eventLine("ERROR", status)), .end(nil)],
                            thenClose: !keepAlive)
                    }
                    return
                }
                lines = (s.history[resource] ?? []).filter { $0.rv > rv }.map {
                    Self.eventLine($0.type, Self.withKind(resource, $0.json))
                }
            }
            s.nextID += 1
            let serial = s.nextID
            let bookmarks = query["allowWatchBookmarks"] == "true" || query["allowWatchBookmarks"] == "1"
            s.watches[connection] = Watch(
                serial: serial, resource: resource, channel: channel, bookmarks: bookmarks, keepAlive: keepAlive)
            Self.send(channel, [Self.streamHead(keepAlive)] + lines.map(Self.chunk))
            if let seconds = Int(query["timeoutSeconds"] ?? ""), seconds > 0 {
                channel.eventLoop.scheduleTask(in: .seconds(Int64(seconds))) { [self] in
                    endWatch(connection: connection, serial: serial)
                }
            }
        }
    }
}

/// One per connection: collects a request and hands it to `Core`, which answers through the
/// channel (so held lists and watch events can be written later from any thread).
final class FakeAPIHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let core: FakeKubernetesAPIServer.Core
    private let connection: Int
    private var head: HTTPRequestHead?

    init(core: FakeKubernetesAPIServer.Core) {
        self.core = core
        self.connection = core.nextID()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if !core.connectionOpened(connection, context.channel) { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        core.connectionClosed(connection)
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break  // GET only; bodies of other methods are irrelevant to the 405
        case .end:
            if let head { core.handle(head, connection: connection, channel: context.channel) }
            head = nil
        }
    }

    /// Resets, TLS alerts, parse errors (already answered by the HTTP error handler): hang up.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}

@available(*, unavailable)
extension FakeAPIHandler: Sendable {}
