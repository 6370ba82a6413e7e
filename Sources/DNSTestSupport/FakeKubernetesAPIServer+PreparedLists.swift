import NIOCore
import NIOHTTP1

extension FakeKubernetesAPIServer {
    /// Every page of one resource's list at one revision, encoded once, by continue token
    /// ("" for the first page).
    struct PreparedList: Sendable {
        var resourceVersion: Int
        var limit: Int
        var pages: [String: ByteBuffer]
    }

    /// Encodes every resource's list, paged by `limit`, once: list requests with that `limit`
    /// are then answered with these bytes, so a measurement times the client and not this
    /// server's encoding. The first page is served so while nothing has changed since; its
    /// continue tokens stay valid after a change, as a snapshot's do. Cleared by `compact()`.
    public func prepareListPages(limit: Int) {
        precondition(limit > 0, "prepareListPages: limit must be positive")
        core.state.withLock { s in
            for (resource, objects) in s.objects {
                s.preparedLists[resource] = Core.prepare(resource, objects, at: s.resourceVersion, limit: limit)
            }
        }
    }

    /// List pages answered from `prepareListPages` so far.
    public var preparedPagesServed: Int { core.state.withLock { $0.preparedPagesServed } }
}

extension FakeKubernetesAPIServer.Core {
    static func prepare(
        _ resource: Resource, _ objects: [String: String], at resourceVersion: Int, limit: Int
    ) -> FakeKubernetesAPIServer.PreparedList {
        let items = objects.sorted { $0.key < $1.key }
        var pages: [String: ByteBuffer] = [:]
        var token = ""
        for start in stride(from: 0, to: max(items.count, 1), by: limit) {
            let page = items[start..<min(items.count, start + limit)]
            var metadata = "\"resourceVersion\":\"\(resourceVersion)\""
            var next = ""
            if let last = page.last, start + limit < items.count {
                // The real token's shape: resume at "last key" + NUL (see answerList).
                next = encodeContinue(rv: resourceVersion, start: last.key + "\u{0}")
                metadata += ",\"continue\":\"\(next)\",\"remainingItemCount\":\(items.count - start - limit)"
            }
            var body = ByteBuffer()
            body.reserveCapacity(page.reduce(256) { $0 + $1.value.utf8.count + 1 })
            body.writeString("{\"kind\":\"\(resource.listKind)\",\"apiVersion\":\"\(resource.apiVersion)\",")
            body.writeString("\"metadata\":{\(metadata)},\"items\":[")
            for (index, item) in page.enumerated() {
                if index > 0 { body.writeString(",") }
                body.writeString(item.value)
            }
            body.writeString("]}")
            pages[token] = body
            token = next
        }
        return FakeKubernetesAPIServer.PreparedList(resourceVersion: resourceVersion, limit: limit, pages: pages)
    }

    /// The prepared page this list request asks for, if there is one.
    static func preparedPage(_ s: inout FakeKubernetesAPIServer.State, _ resource: Resource, _ query: [String: String]) -> ByteBuffer? {
        guard let list = s.preparedLists[resource], Int(query["limit"] ?? "") == list.limit else { return nil }
        let token = query["continue"] ?? ""
        if token.isEmpty, s.resourceVersion != list.resourceVersion { return nil }  // changed since: list afresh
        guard let page = list.pages[token] else { return nil }
        s.preparedPagesServed += 1
        return page
    }

    static func respond(_ channel: Channel, _ status: Int, _ body: ByteBuffer, _ keepAlive: Bool) {
        var headers: HTTPHeaders = [
            "Content-Type": "application/json", "Content-Length": String(body.readableBytes),
            "Cache-Control": "no-cache, private",
        ]
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: .http1_1, status: HTTPResponseStatus(statusCode: status), headers: headers)
        send(channel, [.head(head), .body(.byteBuffer(body)), .end(nil)], thenClose: !keepAlive)
    }
}
