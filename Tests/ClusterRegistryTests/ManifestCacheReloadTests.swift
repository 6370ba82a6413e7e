import ClusterRegistry
import DNSWire
import Foundation
import XCTest

/// Reloading re-parses only changed files (`ManifestCache`) and builds only when something
/// changed (`RegistryLoader.Incremental`), without ever serving a stale file as unchanged.
final class ManifestCacheReloadTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("clusterdns-cache-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory + "/sub", withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func service(_ name: String, ip: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata: {name: \(name), namespace: shop}
        spec: {clusterIP: \(ip), ports: [{name: http, port: 80}]}

        """
    }

    /// Writes `text` and dates the file `age` seconds back, so a cached parse of it is trusted.
    private func write(_ name: String, _ text: String, age: TimeInterval = 10) throws {
        let path = directory + "/" + name
        try text.write(toFile: path, atomically: false, encoding: .utf8)
        if age > 0 {
            try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -age)], ofItemAtPath: path)
        }
    }

    /// The ClusterIPs of the Services in the documents this load parsed (the cache keeps no
    /// objects: it reports each changed document's objects once).
    private func clusterIPs(_ load: ManifestCache.Load) -> [String: String] {
        var ips: [String: String] = [:]
        for case .service(let service)? in load.changes.map(\.object) {
            if case .clusterIP(let addresses) = service.kind { ips[service.name] = addresses.map(\.description).joined() }
        }
        return ips
    }

    func testOnlyChangedFilesAreParsedAgain() throws {
        try write("a.yaml", service("a", ip: "10.96.0.1"))
        try write("sub/b.yaml", service("b", ip: "10.96.0.2"))
        var cache = ManifestCache()
        let first = cache.load(directory: directory)
        XCTAssertEqual(first.parsedFiles, 2)
        XCTAssertTrue(first.changed)
        XCTAssertEqual(clusterIPs(first), ["a": "10.96.0.1", "b": "10.96.0.2"])

        let again = cache.load(directory: directory)
        XCTAssertEqual(again.parsedFiles, 0)
        XCTAssertFalse(again.changed)
        XCTAssertTrue(again.changes.isEmpty)

        try write("sub/b.yaml", service("b", ip: "10.96.0.3"), age: 5)
        let edited = cache.load(directory: directory)
        XCTAssertEqual(edited.parsedFiles, 1)
        XCTAssertTrue(edited.changed)
        XCTAssertEqual(clusterIPs(edited), ["b": "10.96.0.3"])

        try FileManager.default.removeItem(atPath: directory + "/a.yaml")
        let removed = cache.load(directory: directory)
        XCTAssertEqual(removed.removedFiles, 1)
        XCTAssertEqual(removed.parsedFiles, 0)
        XCTAssertTrue(removed.changed)
        XCTAssertEqual(removed.changes.count, 1)
        XCTAssertTrue(removed.changes.allSatisfy { $0.object == nil && $0.key.origin == directory + "/a.yaml" && $0.key.isManifest })
    }

    /// A file written moments ago may change again within the file system's timestamp
    /// granularity, with an identical stamp: it is parsed again until it is old enough (the
    /// registry then finds that its objects did not change).
    func testRecentlyWrittenFileIsCheckedAgain() throws {
        try write("a.yaml", service("a", ip: "10.96.0.1"), age: 0)
        var cache = ManifestCache()
        _ = cache.load(directory: directory)
        let racy = cache.load(directory: directory)
        XCTAssertEqual(racy.parsedFiles, 1, "a racy entry is parsed again")

        // Same size and (restored) mtime, different content: the ctime still gives it away.
        let path = directory + "/a.yaml"
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        try service("a", ip: "10.96.0.9").write(toFile: path, atomically: false, encoding: .utf8)
        try FileManager.default.setAttributes([.modificationDate: attributes[.modificationDate]!], ofItemAtPath: path)
        let rewritten = cache.load(directory: directory)
        XCTAssertTrue(rewritten.changed)
        XCTAssertEqual(clusterIPs(rewritten), ["a": "10.96.0.9"])
    }

    /// Editing one document of a file parses that document only: its old version is removed
    /// and its new one added, and an error further down still names its own document and line.
    func testOnlyTheChangedDocumentOfAFileIsParsedAgain() throws {
        let three = { (ip: String) in
            [self.service("a", ip: "10.96.0.1"), self.service("b", ip: ip), self.service("c", ip: "10.96.0.3")].joined(separator: "---\n")
        }
        try write("all.yaml", three("10.96.0.2"))
        var cache = ManifestCache()
        let first = cache.load(directory: directory)
        XCTAssertEqual(first.parsedDocuments, 3)
        XCTAssertEqual(first.changes.count, 3)

        try write("all.yaml", three("10.96.0.22"), age: 5)
        let edited = cache.load(directory: directory)
        XCTAssertEqual(edited.parsedDocuments, 1)
        XCTAssertEqual(clusterIPs(edited), ["b": "10.96.0.22"])
        XCTAssertEqual(edited.changes.filter { $0.object == nil }.count, 1, "the old version of b goes")

        let text = three("10.96.0.22") + "---\napiVersion: v1\nkind: Service\nmetadata: {name: d}\nspec: {clusterIP: 10.96.0.300}\n"
        try write("all.yaml", text, age: 5)
        let broken = cache.load(directory: directory)
        XCTAssertEqual(broken.parsedDocuments, 1)
        XCTAssertEqual(broken.errors.map(\.location.document), [3])
        // The same error, at the same line, as parsing the whole file gives.
        XCTAssertThrowsError(try ManifestLoader.parse(text: text, file: directory + "/all.yaml")) { error in
            XCTAssertEqual((error as? ManifestLoadError)?.errors, broken.errors)
        }
    }

    func testABrokenFileKeepsFailingUntilItChanges() throws {
        try write("a.yaml", service("a", ip: "10.96.0.1"))
        try write("b.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: b\n")
        var cache = ManifestCache()
        let broken = cache.load(directory: directory)
        XCTAssertEqual(broken.errors.map(\.location.file), [directory + "/b.yaml"])
        XCTAssertTrue(ManifestLoadError(errors: broken.errors).description.contains("YAML syntax error"), "\(broken.errors)")

        let still = cache.load(directory: directory)
        XCTAssertFalse(still.changed)
        XCTAssertEqual(still.parsedFiles, 0)
        XCTAssertEqual(still.errors.count, 1, "the error stays until the file changes")

        try write("b.yaml", service("b", ip: "10.96.0.2"), age: 5)
        let fixed = cache.load(directory: directory)
        XCTAssertTrue(fixed.errors.isEmpty)
        XCTAssertEqual(clusterIPs(fixed), ["b": "10.96.0.2"])
    }

    func testIncrementalLoaderBuildsOnlyWhenSomethingChanged() throws {
        try write("a.yaml", service("a", ip: "10.96.0.1"))
        var loader = RegistryLoader.Incremental(manifests: directory, zones: nil, configuration: RegistryConfiguration())
        guard case .loaded(let first) = loader.load() else { return XCTFail("first load") }
        XCTAssertEqual(first.snapshot.statistics.objectsByKind["Service"], 1)
        guard case .unchanged = loader.load() else { return XCTFail("nothing changed") }
        guard case .loaded(let forced) = loader.load(force: true) else { return XCTFail("a forced load builds") }
        XCTAssertTrue(forced.sourceDetail.hasPrefix("parsed 1 document of 1 file in "), forced.sourceDetail)

        try write("b.yaml", service("b", ip: "10.96.0.2"))
        guard case .loaded(let second) = loader.load() else { return XCTFail("a new file") }
        XCTAssertTrue(second.sourceDetail.hasPrefix("parsed 1 document of 1 file in "), second.sourceDetail)
        XCTAssertEqual(second.snapshot.statistics.objectsByKind["Service"], 2)
    }

    func testIncrementalLoaderReloadsChangedZoneFiles() throws {
        let zones = directory + "/zones"
        try FileManager.default.createDirectory(atPath: zones, withIntermediateDirectories: true)
        let zone = { (address: String) in
            "$ORIGIN example.internal.\n$TTL 60\n@ IN SOA ns hostmaster 1 3600 900 604800 60\nwww IN A \(address)\n"
        }
        try write("zones/example.internal.zone", zone("192.0.2.1"))
        var loader = RegistryLoader.Incremental(
            manifests: directory + "/sub", zones: zones, configuration: RegistryConfiguration())
        guard case .loaded = loader.load() else { return XCTFail("first load") }
        XCTAssertTrue(Self.addresses(loader, "www.example.internal").contains("192.0.2.1"))
        guard case .unchanged = loader.load() else { return XCTFail("nothing changed") }
        try write("zones/example.internal.zone", zone("192.0.2.22"), age: 3)
        guard case .loaded = loader.load() else { return XCTFail("zone file changed") }
        XCTAssertTrue(Self.addresses(loader, "www.example.internal").contains("192.0.2.22"))

        try write("zones/example.internal.zone", "$ORIGIN example.internal.\nwww IN A 192.0.2.3\n", age: 1)
        guard case .failed(.zoneFile(let error)) = loader.load() else { return XCTFail("a zone without SOA fails") }
        XCTAssertTrue(error.description.contains("example.internal.zone"), "\(error)")
    }

    private static func addresses(_ loader: RegistryLoader.Incremental, _ name: String) -> String {
        (loader.registry?.zoneModels() ?? []).flatMap { zone in
            ((try? DomainName(name)).flatMap { zone.records(at: $0) } ?? []).map { "\($0.data)" }
        }.joined(separator: " ")
    }
}
