#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What decides whether a file must be read again: its identity, size and change times.
///
/// The inode and ctime catch an editor's rename-over-the-original and a `touch -r`; the mtime
/// and size catch ordinary writes.
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    /// Nanoseconds since the epoch.
    public var modified: Int64
    public var changed: Int64

    public init(device: UInt64, inode: UInt64, size: Int64, modified: Int64, changed: Int64) {
        self.device = device
        self.inode = inode
        self.size = size
        self.modified = modified
        self.changed = changed
    }

    /// The stamp of `path` (symbolic links followed), or nil when it cannot be read.
    public static func of(_ path: String) -> FileStamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        #if canImport(Darwin)
        let (mtime, ctime) = (info.st_mtimespec, info.st_ctimespec)
        #else
        let (mtime, ctime) = (info.st_mtim, info.st_ctim)
        #endif
        return FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(mtime.tv_sec) * 1_000_000_000 + Int64(mtime.tv_nsec),
            changed: Int64(ctime.tv_sec) * 1_000_000_000 + Int64(ctime.tv_nsec))
    }

    /// Wall-clock nanoseconds now, comparable with `modified`.
    static func now() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// Re-parses only the manifest files whose `FileStamp` changed since the previous call
/// (DESIGN.md §4): a reload of 10k services after one edit parses one file, not all of them.
/// It keeps no objects (the registry holds the one copy), only what decides whether the
/// directory as a whole loads: each file's errors and skipped kinds.
///
/// A file modified less than `racyWindow` before it was read may have been written again within
/// the file system's timestamp granularity without its stamp changing (git's "racy clean"
/// problem), so such an entry is parsed again on the next call; the registry then finds
/// whether its objects changed.
public struct ManifestCache: Sendable {
    struct Entry: Sendable {
        var stamp: FileStamp
        var errors: [ManifestError]
        var skippedKinds: [String: Int]
        /// Old enough when read that an unchanged stamp means unchanged content.
        var trusted: Bool
    }

    /// The outcome of one `load`.
    public struct Load: Sendable {
        /// The objects of each file parsed this time, and nil for each file that disappeared.
        public var changedFiles: [String: [KubernetesObject]?]
        /// Every error of every file (and of the directory walk), in file order: the directory
        /// loads only when there is none.
        public var errors: [ManifestError]
        public var skippedKinds: [String: Int]
        public var fileCount: Int
        /// Files parsed because they are new or their stamp changed.
        public var parsedFiles: Int
        /// Files that disappeared since the previous call.
        public var removedFiles: Int
        /// False when no file was parsed or removed and the directory errors are as they were.
        public var changed: Bool
    }

    public static let racyWindow: Int64 = 1_000_000_000

    private var entries: [String: Entry] = [:]
    private var walkErrors: [ManifestError] = []
    private var loaded = false

    public init() {}

    /// Forgets every file: the next `load` parses everything (SIGHUP).
    public mutating func invalidate() {
        entries.removeAll()
        loaded = false
    }

    public mutating func load(directory: String) -> Load {
        var walk = DirectoryWalk()
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        walk.visit(directory: root)
        let files = walk.files.sorted()
        let readStart = FileStamp.now()
        var stamps: [String: FileStamp] = [:]
        var stale: [String] = []
        for file in files {
            let stamp = FileStamp.of(file)
            stamps[file] = stamp
            if let entry = entries[file], let stamp, entry.stamp == stamp, entry.trusted { continue }
            stale.append(file)
        }
        var changedFiles: [String: [KubernetesObject]?] = [:]
        for (file, decoded) in zip(stale, ManifestLoader.decodeConcurrently(stale)) {
            // A file that vanished between the walk and the read reports its own read error.
            let stamp = stamps[file] ?? FileStamp(device: 0, inode: 0, size: -1, modified: 0, changed: 0)
            entries[file] = Entry(
                stamp: stamp, errors: decoded.errors, skippedKinds: decoded.skippedKinds,
                trusted: readStart - stamp.modified > Self.racyWindow)
            changedFiles[file] = .some(decoded.objects)
        }
        let present = Set(files)
        let removed = entries.keys.filter { !present.contains($0) }
        for file in removed {
            entries[file] = nil
            changedFiles[file] = .some(nil)
        }
        let changed = !loaded || walk.errors != walkErrors || !changedFiles.isEmpty
        walkErrors = walk.errors
        loaded = true
        var errors = walk.errors
        var skippedKinds: [String: Int] = [:]
        for file in files {
            guard let entry = entries[file] else { continue }
            errors += entry.errors
            skippedKinds.merge(entry.skippedKinds, uniquingKeysWith: +)
        }
        return Load(
            changedFiles: changedFiles, errors: errors, skippedKinds: skippedKinds, fileCount: files.count,
            parsedFiles: stale.count, removedFiles: removed.count, changed: changed)
    }
}
