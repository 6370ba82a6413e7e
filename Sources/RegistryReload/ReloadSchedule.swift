/// When the reloader acts next: file events are debounced (a burst of writes becomes one reload
/// once the directory has been quiet for `quietPeriod`, but no later than `maxDelay` after the
/// burst began, so a file rewritten continuously is still picked up), a reload request (SIGHUP)
/// runs at once, and the directories are polled every `pollInterval`.
///
/// Pure: times are monotonic seconds passed in by the caller, so tests drive it with numbers.
public struct ReloadSchedule: Sendable, Hashable {
    public enum Trigger: String, Sendable, Hashable {
        /// inotify saw a change.
        case change
        /// The polling interval elapsed.
        case poll
        /// SIGHUP or `RegistryReloader.reloadNow()`: parse everything again, even unchanged files.
        case signal
    }

    public enum Action: Sendable, Hashable {
        case reload(Trigger)
        /// Nothing to do before this time (nil: until the next event).
        case wait(until: Double?)
    }

    public var quietPeriod: Double
    public var maxDelay: Double
    /// Seconds between polls; nil disables polling.
    public var pollInterval: Double?
    private(set) var burstStart: Double?
    private(set) var lastEvent: Double?
    private(set) var signalled = false
    private(set) var nextPoll: Double?

    public init(quietPeriod: Double = 0.1, maxDelay: Double = 1, pollInterval: Double? = nil, now: Double = 0) {
        self.quietPeriod = quietPeriod
        self.maxDelay = maxDelay
        self.pollInterval = pollInterval
        nextPoll = pollInterval.map { now + $0 }
    }

    /// Records a trigger that arrived at `now`.
    public mutating func record(_ trigger: Trigger, at now: Double) {
        switch trigger {
        case .change:
            if burstStart == nil { burstStart = now }
            lastEvent = now
        case .poll:
            nextPoll = now
        case .signal:
            signalled = true
        }
    }

    /// When the pending burst of changes is due, if there is one.
    public var changeDeadline: Double? {
        guard let burstStart, let lastEvent else { return nil }
        return min(lastEvent + quietPeriod, burstStart + maxDelay)
    }

    /// What to do at `now`. A reload answers the pending changes and restarts the poll interval,
    /// since it looked at every file.
    public mutating func next(at now: Double) -> Action {
        if signalled {
            return fire(.signal, at: now)
        }
        if let deadline = changeDeadline, now >= deadline {
            return fire(.change, at: now)
        }
        if let nextPoll, now >= nextPoll {
            return fire(.poll, at: now)
        }
        let times = [changeDeadline, nextPoll].compactMap { $0 }
        return .wait(until: times.min())
    }

    private mutating func fire(_ trigger: Trigger, at now: Double) -> Action {
        signalled = false
        burstStart = nil
        lastEvent = nil
        nextPoll = pollInterval.map { now + $0 }
        return .reload(trigger)
    }
}
