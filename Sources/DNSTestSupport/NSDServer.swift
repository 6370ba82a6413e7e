import Foundation

/// A real NSD authoritative server on loopback, started and stopped by tests: the upstream for
/// forwarding tests (DESIGN.md §8: real components, not mocks).
public final class NSDServer {
    public let port: Int
    public let directory: URL
    private let process: Process

    /// Serves `zones` (origin → zone-file text).
    public init(zones: [String: String]) throws {
        guard let nsd = ["/usr/sbin/nsd", "/usr/local/sbin/nsd"].first(where: FileManager.default.isExecutableFile) else {
            throw Failure(description: "nsd is not installed (scripts/deps installs it)")
        }
        port = try DNSTestClient.freePort()
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("cdns-nsd-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var config = """
            server:
              ip-address: 127.0.0.1
              port: \(port)
              username: ""
              chroot: ""
              zonesdir: "\(directory.path)"
              pidfile: "\(directory.path)/nsd.pid"
              database: ""
              xfrdfile: "\(directory.path)/xfrd.state"
              zonelistfile: "\(directory.path)/zone.list"
              logfile: "\(directory.path)/nsd.log"
              server-count: 1
              verbosity: 1

            """
        // Its control socket serves `statistics()`: what reached this upstream, by type.
        config += "remote-control:\n  control-enable: yes\n  control-interface: \(directory.path)/nsd.ctl\n"
        for (origin, text) in zones {
            let file = "\(origin).zone"
            try text.write(to: directory.appendingPathComponent(file), atomically: true, encoding: .utf8)
            config += "zone:\n  name: \(origin)\n  zonefile: \(file)\n"
        }
        let configFile = directory.appendingPathComponent("nsd.conf")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: nsd)
        process.arguments = ["-d", "-c", configFile.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try waitUntilAnswering(origin: zones.keys.first ?? ".")
    }

    /// NSD's counters (`nsd-control stats_noreset`: `num.queries`, `num.type.AAAA`, …): the
    /// upstream's own account of the queries that reached it, the startup SOA probes included.
    public func statistics() throws -> [String: Int] {
        guard let control = ["/usr/sbin/nsd-control", "/usr/local/sbin/nsd-control"].first(where: FileManager.default.isExecutableFile)
        else { throw Failure(description: "nsd-control is not installed") }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: control)
        process.arguments = ["-c", directory.appendingPathComponent("nsd.conf").path, "stats_noreset"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        Self.waitForExit(process, seconds: 5)
        var counters: [String: Int] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, let value = Int(parts[1]) { counters[String(parts[0])] = value }
        }
        guard !counters.isEmpty else { throw Failure(description: "nsd-control printed no statistics: \(text)") }
        return counters
    }

    /// Polls with SOA queries until NSD answers (bounded: 10 s).
    private func waitUntilAnswering(origin: String) throws {
        let query = Self.soaQuery(origin)
        for _ in 0..<100 {
            if (try? DNSTestClient.udp(query, port: port, timeout: 0.1)) != nil { return }
            guard process.isRunning else { break }
            usleep(100_000)  // a refused UDP send fails at once: pace the retries
        }
        let log = (try? String(contentsOf: directory.appendingPathComponent("nsd.log"), encoding: .utf8)) ?? "none"
        stop()
        throw Failure(description: "nsd did not start on port \(port); log: \(log)")
    }

    private static func soaQuery(_ origin: String) -> [UInt8] {
        var bytes: [UInt8] = [0x12, 0x34, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in origin.split(separator: ".") {
            bytes.append(UInt8(label.utf8.count))
            bytes.append(contentsOf: label.utf8)
        }
        bytes += [0, 0, 6, 0, 1]
        return bytes
    }

    /// Stops NSD and its forked children (they outlive the main process if it dies first).
    /// Polls instead of `waitUntilExit`, which can hang when called off the main thread.
    public func stop() {
        if process.isRunning { process.terminate() }
        Self.waitForExit(process, seconds: 1)
        let sweep = Process()
        sweep.executableURL = URL(fileURLWithPath: "/usr/bin/pkill")
        sweep.arguments = ["-KILL", "-f", directory.path]
        if (try? sweep.run()) != nil { Self.waitForExit(sweep, seconds: 5) }
        try? FileManager.default.removeItem(at: directory)
    }

    private static func waitForExit(_ process: Process, seconds: Double) {
        for _ in 0..<Int(seconds * 100) where process.isRunning { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }
}
