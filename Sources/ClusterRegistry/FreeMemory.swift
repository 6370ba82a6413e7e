#if canImport(Glibc)
import Glibc
#endif

/// Hands the pages of freed memory back to the system (glibc's `malloc_trim`). glibc keeps
/// freed memory in its arenas, so RSS stays at its high-water mark after every build unless
/// something returns it. `malloc_trim` is looked up at run time: Glibc's module does not
/// export it.
public enum FreeMemory {
    public static func returnToSystem() {
        #if canImport(Glibc)
        guard let handle = dlopen(nil, RTLD_NOW) else { return }
        defer { dlclose(handle) }
        guard let symbol = dlsym(handle, "malloc_trim") else { return }
        typealias MallocTrim = @convention(c) (Int) -> Int32
        _ = unsafeBitCast(symbol, to: MallocTrim.self)(0)
        #endif
    }
}
