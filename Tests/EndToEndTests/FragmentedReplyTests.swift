import XCTest

/// UDP replies go out with DF set and IP ID 0 (`AtomicDatagrams`, RFC 6864 §4.1), and the
/// kernel refuses one larger than the path. Such a reply must still reach its client,
/// fragmented as before: here `lo` has an MTU of 576 inside a network namespace, and a
/// ~700-byte answer is asked for over UDP with an EDNS buffer that takes it whole. Needs root
/// for `ip netns`.
final class FragmentedReplyTests: XCTestCase {
    private let servers = ServerGroup()
    private var namespace: NetworkNamespace?
    private var scratch: TemporaryDirectory?

    /// 40 endpoints: about 700 bytes of A records, more than a 576-byte MTU carries whole.
    private let endpoints = ManifestWriter.addresses(block: 2, count: 40)

    override func tearDown() {
        servers.stopAll()
        namespace?.remove()
        namespace = nil
        scratch?.remove()
    }

    func testAReplyLargerThanThePathArrivesFragmented() throws {
        let namespace = try NetworkNamespace.create(name: "cdns-frag-\(getpid())", resolvConf: "nameserver 127.0.0.1\n")
        self.namespace = namespace
        let mtu = try Subprocess.run(namespace.exec[0], Array(namespace.exec.dropFirst()) + ["ip", "link", "set", "lo", "mtu", "576"])
        XCTAssertEqual(mtu.status, 0, mtu.stderr)
        let scratch = try TemporaryDirectory()
        self.scratch = scratch
        try scratch.write("mid.yaml", ManifestWriter.headlessService(name: "mid", namespace: "load", ready: endpoints))
        let server = try servers.start(manifests: scratch.path, listen: "127.0.0.1:0", prefix: namespace.exec)
        var dig = server.dig
        dig.prefix = namespace.exec

        let reply = try dig.query("mid.load.svc.cluster.local.", options: ["+bufsize=1232", "+ignore"])
        XCTAssertEqual(reply.transport, "UDP", "\(reply)")
        XCTAssertFalse(reply.isTruncated, "\(reply)")
        XCTAssertGreaterThan(try XCTUnwrap(reply.messageSize), 576, "the answer is larger than the MTU\n\(reply)")
        Expect.answer(reply, owner: "mid.load.svc.cluster.local.", type: "A", endpoints)
        // A small reply still goes out in the batch, and the server keeps answering.
        let small = try dig.query("mid.load.svc.cluster.local.", "SOA", options: ["+ignore"])
        XCTAssertEqual(small.status, "NOERROR", "\(small)")
    }
}
