#if canImport(Glibc)
import Glibc
#endif

/// The process's open-file limit (issue #11 items 3 and 14). Distributions start services with
/// a soft limit of 1,024 while the hard limit is far higher; at 1,024 a thousand idle TCP
/// connections left no descriptor for upstream sockets or the health endpoints.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one; returns the limit now in force.
    @discardableResult
    public static func raiseToHardLimit() -> UInt64 {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else { return 0 }
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { return UInt64(raised.rlim_cur) }
        }
        return UInt64(limits.rlim_cur)
    }
}
