import Foundation

/// What a finished (or killed) command left behind.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var timedOut: Bool

    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// `lines` with every run of spaces and tabs collapsed to one space.
    var normalizedLines: [String] {
        lines.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") }
    }
}

struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

/// Runs tools (`dig`, `getent`, `ip`, the binary itself) with a deadline; output goes through
/// files so a chatty child can never block on a full pipe.
enum Subprocess {
    /// `command` is an absolute path or a name looked up on `PATH` (through `/usr/bin/env`).
    static func run(_ command: String, _ arguments: [String], timeout: TimeInterval = 10) throws -> CommandResult {
        let scratch = try TemporaryDirectory(prefix: "clusterdns-cmd")
        defer { scratch.remove() }
        let outPath = try scratch.write("stdout", "")
        let errPath = try scratch.write("stderr", "")
        let process = try launch(command, arguments, stdout: outPath, stderr: errPath)
        let timedOut = !waitForExit(process, timeout: timeout)
        return CommandResult(
            status: process.terminationStatus, stdout: readText(outPath), stderr: readText(errPath), timedOut: timedOut)
    }

    /// Starts `command` with stdout/stderr appended to the given files and stdin closed.
    static func launch(_ command: String, _ arguments: [String], stdout: String, stderr: String) throws -> Process {
        let process = Process()
        if command.hasPrefix("/") {
            process.executableURL = URL(fileURLWithPath: command)
            process.arguments = arguments
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [command] + arguments
        }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: stdout))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderr))
        try process.run()
        return process
    }

    /// Waits up to `timeout`; on expiry sends SIGTERM, then SIGKILL. Returns whether it exited in time.
    @discardableResult
    static func waitForExit(_ process: Process, timeout: TimeInterval) -> Bool {
        if poll(until: Date().addingTimeInterval(timeout), { !process.isRunning }) {
            process.waitUntilExit()
            return true
        }
        terminate(process)
        return false
    }

    /// SIGTERM; SIGKILL if it is still running 5 s later; then reaps it.
    static func terminate(_ process: Process) {
        if process.isRunning {
            process.terminate()
            if !poll(until: Date().addingTimeInterval(5), { !process.isRunning }) {
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
    }

    /// Checks `condition` every 10 ms until it holds or `deadline` passes.
    static func poll(until deadline: Date, _ condition: () -> Bool) -> Bool {
        while !condition() {
            if Date() >= deadline { return false }
            usleep(10_000)
        }
        return true
    }

    static func readText(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }
}
