import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A request to stop: SIGTERM (Kubernetes deleting the pod) or SIGINT (Ctrl-C).
public enum ShutdownSignal: Sendable, Equatable {
    case terminate
    case interrupt

    public var name: String {
        switch self {
        case .terminate: return "SIGTERM"
        case .interrupt: return "SIGINT"
        }
    }
}

/// SIGTERM and SIGINT as an async stream, through DispatchSource signal sources.
public enum ShutdownSignals {
    /// Replaces the default action of SIGTERM and SIGINT (which kills the process at once) with
    /// delivery to the returned stream. Call once, before announcing that the server listens, so
    /// a supervisor's SIGTERM never catches the process without its handler. The sources live as
    /// long as the process does.
    public static func install() -> AsyncStream<ShutdownSignal> {
        let (stream, continuation) = AsyncStream.makeStream(of: ShutdownSignal.self)
        for (number, kind) in [(SIGTERM, ShutdownSignal.terminate), (SIGINT, .interrupt)] {
            // A signal source only observes the signal; the default action must be ignored or
            // the kernel still terminates the process.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { continuation.yield(kind) }
            source.resume()
            retainedSources.append(source)
        }
        return stream
    }

    // Written only by `install`, called once from the command before any concurrency starts.
    nonisolated(unsafe) private static var retainedSources: [any DispatchSourceSignal] = []
}

/// CoreDNS's `health { lameduck DURATION }`: on SIGTERM, fail readiness at once so Kubernetes
/// takes this replica out of the Service's endpoints, keep answering DNS for `duration` while
/// that change reaches every node (queries already routed here still get answers), then close.
public struct Lameduck: Sendable {
    public var duration: Duration

    public init(duration: Duration) {
        self.duration = duration
    }

    /// Serves until the DNS listeners close. SIGTERM starts the lameduck period; SIGINT, or a
    /// second signal during lameduck, closes at once. Returns when the DNS listeners and the
    /// probe listeners are closed.
    public func serve(
        dns: DNSServer, probes: HealthServer?, readiness: Readiness, signals: AsyncStream<ShutdownSignal>,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async {
        let closeAll: @Sendable () async -> Void = {
            await dns.close()
            await probes?.close()
        }
        let duration = self.duration
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await dns.waitUntilClosed() }
            group.addTask {
                var timer: Task<Void, Never>?
                for await signal in signals {
                    readiness.enterLameduck()
                    if signal == .terminate, timer == nil, duration > .zero {
                        log("\(signal.name): lameduck for \(duration): /ready fails now, DNS answers until then")
                        timer = Task {
                            try? await Task.sleep(for: duration)
                            if !Task.isCancelled { await closeAll() }
                        }
                    } else {
                        log("\(signal.name): shutting down now")
                        timer?.cancel()
                        await closeAll()
                        return
                    }
                }
                if Task.isCancelled {
                    timer?.cancel()  // the listeners closed by themselves: no lameduck to finish
                } else {
                    await timer?.value  // the stream ended (tests): let a lameduck under way finish
                }
            }
            // Whichever finishes first: the DNS listeners closed, or the signal task finished.
            // The signal task ends on cancellation; the listener task once they are closed.
            await group.next()
            group.cancelAll()
        }
        await probes?.close()
    }
}
