import ClusterRegistry
import Dispatch
import Foundation
import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Keeps the served registry in step with `--manifests` (and `--zones`): notices changes
/// (inotify, polling, SIGHUP), debounces bursts (`ReloadSchedule`), loads and builds on its own
/// thread, never on an event loop, and swaps the snapshot into the `RegistryStore` whole
/// (DESIGN.md §4). A load that fails leaves the last good snapshot serving; it is logged and
/// counted, and the files are tried again when they change.
///
/// Each reload logs one line to standard output:
/// `reload: ok in 12 ms (change; parsed 1 file in 3 ms, built in 8 ms): services +1 -0 ~0, endpoints +2 -1, records +5 -3 (123 total)`
/// or `reload: failed in 3 ms (change), keeping previous registry: 1 error: FILE: document 1, line 4, field …`,
/// with every error on its own line on standard error.
public final class RegistryReloader: Sendable {
    public struct Options: Sendable {
        /// Watch the directories with inotify.
        public var watch: Bool
        /// Seconds between stamp comparisons of every file; nil disables polling.
        public var pollInterval: Double?
        public var quietPeriod: Double
        public var maxDelay: Double
        /// Reload on SIGHUP. A process-wide setting, so in-process tests leave it off.
        public var handleSIGHUP: Bool

        public init(
            watch: Bool = true, pollInterval: Double? = 2, quietPeriod: Double = 0.002, maxDelay: Double = 0.02,
            handleSIGHUP: Bool = true
        ) {
            self.watch = watch
            self.pollInterval = pollInterval
            self.quietPeriod = quietPeriod
            self.maxDelay = maxDelay
            self.handleSIGHUP = handleSIGHUP
        }
    }

    /// Reloads by result, for metrics. `unchanged` counts checks that found no file changed
    /// (nothing was built or logged).
    public struct Counts: Sendable, Hashable {
        public var succeeded = 0
        public var failed = 0
        public var unchanged = 0

        public init(succeeded: Int = 0, failed: Int = 0, unchanged: Int = 0) {
            self.succeeded = succeeded
            self.failed = failed
            self.unchanged = unchanged
        }
    }

    /// Where log lines go; tests collect them instead. `output` lines carry their facts as
    /// metadata too (the structured reload line); `error` lines are details and warnings.
    public struct Log: Sendable {
        public var output: @Sendable (String, Logger.Metadata) -> Void
        public var error: @Sendable (String) -> Void

        public init(
            output: @escaping @Sendable (String, Logger.Metadata) -> Void, error: @escaping @Sendable (String) -> Void
        ) {
            self.output = output
            self.error = error
        }

        /// Lines only, for tests.
        public init(output: @escaping @Sendable (String) -> Void, error: @escaping @Sendable (String) -> Void) {
            self.init(output: { line, _ in output(line) }, error: error)
        }

        /// Through swift-log: info for reload lines, warning for the details.
        public static func logger(_ logger: Logger) -> Log {
            Log(output: { logger.info("\($0)", metadata: $1) }, error: { logger.warning("\($0)") })
        }

        public static let standard = logger(Logger(label: "clusterdns.reload"))
    }

    let options: Options
    let log: Log
    /// The loader and what the served snapshot was built from; only the reload thread (and
    /// `loadInitial`, before it starts) touch it.
    private let worker: NIOLockedValueBox<Worker>
    private let schedule: ScheduleBox
    private let running = NIOLockedValueBox(Running())
    private let countsBox = NIOLockedValueBox(Counts())

    struct Worker: Sendable {
        var loader: any RegistrySource
        var warnings: Set<String> = []
    }

    private struct Running: Sendable {
        var started = false
        var watcher: DirectoryWatcher?
        var signalSource: SignalSource?
        var finished: DispatchSemaphore?
    }

    private let servedHook = NIOLockedValueBox<@Sendable (ChangeTimes, Double, Double) -> Void>({ _, _, _ in })

    public init(loader: any RegistrySource, options: Options = Options(), log: Log = .standard) {
        self.options = options
        self.log = log
        worker = NIOLockedValueBox(Worker(loader: loader))
        schedule = ScheduleBox(ReloadSchedule(
            quietPeriod: options.quietPeriod, maxDelay: options.maxDelay, pollInterval: options.pollInterval,
            now: MonotonicClock.seconds()))
    }

    public var counts: Counts { countsBox.withLockedValue { $0 } }

    /// Told, right after each swap, when the changes it serves arrived, with the monotonic and
    /// wall clocks of the swap: the programming-latency metrics.
    public func onServed(_ hook: @escaping @Sendable (ChangeTimes, Double, Double) -> Void) {
        servedHook.withLockedValue { $0 = hook }
    }

    private func onServed(_ times: ChangeTimes, _ now: Double, _ wallNow: Double) {
        servedHook.withLockedValue { $0 }(times, now, wallNow)
    }

    /// The first load, which `serve` cannot do without: parses everything and remembers it, so
    /// the reloads that follow parse only what changed.
    public func loadInitial() -> Result<RegistrySnapshot, RegistryLoader.Failure> {
        worker.withLockedValue { worker in
            switch worker.loader.load(force: true) {
            case .loaded(let loaded):
                worker.warnings = Set(loaded.snapshot.statistics.warnings)
                returnFreeMemory()  // what parsing and the full build used
                return .success(loaded.snapshot)
            case .failed(let failure):
                return .failure(failure)
            case .unchanged:
                preconditionFailure("a forced load always loads or fails")
            }
        }
    }

    /// Starts watching, polling and (if configured) handling SIGHUP; reloads replace the
    /// snapshot in `store` and then call `onReplace` with it (readiness follows the API sync
    /// this way). Changes made between `loadInitial` and now are picked up at once when
    /// watching or polling is on.
    public func start(store: RegistryStore, onReplace: @escaping @Sendable (RegistrySnapshot) -> Void = { _ in }) {
        let proceed = running.withLockedValue { running in
            defer { running.started = true }
            return !running.started
        }
        guard proceed else { return }
        let watcher = options.watch ? makeWatcher() : nil
        if options.watch || options.pollInterval != nil {
            schedule.record(.poll)
        }
        let signalSource = options.handleSIGHUP ? SignalSource(signal: SIGHUP) { [weak self] in self?.reloadNow() } : nil
        let finished = DispatchSemaphore(value: 0)
        running.withLockedValue {
            $0.watcher = watcher
            $0.signalSource = signalSource
            $0.finished = finished
        }
        let thread = Thread { [self] in
            runLoop(store: store, onReplace: onReplace)
            finished.signal()
        }
        thread.name = "clusterdns-reload"
        thread.start()
    }

    /// Reload now, parsing every file again (what SIGHUP does).
    public func reloadNow() {
        schedule.record(.signal)
    }

    /// Tells the reloader a file changed, as inotify does (debounced).
    public func noteChange() {
        schedule.record(.change)
    }

    /// Stops watching and waits for a reload in progress to finish.
    public func stop() {
        let current = running.withLockedValue { running in
            defer { running = Running(started: true) }
            return running
        }
        current.signalSource?.cancel()
        current.watcher?.stop()
        schedule.stop()
        current.finished?.wait()
    }

    private func makeWatcher() -> DirectoryWatcher? {
        let roots = worker.withLockedValue { $0.loader.watchedDirectories }
        guard !roots.isEmpty else { return nil }
        do {
            return try DirectoryWatcher(
                roots: roots, warning: { [log] in log.error("reload: warning: \($0)") },
                onChange: { [weak self] in self?.noteChange() })
        } catch {
            log.error("reload: warning: cannot watch \(roots.joined(separator: ", ")) (\(error)); relying on polling and SIGHUP")
            return nil
        }
    }

    // MARK: - The reload thread

    private func runLoop(store: RegistryStore, onReplace: @Sendable (RegistrySnapshot) -> Void) {
        // The replaced snapshot is released here a moment after the swap, not by whichever
        // event loop happens to drop the last reference (freeing 100k answers takes a while).
        var retired: (snapshot: RegistrySnapshot, until: Double)?
        while true {
            switch schedule.waitForAction(orUntil: retired?.until) {
            case .stopped:
                return
            case .timeout:
                if let until = retired?.until, MonotonicClock.seconds() >= until {
                    retired = nil
                    returnFreeMemory()
                }
            case .reload(let trigger):
                if let previous = reload(trigger, store: store) {
                    onReplace(store.snapshot)
                    retired = (previous, MonotonicClock.seconds() + 1)
                }
            }
        }
    }

    /// One load; returns the snapshot it replaced, if it replaced one.
    func reload(_ trigger: ReloadSchedule.Trigger, store: RegistryStore) -> RegistrySnapshot? {
        let started = MonotonicClock.seconds()
        let outcome = worker.withLockedValue { $0.loader.load(force: trigger == .signal) }
        switch outcome {
        case .unchanged:
            countsBox.withLockedValue { $0.unchanged += 1 }
            return nil
        case .failed(let failure):
            countsBox.withLockedValue { $0.failed += 1 }
            reportFailure(failure, trigger: trigger, milliseconds: milliseconds(since: started))
            return nil
        case .loaded(let loaded):
            let previous = store.snapshot
            store.replace(with: loaded.snapshot)
            onServed(loaded.changeTimes, MonotonicClock.seconds(), Date().timeIntervalSince1970)
            let elapsed = milliseconds(since: started)
            countsBox.withLockedValue { $0.succeeded += 1 }
            reportSuccess(loaded, trigger: trigger, milliseconds: elapsed)
            return previous
        }
    }

    private func reportSuccess(_ loaded: LoadedRegistry, trigger: ReloadSchedule.Trigger, milliseconds: Int) {
        let diff = loaded.diff
        let warnings = Set(loaded.snapshot.statistics.warnings)
        let newWarnings = worker.withLockedValue { worker in
            defer { worker.warnings = warnings }
            return warnings.subtracting(worker.warnings)
        }
        let build = Int((loaded.snapshot.statistics.buildSeconds * 1000).rounded())
        log.output(
            "reload: ok in \(milliseconds) ms (\(trigger.rawValue); \(loaded.sourceDetail), built in \(build) ms): \(diff)",
            diff.metadata.merging([
                "result": "ok", "trigger": "\(trigger.rawValue)", "duration_ms": "\(milliseconds)", "build_ms": "\(build)",
            ]) { _, new in new })
        for warning in newWarnings.sorted() { log.error("warning: \(warning)") }
    }

    private func reportFailure(_ failure: RegistryLoader.Failure, trigger: ReloadSchedule.Trigger, milliseconds: Int) {
        let lines = failure.description.split(separator: "\n").map(String.init)
        let summary = lines.first.map { first in
            "\(lines.count) error\(lines.count == 1 ? "" : "s"): \(first)" + (lines.count > 1 ? " (and \(lines.count - 1) more)" : "")
        } ?? "unknown error"
        log.output(
            "reload: failed in \(milliseconds) ms (\(trigger.rawValue)), keeping previous registry: \(summary)",
            ["result": "failed", "trigger": "\(trigger.rawValue)", "duration_ms": "\(milliseconds)", "errors": "\(lines.count)"])
        for line in lines { log.error("reload: error: \(line)") }
    }

    private func milliseconds(since start: Double) -> Int {
        Int(((MonotonicClock.seconds() - start) * 1000).rounded())
    }
}

/// The schedule and the condition the reload thread sleeps on.
private final class ScheduleBox: @unchecked Sendable {
    // @unchecked: `schedule` and `stopped` are only touched while holding `condition`.
    private let condition = NSCondition()
    private var schedule: ReloadSchedule
    private var stopped = false

    enum Wake {
        case reload(ReloadSchedule.Trigger)
        case timeout
        case stopped
    }

    init(_ schedule: ReloadSchedule) {
        self.schedule = schedule
    }

    func record(_ trigger: ReloadSchedule.Trigger) {
        condition.lock()
        defer { condition.unlock() }
        schedule.record(trigger, at: MonotonicClock.seconds())
        condition.signal()
    }

    func stop() {
        condition.lock()
        defer { condition.unlock() }
        stopped = true
        condition.signal()
    }

    /// Sleeps until the schedule says reload, `extra` passes, or `stop()`.
    func waitForAction(orUntil extra: Double?) -> Wake {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            let now = MonotonicClock.seconds()
            if let extra, now >= extra { return .timeout }
            switch schedule.next(at: now) {
            case .reload(let trigger):
                return .reload(trigger)
            case .wait(let until):
                if let deadline = [until, extra].compactMap({ $0 }).min() {
                    _ = condition.wait(until: Date(timeIntervalSinceNow: max(0, deadline - now)))
                } else {
                    condition.wait()
                }
            }
        }
        return .stopped
    }
}

/// A SIGHUP handler that does not disturb the process's other signals: the signal is ignored
/// (so its default action, termination, cannot happen) and observed through Dispatch.
private final class SignalSource: @unchecked Sendable {
    // @unchecked: `source` is set once in `init` and only `cancel()`ed after.
    private let source: any DispatchSourceSignal

    init(signal number: Int32, handler: @escaping @Sendable () -> Void) {
        signal(number, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: number, queue: DispatchQueue.global())
        source.setEventHandler(handler: handler)
        source.resume()
    }

    func cancel() {
        source.cancel()
    }
}

/// Gives the pages the previous snapshot and the build's temporaries occupied back to the
/// system. glibc keeps freed memory in its arenas (the reload thread and the parsing workers
/// each use one), so without this RSS settles near twice the registry's size after the first
/// few reloads.
private func returnFreeMemory() {
    FreeMemory.returnToSystem()
}

extension RegistryDiff {
    /// The diff as log fields, for the structured reload line.
    var metadata: Logger.Metadata {
        [
            "services_added": "\(services.added)", "services_removed": "\(services.removed)",
            "services_changed": "\(services.changed)", "endpoints_added": "\(endpoints.added)",
            "endpoints_removed": "\(endpoints.removed)", "records_added": "\(records.added)",
            "records_removed": "\(records.removed)", "records": "\(totalRecords)",
        ]
    }
}
