#if canImport(Glibc)
import Glibc
#endif

/// How many malloc arenas glibc may create (issue #9: RSS after the first sync). glibc gives
/// threads that allocate at the same time their own arenas, up to eight per core. ClusterDNS
/// allocates in bursts on a handful of threads (the reload thread, two build workers, the
/// event loops), and the registry outlives each burst: spread over many arenas, its long-lived
/// blocks pin partly used pages in each, which `malloc_trim` cannot return. The query path
/// does not allocate, so fewer arenas cost it nothing.
public enum MallocArenas {
    /// What `serve` allows. Measured with `scripts/api-latency 100000 30` (GLIBC_TUNABLES):
    /// RSS settled after the first sync 375 MiB with glibc's default (16 on two cores), 365
    /// with 4, 331 with 2; peak 468, 448, 412 MiB. Two arenas make the full build's workers
    /// share one, which cost about 1.5 s of a 5 s build: memory is what large clusters run
    /// out of (issue #9), and changes after the first sync are as fast.
    public static let serveLimit: Int32 = 2

    /// glibc's `M_ARENA_MAX` (malloc.h); Glibc's module does not export it or `mallopt`.
    private static let arenaMaxParameter: Int32 = -8

    /// Limits the arenas to `count`, unless the operator chose through glibc's own
    /// environment (`MALLOC_ARENA_MAX`, `GLIBC_TUNABLES`; the process's own unless given).
    /// Returns whether it did.
    @discardableResult
    public static func limit(to count: Int32, environment: [String: String]? = nil) -> Bool {
        #if canImport(Glibc)
        let variable = { (name: String) in environment.map { $0[name] } ?? getenv(name).map { String(cString: $0) } }
        guard variable("MALLOC_ARENA_MAX") == nil, variable("GLIBC_TUNABLES") == nil,
              let handle = dlopen(nil, RTLD_NOW)
        else { return false }
        defer { dlclose(handle) }
        guard let symbol = dlsym(handle, "mallopt") else { return false }
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        return unsafeBitCast(symbol, to: Mallopt.self)(arenaMaxParameter, count) == 1
        #else
        return false
        #endif
    }
}
