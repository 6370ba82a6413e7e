import DNSTestSupport
import DNSWire
import NIOCore
@testable import DNSServer
import XCTest

/// The resolver's pure parts: upstream health and order, access control, resolv.conf, and the
/// cache's bookkeeping (eviction, prefetch, TTLs) without any network.
final class ResolverPartsTests: XCTestCase {
    private func addresses(_ count: Int) throws -> [SocketAddress] {
        try (0..<count).map { try SocketAddress(ipAddress: "127.0.0.\($0 + 1)", port: 53) }
    }

    func testFailingUpstreamsAreSkippedForAWhileAndLoopingOnesForever() throws {
        let set = UpstreamSet(addresses: try addresses(3), policy: .sequential)
        let now = NIODeadline.now()
        XCTAssertEqual(set.attemptOrder(now: now), [0, 1, 2])
        set.recordFailure(0, now: now)
        XCTAssertEqual(set.attemptOrder(now: now), [0, 1, 2], "one failure is not enough to skip")
        set.recordFailure(0, now: now)
        XCTAssertEqual(set.attemptOrder(now: now), [1, 2, 0], "skipped upstreams go last")
        XCTAssertEqual(set.attemptOrder(now: now + .seconds(6)), [0, 1, 2], "tried again after the pause")
        set.recordSuccess(0)
        set.markLooping(1)
        XCTAssertEqual(set.attemptOrder(now: now), [0, 2])
        XCTAssertFalse(set.isHealthy(1))
    }

    func testRandomPolicySpreadsTheFirstChoice() throws {
        let set = UpstreamSet(addresses: try addresses(3), policy: .random)
        let firsts = Set((0..<200).compactMap { _ in set.attemptOrder().first })
        XCTAssertEqual(firsts, [0, 1, 2])
    }

    func testAccessControlMatchesPrefixesOfBothFamilies() throws {
        let acl = AccessControl.privateNetworks
        for allowed in ["127.0.0.1", "10.1.2.3", "172.31.255.255", "192.168.0.1", "100.64.0.9", "::1", "fd00::5", "::ffff:10.0.0.1"] {
            XCTAssertTrue(acl.allows(try XCTUnwrap(IPAddress(allowed))), allowed)
        }
        for refused in ["8.8.8.8", "172.32.0.1", "192.169.0.1", "2001:db8::1", "::ffff:8.8.8.8"] {
            XCTAssertFalse(acl.allows(try XCTUnwrap(IPAddress(refused))), refused)
        }
        XCTAssertNil(AccessControl.Network("10.0.0.0/33"))
        XCTAssertTrue(try XCTUnwrap(AccessControl.Network("0.0.0.0/0")).contains(try XCTUnwrap(IPAddress("1.2.3.4"))))
    }

    func testResolvConfNameservers() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("resolv-\(UUID()).conf")
        try """
            # comment
            search example.com
            nameserver 10.0.0.53
            nameserver  fd00::53
            nameserver fe80::1%eth0
            options ndots:5
            """.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        XCTAssertEqual(ResolvConf.nameservers(path: file.path).map(\.description), ["10.0.0.53", "fd00::53"])
        XCTAssertEqual(ResolvConf.nameservers(path: "/nonexistent/resolv.conf"), [])
    }

    private func reply(_ name: String, ttl: UInt32, id: UInt16 = 7) throws -> (ResponseCache.Key, [UInt8]) {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
        message.header.id = id
        message.header[.response] = true
        message.answers = [ResourceRecord(name: try DomainName(name), ttl: ttl, data: .a(IPAddress("10.0.0.1")!))]
        let key = ResponseCache.Key(
            name: try DomainName(name).lowercasedWire, type: .a, recordClass: .in, edns: false, dnssecOK: false,
            checkingDisabled: false)
        return (key, message.encoded())
    }

    func testCacheEvictsUnusedEntriesFirstAndAsksToPrefetchPopularOnes() throws {
        let cache = ResponseCache(settings: .init(capacity: 2, maxTTL: 100))
        let now = NIODeadline.now()
        let (hotKey, hot) = try reply("hot.example", ttl: 10)
        let (coldKey, cold) = try reply("cold.example", ttl: 10)
        let (newKey, new) = try reply("new.example", ttl: 10)
        cache.store(hotKey, reply: hot, now: now)
        cache.store(coldKey, reply: cold, now: now)
        let questionEnd = hot.count - 16  // header + question; the A record is 16 bytes
        if case .miss = hot.withUnsafeBytes({ cache.lookup(hotKey, request: $0, questionEnd: questionEnd, now: now) }) {
            XCTFail("fresh entry missed")
        }
        cache.store(newKey, reply: new, now: now)  // full: the unused entry goes, not the one just read
        XCTAssertEqual(cache.count, 2)
        if case .hit = cold.withUnsafeBytes({ cache.lookup(coldKey, request: $0, questionEnd: questionEnd, now: now) }) {
            XCTFail("the unused entry survived eviction")
        }
        // Popular (second hit) and in its last tenth of life: prefetch once.
        let late = now + .seconds(9) + .milliseconds(500)
        guard case .hit(let bytes, let prefetch) = hot.withUnsafeBytes({ cache.lookup(hotKey, request: $0, questionEnd: questionEnd, now: late) })
        else { return XCTFail("entry missed before expiry") }
        XCTAssertTrue(prefetch)
        XCTAssertEqual(try DNSMessage(decoding: bytes).answers.first?.ttl, 1, "TTL counted down")
        guard case .hit(_, let again) = hot.withUnsafeBytes({ cache.lookup(hotKey, request: $0, questionEnd: questionEnd, now: late) })
        else { return XCTFail("entry missed before expiry") }
        XCTAssertFalse(again, "prefetch asked twice")
        XCTAssertNotNil(hot.withUnsafeBytes { cache.stale(hotKey, request: $0, questionEnd: questionEnd, now: now + .seconds(60)) })
    }

    /// A reply cut for a small client carries the client's ID, TC, exactly the query's one
    /// question and an OPT, whatever header the upstream sent, even none (Fuzz/'s
    /// forwarder-reply target found the short reply keeping the upstream's ID).
    func testTruncatedReplyCarriesTheClientsIDAndOneQuestion() throws {
        var query = DNSMessage(
            questions: [DNSQuestion(name: try DomainName("www.example.com"), type: .a)], edns: EDNSRecord(udpPayloadSize: 1232))
        query.header.id = 0x1234
        let bytes = query.encoded()
        for reply: [UInt8] in [[], [0xAB, 0xCD, 0x81], [0xAB, 0xCD, 0x81, 0x80, 0, 0, 0, 5, 0, 0, 0, 0]] {
            let cut = try DNSMessage(decoding: UpstreamExchange.truncated(reply, query: bytes, payload: 512))
            XCTAssertEqual(cut.header.id, 0x1234, "\(reply)")
            XCTAssertTrue(cut.header[.truncated], "\(reply)")
            XCTAssertTrue(cut.header[.response], "\(reply)")
            XCTAssertEqual(cut.questions.map(\.name.description), ["www.example.com."], "\(reply)")
            XCTAssertTrue(cut.answers.isEmpty, "\(reply)")
            XCTAssertEqual(cut.edns?.udpPayloadSize, 512, "\(reply)")
        }
    }

    /// A full cache's new entry takes the evicted entry's ring slot, behind the hand: the
    /// hand reaches it last, and an entry whose second chance is spent goes before it. (The
    /// ring used to drop the evicted slot and append the new key, moving every key after it,
    /// which also put the newest entry next in line.)
    func testFullCacheReplacesEntriesInPlaceInClockOrder() throws {
        let cache = ResponseCache(settings: .init(capacity: 4, maxTTL: 100))
        let now = NIODeadline.now()
        var replies: [String: (ResponseCache.Key, [UInt8])] = [:]
        for name in ["a", "b", "c", "d", "e", "f", "g", "h"] { replies[name] = try reply("\(name).example", ttl: 60) }
        func store(_ name: String) { cache.store(replies[name]!.0, reply: replies[name]!.1, now: now) }
        func cached(_ name: String) -> Bool {
            let (key, bytes) = replies[name]!
            guard case .hit = bytes.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: bytes.count - 16, now: now) })
            else { return false }
            return true
        }
        for name in ["a", "b", "c", "d"] { store(name) }
        XCTAssertTrue(cached("a"))  // a's second chance
        store("e")
        XCTAssertEqual(["a", "b", "c", "d", "e"].map(cached), [true, false, true, true, true])
        // Those lookups referenced a, c, d and e again: the hand (at c) clears them all and
        // comes round to c. The ring is now a e f d.
        store("f")
        XCTAssertEqual(["a", "c", "d", "e", "f"].map(cached), [true, false, true, true, true])
        // g clears d a e f and takes d's slot; h finds a unread since, before the newer e.
        for name in ["g", "h"] { store(name) }
        XCTAssertEqual(cache.count, 4)
        XCTAssertEqual(["a", "e", "f", "g", "h"].map(cached), [false, true, true, true, true])
    }

    /// Seeded: whatever mix of stores and reads, the cache holds at most its capacity and the
    /// entry just stored is always there.
    func testFullCacheStaysWithinCapacityAndKeepsTheNewestEntry() throws {
        let cache = ResponseCache(settings: .init(capacity: 16, maxTTL: 100))
        let now = NIODeadline.now()
        var generator = SplitMix64(seed: 7)
        let entries = try (0..<200).map { try reply("n\($0).example", ttl: 60) }
        for _ in 0..<5_000 {
            let (key, bytes) = entries[Int(generator.next() % 200)]
            if generator.next() % 3 == 0 {
                _ = bytes.withUnsafeBytes { cache.lookup(key, request: $0, questionEnd: bytes.count - 16, now: now) }
                continue
            }
            cache.store(key, reply: bytes, now: now)
            XCTAssertLessThanOrEqual(cache.count, 16)
            guard case .hit = bytes.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: bytes.count - 16, now: now) })
            else { return XCTFail("the entry just stored is missing") }
        }
    }

    /// The datagram thread's lookup writes the same reply the ordinary one returns, into the
    /// caller's buffer, through a key that borrows the query's name and is never stored.
    func testLookupIntoABufferMatchesTheOrdinaryLookup() throws {
        let cache = ResponseCache(settings: .init(maxTTL: 100))
        let now = NIODeadline.now()
        let (key, stored) = try reply("web.example", ttl: 30, id: 1)
        cache.store(key, reply: stored, now: now)
        // The client's own ID and spelling.
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName("WEB.Example"), type: .a)])
        message.header.id = 4242
        let request = message.encoded()
        let questionEnd = request.count
        let later = now + .seconds(12)
        guard case .hit(let ordinary, _) = request.withUnsafeBytes({ cache.lookup(key, request: $0, questionEnd: questionEnd, now: later) })
        else { return XCTFail("missed") }
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: 512, alignment: 8)
        defer { output.deallocate() }
        var name = try DomainName("web.example").lowercasedWire
        let fast = request.withUnsafeBytes { request in
            name.withUnsafeBytes { name in
                cache.lookup(
                    ResponseCache.Key(borrowing: name, type: .a, recordClass: .in, edns: false, dnssecOK: false, checkingDisabled: false),
                    request: request, questionEnd: questionEnd, into: output, limit: 512, now: later)
            }
        }
        let length = try XCTUnwrap(fast?.length)
        XCTAssertEqual(Array(output.prefix(length)), ordinary)
        XCTAssertEqual(try DNSMessage(decoding: ordinary).header.id, 4242)
        XCTAssertEqual(try DNSMessage(decoding: ordinary).answers.first?.ttl, 18)
        // A reply larger than the limit is not served from here.
        let tooSmall = request.withUnsafeBytes { request in
            name.withUnsafeBytes { name in
                cache.lookup(
                    ResponseCache.Key(borrowing: name, type: .a, recordClass: .in, edns: false, dnssecOK: false, checkingDisabled: false),
                    request: request, questionEnd: questionEnd, into: output, limit: 20, now: later)
            }
        }
        XCTAssertNil(tooSmall)
        // Storing under a borrowed key keeps a copy: changing the borrowed bytes changes nothing.
        let (otherKey, other) = try reply("api.example", ttl: 30)
        var borrowedName = try DomainName("api.example").lowercasedWire
        borrowedName.withUnsafeBytes { bytes in
            cache.store(
                ResponseCache.Key(borrowing: bytes, type: .a, recordClass: .in, edns: false, dnssecOK: false, checkingDisabled: false),
                reply: other, now: now)
        }
        borrowedName[1] = UInt8(ascii: "x")
        name = borrowedName
        XCTAssertEqual(cache.count, 2)
        if case .miss = other.withUnsafeBytes({ cache.lookup(otherKey, request: $0, questionEnd: other.count - 16, now: later) }) {
            XCTFail("the entry stored under a borrowed key was lost")
        }
    }

    func testErrorsAndTruncatedRepliesAreNotCached() throws {
        let cache = ResponseCache(settings: .init())
        var (key, bytes) = try reply("x.example", ttl: 60)
        var failed = bytes
        failed[3] = (failed[3] & 0xF0) | UInt8(ResponseCode.servFail.rawValue)
        cache.store(key, reply: failed)
        bytes[2] |= 0x02  // TC
        cache.store(key, reply: bytes)
        XCTAssertEqual(cache.count, 0)
        (key, bytes) = try reply("x.example", ttl: 0)
        cache.store(key, reply: bytes)
        XCTAssertEqual(cache.count, 0, "TTL 0 must not be cached")
    }

    func testOwnListeningAddressIsRecognisedAsAnUpstreamLoop() throws {
        func own(_ host: String, _ port: Int, listen: String, _ listenPort: Int = 53) throws -> Bool {
            LoopDetector.isOwnAddress(try SocketAddress(ipAddress: host, port: port), listenHost: listen, listenPort: listenPort)
        }
        XCTAssertTrue(try own("127.0.0.1", 53, listen: "127.0.0.1"))
        XCTAssertTrue(try own("127.0.0.53", 53, listen: "0.0.0.0"), "any loopback reaches a wildcard listener")
        XCTAssertTrue(try own("::1", 53, listen: "::"))
        XCTAssertFalse(try own("127.0.0.1", 5353, listen: "127.0.0.1"), "another port is another server")
        XCTAssertFalse(try own("127.0.0.53", 53, listen: "127.0.0.1"))
        XCTAssertFalse(try own("10.0.0.53", 53, listen: "0.0.0.0"))
    }
}

extension ResolverPartsTests {
    /// RFC 2181 §8: a TTL with the top bit set counts as zero; others are capped.
    func testRelayedTTLsAreCappedAndTopBitTTLsAreZero() throws {
        var message = DNSMessage(questions: [DNSQuestion(name: try DomainName("x.example"), type: .a)])
        message.header[.response] = true
        message.answers = [
            ResourceRecord(name: try DomainName("x.example"), ttl: 0x8000_0001, data: .a(IPAddress("10.0.0.1")!)),
            ResourceRecord(name: try DomainName("x.example"), ttl: 7200, data: .a(IPAddress("10.0.0.2")!)),
            ResourceRecord(name: try DomainName("x.example"), ttl: 60, data: .a(IPAddress("10.0.0.3")!)),
        ]
        let capped = try DNSMessage(decoding: ReplyTTLs.capped(message.encoded(), maxTTL: 3600))
        XCTAssertEqual(capped.answers.map(\.ttl), [0, 3600, 60])
    }
}

extension ResolverPartsTests {
    /// The cache is bounded in bytes as well as entries, and large replies are not cached
    /// (issue #11 item 7: 10,000 entries of 60 KB were 600 MB).
    func testCacheIsBoundedInBytes() throws {
        let cache = ResponseCache(settings: .init(capacity: 1000, maxBytes: 8_000, maxEntryBytes: 2_000))
        func reply(_ name: String, addresses: Int) throws -> (ResponseCache.Key, [UInt8]) {
            var message = DNSMessage(questions: [DNSQuestion(name: try DomainName(name), type: .a)])
            message.header[.response] = true
            message.answers = (0..<addresses).map { index in
                ResourceRecord(name: try! DomainName(name), ttl: 60, data: .a(.v4(0x0A00_0000 | UInt32(index))))
            }
            let key = ResponseCache.Key(
                name: try DomainName(name).lowercasedWire, type: .a, recordClass: .in, edns: false, dnssecOK: false,
                checkingDisabled: false)
            return (key, message.encoded())
        }
        for index in 0..<50 {
            let (key, bytes) = try reply("n\(index).example", addresses: 60)  // about 1 KB each
            cache.store(key, reply: bytes)
            XCTAssertLessThanOrEqual(cache.byteCount, 8_000)
        }
        XCTAssertGreaterThanOrEqual(cache.count, 5, "the budget is used")
        let (bigKey, big) = try reply("big.example", addresses: 200)  // about 3 KB: over the entry limit
        cache.store(bigKey, reply: big)
        if case .hit = big.withUnsafeBytes({ cache.lookup(bigKey, request: $0, questionEnd: 12 + 13 + 4) }) {
            XCTFail("an answer over the entry limit was cached")
        }
    }

    /// A cached answer's closing address RRset is rotated by the client's ID (issue #10), after
    /// a CNAME chain too: over 50 IDs every address comes first, the RRset and the chain never
    /// change, and without shuffling the order is the upstream's.
    func testCachedAddressesRotateByTheClientsID() throws {
        let name = try DomainName("www.example"), target = try DomainName("web.cdn.example")
        var message = DNSMessage(questions: [DNSQuestion(name: name, type: .a)])
        message.header[.response] = true
        let addresses = ["192.0.2.1", "192.0.2.2", "192.0.2.3"]
        message.answers = [ResourceRecord(name: name, ttl: 60, data: .cname(target))]
            + addresses.map { ResourceRecord(name: target, ttl: 60, data: .a(IPAddress($0)!)) }
        let stored = message.encoded()
        let key = ResponseCache.Key(
            name: name.lowercasedWire, type: .a, recordClass: .in, edns: false, dnssecOK: false, checkingDisabled: false)
        let run = try XCTUnwrap(ReplyTTLs(reply: stored, limits: .init(maxTTL: 100, maxNegativeTTL: 10))?.addressRun)
        XCTAssertEqual(run.count, 3)
        XCTAssertEqual(run.dataLength, 4)

        func firsts(shuffling: Bool) throws -> Set<String> {
            let cache = ResponseCache(settings: .init(maxTTL: 100, shufflesAddresses: shuffling))
            let now = NIODeadline.now()
            cache.store(key, reply: stored, now: now)
            var firsts: Set<String> = []
            for id in 0..<UInt16(50) {
                var request = DNSMessage(questions: [DNSQuestion(name: name, type: .a)])
                request.header.id = id &* 7919
                let bytes = request.encoded()
                guard case .hit(let reply, _) = bytes.withUnsafeBytes({
                    cache.lookup(key, request: $0, questionEnd: bytes.count, now: now + .seconds(5))
                }) else { throw XCTSkip("missed") }
                let decoded = try DNSMessage(decoding: reply)
                XCTAssertEqual(decoded.header.id, request.header.id)
                XCTAssertEqual(decoded.answers.first?.data, .cname(target))
                let rrset = decoded.answers.dropFirst()
                XCTAssertEqual(Set(rrset.map { "\($0.data)" }), Set(addresses.map { "\(RData.a(IPAddress($0)!))" }))
                XCTAssertEqual(Set(rrset.map(\.ttl)), [55], "TTLs still counted down")
                XCTAssertTrue(rrset.allSatisfy { $0.name == target })
                firsts.insert("\(rrset.first!.data)")
            }
            return firsts
        }
        XCTAssertEqual(try firsts(shuffling: true).count, 3, "every address comes first for some ID")
        XCTAssertEqual(try firsts(shuffling: false).count, 1, "without shuffling the upstream's order stays")
    }

    /// Records that are not one evenly laid-out address RRset are left alone: different owners,
    /// mixed types, or a single address.
    func testOnlyAnEvenAddressRRsetIsRotated() throws {
        func run(_ answers: [ResourceRecord]) throws -> AddressRun? {
            var message = DNSMessage(questions: [DNSQuestion(name: try DomainName("a.example"), type: .a)])
            message.header[.response] = true
            message.answers = answers
            return ReplyTTLs(reply: message.encoded(), limits: .init(maxTTL: 100, maxNegativeTTL: 10))?.addressRun
        }
        let a = try DomainName("a.example"), b = try DomainName("b.example")
        XCTAssertNil(try run([ResourceRecord(name: a, ttl: 60, data: .a(IPAddress("192.0.2.1")!))]))
        XCTAssertNil(try run([
            ResourceRecord(name: a, ttl: 60, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: b, ttl: 60, data: .a(IPAddress("192.0.2.2")!)),
        ]))
        XCTAssertNil(try run([
            ResourceRecord(name: a, ttl: 60, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: a, ttl: 60, data: .txt([Array("x".utf8)])),
        ]))
        // Only the closing run: an earlier address of another owner is not part of it.
        let closing = try XCTUnwrap(try run([
            ResourceRecord(name: b, ttl: 60, data: .a(IPAddress("192.0.2.9")!)),
            ResourceRecord(name: a, ttl: 60, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: a, ttl: 60, data: .a(IPAddress("192.0.2.2")!)),
        ]))
        XCTAssertEqual(closing.count, 2)
        XCTAssertEqual(try run([
            ResourceRecord(name: a, ttl: 60, data: .aaaa(IPAddress("2001:db8::1")!)),
            ResourceRecord(name: a, ttl: 60, data: .aaaa(IPAddress("2001:db8::2")!)),
        ])?.dataLength, 16)
    }

    /// The chase keeps only the chain from the target: its CNAMEs, then the asked type at the
    /// name they end at. Unrelated records, other types and CNAME loops are left out.
    func testExternalNameChaseKeepsOnlyTheChain() throws {
        func name(_ text: String) throws -> DomainName { try DomainName(text) }
        let target = try name("a.example"), b = try name("b.example"), other = try name("other.example")
        let answers = [
            ResourceRecord(name: other, ttl: 60, data: .a(IPAddress("192.0.2.99")!)),
            ResourceRecord(name: target, ttl: 60, data: .cname(b)),
            ResourceRecord(name: b, ttl: 60, data: .a(IPAddress("192.0.2.1")!)),
            ResourceRecord(name: b, ttl: 60, data: .aaaa(IPAddress("2001:db8::1")!)),
            ResourceRecord(name: try name("B.Example"), ttl: 60, data: .a(IPAddress("192.0.2.2")!)),
        ]
        XCTAssertEqual(
            ExternalNameChase.chain(in: answers, from: target, type: .a).map { "\($0.name) \($0.data)" },
            [answers[1], answers[2], answers[4]].map { "\($0.name) \($0.data)" })
        XCTAssertEqual(ExternalNameChase.chain(in: answers, from: target, type: .cname).count, 1)
        XCTAssertEqual(ExternalNameChase.chain(in: answers, from: other, type: .aaaa), [])
        // A loop ends at the bound instead of running forever.
        let loop = [ResourceRecord(name: target, ttl: 60, data: .cname(b)), ResourceRecord(name: b, ttl: 60, data: .cname(target))]
        XCTAssertEqual(ExternalNameChase.chain(in: loop, from: target, type: .a).count, ExternalNameChase.maxChainLength + 1)
    }

    /// A miss walks its reply once (`relay`): the relayed bytes are capped as `capped` caps
    /// them, and the entry it stores answers hits exactly as one stored the two-walk way.
    func testRelayCapsAndStoresInOneWalk() throws {
        let settings = ResponseCache.Settings(maxTTL: 100)
        let (key, reply) = try self.reply("long.example", ttl: 86_400, id: 3)
        let oneWalk = ResponseCache(settings: settings), twoWalks = ResponseCache(settings: settings)
        let now = NIODeadline.now()
        let relayed = oneWalk.relay(key, reply: reply, now: now)
        let capped = ReplyTTLs.capped(reply, maxTTL: 100)
        twoWalks.store(key, reply: capped, now: now)
        XCTAssertEqual(relayed, capped)
        XCTAssertEqual(try DNSMessage(decoding: relayed).answers.first?.ttl, 100)
        let questionEnd = reply.count - 16
        let later = now + .seconds(7)
        guard case .hit(let one, _) = reply.withUnsafeBytes({ oneWalk.lookup(key, request: $0, questionEnd: questionEnd, now: later) }),
              case .hit(let two, _) = reply.withUnsafeBytes({ twoWalks.lookup(key, request: $0, questionEnd: questionEnd, now: later) })
        else { return XCTFail("missed") }
        XCTAssertEqual(one, two)
        XCTAssertEqual(try DNSMessage(decoding: one).answers.first?.ttl, 93)
    }
}
