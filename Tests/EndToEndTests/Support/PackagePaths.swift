import Foundation

/// Where the package, its demo data and the binary under test live.
enum PackagePaths {
    /// `<root>/Tests/EndToEndTests/Support/PackagePaths.swift` → `<root>`.
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // EndToEndTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()

    static let demoManifests = root.appendingPathComponent("zones/cluster").path
    static let staticZones = root.appendingPathComponent("zones/static").path

    struct MissingBinary: Error, CustomStringConvertible {
        let path: String
        var description: String {
            "clusterdns binary not found at \(path): build it first (`swift build`, or `swift build "
                + "--scratch-path .build-e2e` and set CLUSTERDNS_BIN=$PWD/.build-e2e/debug/clusterdns)"
        }
    }

    /// `$CLUSTERDNS_BIN`, else `<root>/.build/debug/clusterdns`; throws a readable error when absent.
    static func binary() throws -> String {
        let environment = ProcessInfo.processInfo.environment["CLUSTERDNS_BIN"] ?? ""
        let path = environment.isEmpty ? root.appendingPathComponent(".build/debug/clusterdns").path : environment
        guard FileManager.default.isExecutableFile(atPath: path) else { throw MissingBinary(path: path) }
        return path
    }
}

/// A scratch directory removed by `remove()`; tests write manifests or zone files into it.
struct TemporaryDirectory {
    let path: String

    init(prefix: String = "clusterdns-e2e") throws {
        path = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(prefix)-\(getpid())-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    @discardableResult
    func write(_ name: String, _ text: String) throws -> String {
        let file = (path as NSString).appendingPathComponent(name)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
