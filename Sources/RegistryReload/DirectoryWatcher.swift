import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Watches directory trees with inotify and calls `onChange` on its own thread after each batch
/// of events. Every non-hidden subdirectory is watched (the same ones `ManifestLoader` reads),
/// including ones created later; a root that is deleted is watched again once it reappears.
///
/// Only says *that* something changed: the reloader compares file stamps to find out what.
public final class DirectoryWatcher: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let inotify: Int32
    /// A pipe `stop()` writes to, waking the thread out of `poll`: (read end, write end).
    private let wakeup: (read: Int32, write: Int32)
    private let roots: [String]
    private let onChange: @Sendable () -> Void
    private let state = NIOLockedValueBox(State())
    private let finished = DispatchSemaphore(value: 0)

    private struct State {
        /// Watch descriptor → the directory it watches.
        var directories: [Int32: String] = [:]
        var stopped = false
        var warnings: [String] = []
    }

    #if canImport(Glibc)
    static let mask: UInt32 = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE)
        | UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)

    /// Starts watching `roots` (adding the watches before it returns, so no later change is
    /// missed); throws when inotify is unavailable. `warning` receives problems such as the
    /// watch limit (`fs.inotify.max_user_watches`) being reached, after which polling must cover.
    public init(
        roots: [String], warning: @escaping @Sendable (String) -> Void = { _ in },
        onChange: @escaping @Sendable () -> Void
    ) throws(Failure) {
        inotify = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotify >= 0 else { throw Failure(description: "inotify_init1: \(String(cString: strerror(errno)))") }
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else {
            close(inotify)
            throw Failure(description: "pipe: \(String(cString: strerror(errno)))")
        }
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        wakeup = (pipeEnds[0], pipeEnds[1])
        self.roots = roots
        self.onChange = onChange
        for root in roots { addTree(root, warning: warning) }
        let thread = Thread { [self] in
            run(warning: warning)
            finished.signal()
        }
        thread.name = "clusterdns-watch"
        thread.start()
    }

    /// Stops the thread and closes the descriptors; returns once it has.
    public func stop() {
        let first = state.withLockedValue { state in
            defer { state.stopped = true }
            return !state.stopped
        }
        guard first else { return }
        var byte: UInt8 = 1
        _ = write(wakeup.write, &byte, 1)
        finished.wait()
    }

    /// Directories currently watched (for tests).
    public var watchedDirectories: Set<String> {
        Set(state.withLockedValue { $0.directories.values })
    }

    // MARK: - The thread

    private func run(warning: @Sendable (String) -> Void) {
        defer {
            close(inotify)
            close(wakeup.read)
            close(wakeup.write)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !state.withLockedValue({ $0.stopped }) {
            var descriptors = [
                pollfd(fd: inotify, events: Int16(POLLIN), revents: 0),
                pollfd(fd: wakeup.read, events: Int16(POLLIN), revents: 0),
            ]
            // The timeout lets a deleted root be picked up again once it is back.
            let ready = poll(&descriptors, 2, 1000)
            if ready < 0 && errno != EINTR { return }
            if descriptors[1].revents != 0 { return }
            var changed = readEvents(&buffer, warning: warning)
            changed = rewatchMissingRoots(warning: warning) || changed
            if changed { onChange() }
        }
    }

    /// Drains the inotify queue; true when any event arrived.
    private func readEvents(_ buffer: inout [UInt8], warning: @Sendable (String) -> Void) -> Bool {
        var any = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            guard count > 0 else { return any }
            any = true
            buffer.withUnsafeBytes { bytes in
                var offset = 0
                while offset + 16 <= count {
                    let descriptor = bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self)
                    let mask = bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self)
                    let nameLength = Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self))
                    let nameBytes = bytes[(offset + 16)..<min(count, offset + 16 + nameLength)]
                    let name = String(decoding: nameBytes.prefix { $0 != 0 }, as: UTF8.self)
                    handle(descriptor: descriptor, mask: mask, name: name, warning: warning)
                    offset += 16 + nameLength
                }
            }
        }
    }

    private func handle(descriptor: Int32, mask: UInt32, name: String, warning: @Sendable (String) -> Void) {
        if mask & UInt32(IN_Q_OVERFLOW) != 0 {
            // Events were lost, new directories among them perhaps: watch everything again.
            for root in roots { addTree(root, warning: warning) }
            return
        }
        if mask & UInt32(IN_IGNORED) != 0 {
            state.withLockedValue { _ = $0.directories.removeValue(forKey: descriptor) }
            return
        }
        let isNewDirectory = mask & UInt32(IN_ISDIR) != 0 && mask & UInt32(IN_CREATE | IN_MOVED_TO) != 0
        guard isNewDirectory, !name.hasPrefix("."),
              let parent = state.withLockedValue({ $0.directories[descriptor] })
        else { return }
        addTree(parent + "/" + name, warning: warning)
    }

    /// Roots that were deleted (their watch is gone) and exist again are watched again.
    private func rewatchMissingRoots(warning: @Sendable (String) -> Void) -> Bool {
        let watched = watchedDirectories
        var added = false
        for root in roots where !watched.contains(root) && isDirectory(root) {
            addTree(root, warning: warning)
            added = true
        }
        return added
    }

    // MARK: - Watches

    /// Watches `directory` and every non-hidden directory below it (symbolic links followed, as
    /// `ManifestLoader` does; a directory reached twice is watched once).
    private func addTree(_ directory: String, warning: @Sendable (String) -> Void) {
        var pending = [directory]
        var visited: Set<[UInt64]> = []
        while let current = pending.popLast() {
            var info = stat()
            guard stat(current, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
                  visited.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted
            else { continue }
            let descriptor = inotify_add_watch(inotify, current, Self.mask)
            guard descriptor >= 0 else {
                let message = "cannot watch \(current): \(String(cString: strerror(errno)))"
                let isNew = state.withLockedValue { state in
                    guard !state.warnings.contains(message) else { return false }
                    state.warnings.append(message)
                    return true
                }
                if isNew { warning(message + "; relying on --reload-interval polling") }
                continue
            }
            state.withLockedValue { $0.directories[descriptor] = current }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: current)) ?? []
            pending.append(contentsOf: names.filter { !$0.hasPrefix(".") }.map { current + "/" + $0 })
        }
    }

    private func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }
    #else
    public init(
        roots: [String], warning: @escaping @Sendable (String) -> Void = { _ in },
        onChange: @escaping @Sendable () -> Void
    ) throws(Failure) {
        throw Failure(description: "inotify is Linux-only")
    }

    public func stop() {}
    public var watchedDirectories: Set<String> { [] }
    #endif
}
