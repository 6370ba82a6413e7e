import NIOConcurrencyHelpers

/// Whether this replica should receive traffic: what `GET /ready` reports (CoreDNS's `ready`
/// plugin). Not ready until the registry has been loaded once (a manifests directory) or fully
/// synced once (the Kubernetes API); not ready again, for good, once lameduck began on SIGTERM,
/// so the Service stops sending queries here while the listeners still answer the ones in flight.
public final class Readiness: Sendable {
    private enum State: Sendable {
        case notReady(reason: String)
        case ready
        case lameduck
    }

    private let state: NIOLockedValueBox<State>

    public init(notReadyReason: String = "waiting for the first registry load") {
        state = NIOLockedValueBox(.notReady(reason: notReadyReason))
    }

    /// True only between `markReady()` and lameduck (or a later `markNotReady`).
    public var isReady: Bool { notReadyReason == nil }

    /// Why `/ready` fails right now, or nil when it succeeds.
    public var notReadyReason: String? {
        state.withLockedValue { state in
            switch state {
            case .notReady(let reason): return reason
            case .ready: return nil
            case .lameduck: return "shutting down (lameduck)"
            }
        }
    }

    public var isInLameduck: Bool {
        state.withLockedValue { if case .lameduck = $0 { return true } else { return false } }
    }

    /// The registry is loaded (or the API source synced): ready, unless already shutting down.
    public func markReady() {
        state.withLockedValue { state in
            if case .lameduck = state { return }
            state = .ready
        }
    }

    /// Not ready for `reason` (e.g. the API source lost its watch), unless already shutting down.
    public func markNotReady(_ reason: String) {
        state.withLockedValue { state in
            if case .lameduck = state { return }
            state = .notReady(reason: reason)
        }
    }

    /// SIGTERM: `/ready` fails from now on; nothing makes this replica ready again.
    public func enterLameduck() {
        state.withLockedValue { $0 = .lameduck }
    }
}
