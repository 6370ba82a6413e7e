import Foundation

/// `clusterdns serve` as a child process: started on a free port (or a given address), ready once
/// it printed its `clusterdns listening on HOST:PORT …` line, stopped with SIGTERM.
final class ServerProcess {
    let host: String
    let port: Int
    let process: Process
    private let scratch: TemporaryDirectory
    private let stdoutPath: String
    private let stderrPath: String

    /// The server's diagnostics so far (attached to failure messages).
    var stderr: String { Subprocess.readText(stderrPath) }
    var stdout: String { Subprocess.readText(stdoutPath) }

    /// A `dig` bound to this server.
    var dig: Dig { Dig(host: host, port: port) }

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `clusterdns serve --manifests … --listen … <arguments>`, optionally behind `prefix`
    /// (e.g. `ip netns exec NAME`), and waits up to `timeout` for the listening line. `manifests`
    /// nil leaves the registry source to `arguments` (`--kubeconfig`).
    init(
        manifests: String? = PackagePaths.demoManifests, listen: String = "127.0.0.1:0", arguments: [String] = [],
        prefix: [String] = [], timeout: TimeInterval = 20
    ) throws {
        let binary = try PackagePaths.binary()
        scratch = try TemporaryDirectory(prefix: "clusterdns-server")
        stdoutPath = try scratch.write("stdout", "")
        stderrPath = try scratch.write("stderr", "")
        // Probes on free loopback ports and no lameduck unless a test asks (the last value of a
        // flag wins): parallel servers must not share :8080/:8181, and `stop()` sends SIGTERM.
        // No default upstreams from the host's resolv.conf: tests send traffic to loopback only,
        // and a test that wants forwarding names its upstream.
        let probeDefaults = [
            "--health-listen", "127.0.0.1:0", "--ready-listen", "127.0.0.1:0", "--lameduck", "0",
            "--metrics-listen", "127.0.0.1:0",
            "--resolv-conf", "/dev/null",
        ]
        let source = manifests.map { ["--manifests", $0] } ?? []
        let command = prefix + [binary, "serve"] + source + ["--listen", listen] + probeDefaults + arguments
        process = try Subprocess.launch(
            command[0], Array(command.dropFirst()), stdout: stdoutPath, stderr: stderrPath)
        var address: (String, Int)?
        let deadline = Date().addingTimeInterval(timeout)
        _ = Subprocess.poll(until: deadline) { [stdoutPath, process] in
            address = Self.listeningAddress(in: Subprocess.readText(stdoutPath))
            return address != nil || !process.isRunning
        }
        guard let (host, port) = address else {
            let stillRunning = process.isRunning
            Subprocess.terminate(process)
            let stderr = Subprocess.readText(stderrPath)
            scratch.remove()
            throw StartFailure(description: """
                \(command.joined(separator: " ")) \
                \(stillRunning ? "printed no listening line within \(timeout) s" : "exited (\(process.terminationStatus))")
                stdout: \(Subprocess.readText(stdoutPath))
                stderr: \(stderr)
                """)
        }
        self.host = host
        self.port = port
    }

    /// Parses `clusterdns listening on 127.0.0.1:PORT (udp+tcp), …` (IPv6 hosts come bracketed).
    static func listeningAddress(in output: String) -> (String, Int)? {
        let marker = "clusterdns listening on "
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix(marker) }) else { return nil }
        let endpoint = line.dropFirst(marker.count).prefix { $0 != " " && $0 != "," }
        guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...])
        else { return nil }
        let host = endpoint[..<colon].trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        return (host, port)
    }

    var isRunning: Bool { process.isRunning }

    /// SIGTERM, then SIGKILL after 5 s; removes the captured output. Safe to call twice.
    func stop() {
        Subprocess.terminate(process)
        scratch.remove()
    }

    deinit { stop() }
}
