import XCTest

/// `serve`, `check` and `records` as a user runs them: exit codes, the file + document + line of
/// a broken manifest on stderr, and the sorted zone-file listing.
final class CommandLineTests: XCTestCase {
    private var scratch: TemporaryDirectory?

    override func tearDown() {
        scratch?.remove()
    }

    private func clusterdns(_ arguments: [String]) throws -> CommandResult {
        let result = try Subprocess.run(try PackagePaths.binary(), arguments, timeout: 20)
        XCTAssertFalse(result.timedOut, "clusterdns \(arguments.joined(separator: " ")) hung")
        return result
    }

    /// A manifests directory holding a good Service and `broken` as `broken.yaml`.
    private func manifests(broken: String) throws -> TemporaryDirectory {
        let directory = try TemporaryDirectory()
        scratch = directory
        try directory.write("good.yaml", """
            apiVersion: v1
            kind: Service
            metadata:
              name: good
            spec:
              clusterIP: 10.0.0.1
              ports:
                - name: http
                  port: 80
            """)
        try directory.write("broken.yaml", broken)
        return directory
    }

    /// Port "http" in the second document, line 19 of the file.
    private let namedPortAsNumber = """
        apiVersion: v1
        kind: Service
        metadata:
          name: first
        spec:
          clusterIP: 10.0.0.2
          ports:
            - name: http
              port: 80
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: second
        spec:
          clusterIP: 10.0.0.3
          ports:
            - name: http
              port: "http"
        """

    /// Bad indentation on line 5 of the first document.
    private let invalidYAML = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n   bad: [\n"

    private func assertNamesLocation(
        _ result: CommandResult, file path: String, line: Int, field: String?,
        sourceFile: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        XCTAssertNotEqual(result.status, 0, "must fail\n\(result.stdout)", file: sourceFile, line: sourceLine)
        XCTAssertTrue(result.stderr.contains(path), "file name missing:\n\(result.stderr)", file: sourceFile, line: sourceLine)
        XCTAssertTrue(result.stderr.contains("line \(line)"), "line missing:\n\(result.stderr)", file: sourceFile, line: sourceLine)
        XCTAssertTrue(result.stderr.contains("document"), "document missing:\n\(result.stderr)", file: sourceFile, line: sourceLine)
        if let field {
            XCTAssertTrue(result.stderr.contains(field), "field missing:\n\(result.stderr)", file: sourceFile, line: sourceLine)
        }
        XCTAssertFalse(result.stdout.contains("listening"), "must not serve", file: sourceFile, line: sourceLine)
    }

    func testServeRefusesANamedPortWhereANumberBelongs() throws {
        let directory = try manifests(broken: namedPortAsNumber)
        let result = try clusterdns(["serve", "--manifests", directory.path, "--listen", "127.0.0.1:0", "--resolv-conf", "/dev/null"])
        assertNamesLocation(
            result, file: "\(directory.path)/broken.yaml", line: 19, field: "spec.ports[0].port")
    }

    func testServeRefusesInvalidYAML() throws {
        let directory = try manifests(broken: invalidYAML)
        let result = try clusterdns(["serve", "--manifests", directory.path, "--listen", "127.0.0.1:0", "--resolv-conf", "/dev/null"])
        assertNamesLocation(result, file: "\(directory.path)/broken.yaml", line: 5, field: nil)
    }

    func testCheckExitCodes() throws {
        let demo = try clusterdns(["check", "--manifests", PackagePaths.demoManifests])
        XCTAssertEqual(demo.status, 0, demo.stderr)
        // The demo's object counts (zones/cluster/EXPECTED.md "The objects").
        XCTAssertTrue(demo.stdout.contains("Service 14"), demo.stdout)
        XCTAssertTrue(demo.stdout.contains("Pod 19"), demo.stdout)
        XCTAssertTrue(demo.stdout.contains("4 namespaces"), demo.stdout)

        let broken = try manifests(broken: namedPortAsNumber)
        let result = try clusterdns(["check", "--manifests", broken.path])
        assertNamesLocation(result, file: "\(broken.path)/broken.yaml", line: 19, field: "spec.ports[0].port")

        let missing = try clusterdns(["check", "--manifests", "/nonexistent/clusterdns-e2e"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("/nonexistent/clusterdns-e2e"), missing.stderr)
    }

    func testRecordsListsSortedZoneFileLines() throws {
        let result = try clusterdns(
            ["records", "--manifests", PackagePaths.demoManifests, "--zones", PackagePaths.staticZones])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.normalizedLines
        let expected = [
            "nginx-service.myserver.svc.cluster.local. 5 IN A 10.100.57.113",
            "tomcat-serivce.myserver.svc.cluster.local. 5 IN A 10.100.160.12",
            "dual-echo.default.svc.cluster.local. 5 IN AAAA fd00:10:96::50",
            "web-0.nginx-headless.default.svc.cluster.local. 5 IN A 172.16.0.31",
            "_http._tcp.nginx-service.myserver.svc.cluster.local. 5 IN SRV 0 100 80 nginx-service.myserver.svc.cluster.local.",
            "nginx-alias.prod.svc.cluster.local. 5 IN CNAME nginx-service.myserver.svc.cluster.local.",
            "113.57.100.10.in-addr.arpa. 5 IN PTR nginx-service.myserver.svc.cluster.local.",
            "dns-version.cluster.local. 28800 IN TXT \"1.1.0\"",
            "cluster.local. 5 IN NS ns.dns.cluster.local.",
            "www.example.internal. 300 IN A 192.168.39.80",
            "intranet.example.internal. 3600 IN CNAME www.example.internal.",
        ]
        for line in expected {
            XCTAssertTrue(lines.contains(line), "missing: \(line)\n\(result.stdout)")
        }
        // web-3 and mysql's notReadyAddresses entry are not ready (db.example.internal has .176 legitimately).
        let notReady = lines.filter {
            $0.hasSuffix(" 172.16.0.20") || ($0.hasSuffix(" 192.168.39.176") && !$0.hasPrefix("db.example.internal."))
        }
        XCTAssertEqual(notReady, [], "not-ready endpoints must not be listed")
        XCTAssertEqual(lines.filter { $0.hasPrefix("cluster.local. ") && $0.contains(" SOA ") }.count, 1)
        assertCanonicallySorted(lines)
    }

    /// A ServiceImport's slice carries only the multicluster labels: it loads, and without
    /// `--multicluster` it is skipped with a note; with it, `records` lists the clusterset zone.
    func testMulticlusterObjectsLoadAndAreSkippedWithoutTheFlag() throws {
        let directory = try TemporaryDirectory()
        scratch = directory
        try directory.write("mcs.yaml", """
            apiVersion: multicluster.x-k8s.io/v1alpha1
            kind: ServiceImport
            metadata: {name: db, namespace: shop}
            spec: {type: Headless, ports: [{name: sql, port: 5432}]}
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata:
              name: db-a
              namespace: shop
              labels: {multicluster.kubernetes.io/service-name: db, multicluster.kubernetes.io/source-cluster: cluster-a}
            addressType: IPv4
            endpoints: [{addresses: [10.1.0.5], hostname: db-0}]
            ports: [{name: sql, port: 5432}]
            """)
        let without = try clusterdns(["check", "--manifests", directory.path])
        XCTAssertEqual(without.status, 0, without.stderr)
        XCTAssertTrue(without.stdout.contains("ServiceImport or multicluster EndpointSlice (no --multicluster) 2"), without.stdout)
        let with = try clusterdns(["records", "--manifests", directory.path, "--multicluster", "clusterset.local"])
        XCTAssertEqual(with.status, 0, with.stderr)
        XCTAssertTrue(with.normalizedLines.contains("db-0.cluster-a.db.shop.svc.clusterset.local. 5 IN A 10.1.0.5"), with.stdout)
        XCTAssertTrue(with.normalizedLines.contains("dns-version.clusterset.local. 28800 IN TXT \"1.0.0\""), with.stdout)
    }

    func testRecordsFailsOnBrokenManifests() throws {
        let directory = try manifests(broken: invalidYAML)
        let result = try clusterdns(["records", "--manifests", directory.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(directory.path)/broken.yaml"), result.stderr)
    }

    /// Within each zone, owners ascend in DNS canonical order (RFC 4034 §6.1) and each zone's
    /// lines are contiguous.
    private func assertCanonicallySorted(_ lines: [String], file: StaticString = #filePath, line: UInt = #line) {
        let zones = ["cluster.local.", "in-addr.arpa.", "ip6.arpa.", "example.internal."]
        var finished: Set<String> = []
        var current: (zone: String, owner: [[UInt8]])?
        for text in lines {
            let owner = String(text.prefix { $0 != " " })
            guard let zone = zones.first(where: { owner == $0 || owner.hasSuffix(".\($0)") }) else {
                XCTFail("line outside the expected zones: \(text)", file: file, line: line)
                continue
            }
            let key = owner.lowercased().split(separator: ".").reversed().map { Array($0.utf8) }
            if let current, current.zone == zone {
                XCTAssertFalse(
                    key.lexicographicallyPrecedes(current.owner, by: { $0.lexicographicallyPrecedes($1) }),
                    "out of order: \(text)", file: file, line: line)
            } else {
                XCTAssertFalse(finished.contains(zone), "zone \(zone) split at \(text)", file: file, line: line)
                if let current { finished.insert(current.zone) }
            }
            current = (zone, key)
        }
    }
}
