#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one monotonic clock the server reads (issue #10): `CLOCK_MONOTONIC`, the clock
/// `NIODeadline` reads too, so the times the API source stamps on changes, the reloader's
/// schedule and latency metrics, build durations and the datagram threads' rate-limit windows
/// all compare with each other. Wall-clock time is only for SOA serials and log lines.
public enum MonotonicClock {
    /// Seconds since an arbitrary fixed point (boot).
    public static func seconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Whole seconds of the same clock, wrapping: a window counter for per-second limits.
    public static func wholeSeconds() -> UInt32 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt32(truncatingIfNeeded: now.tv_sec)
    }

    /// Nanoseconds of the same clock: deadlines of the datagram threads' upstream exchanges.
    public static func nanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(truncatingIfNeeded: now.tv_sec) &* 1_000_000_000 &+ UInt64(truncatingIfNeeded: now.tv_nsec)
    }
}
