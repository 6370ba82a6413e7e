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

/// `ManifestLoader.load(directory:)` that re-parses only the files whose `FileStamp` changed
/// since the previous call (DESIGN.md §4): a reload of 10k services after one edit parses one
/// file, not all of them.
///
/// A file modified less than `racyWindow` before it was read may have been written again within
/// the file system's timestamp granularity without its stamp changing (git's "racy clean"
/// problem), so such an entry is parsed again on the next call; it only counts as a change when
/// the result differs.
public struct ManifestCache: Sendable {
    struct Entry: Sendable {
        var stamp: FileStamp
        var decoded: ManifestDecoder
        /// Old enough when read that an unchanged stamp means unchanged content.
        var trusted: Bool
    }

    /// The outcome of one `load`: the merged manifests (or every error), and whether anything
    /// differs from the previous call.
    public struct Load: Sendable {
        public var result: Result<ManifestSet, ManifestLoadError>
        /// Files parsed because they are new or their stamp changed.
        public var parsedFiles: Int
        /// Files that disappeared since the previous call.
        public var removedFiles: Int
        /// False when every file, and every directory error, is as it was in the previous call.
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
        let parsed = ManifestLoader.decodeConcurrently(stale)
        var changed = !loaded || walk.errors != walkErrors
        for (file, decoded) in zip(stale, parsed) {
            // A file that vanished between the walk and the read reports its own read error.
            let stamp = stamps[file] ?? FileStamp(device: 0, inode: 0, size: -1, modified: 0, changed: 0)
            if let old = entries[file], old.decoded.sameContent(as: decoded), old.stamp == stamp {
                // A racy entry parsed again and found unchanged.
            } else {
                changed = true
            }
            entries[file] = Entry(stamp: stamp, decoded: decoded, trusted: readStart - stamp.modified > Self.racyWindow)
        }
        let present = Set(files)
        let removed = entries.keys.filter { !present.contains($0) }
        for file in removed { entries[file] = nil }
        changed = changed || !removed.isEmpty
        walkErrors = walk.errors
        loaded = true
        let result: Result<ManifestSet, ManifestLoadError>
        do {
            var set = try ManifestLoader.merge(files.compactMap { entries[$0]?.decoded }, errors: walk.errors)
            set.fileCount = files.count
            result = .success(set)
        } catch {
            result = .failure(error)
        }
        return Load(result: result, parsedFiles: stale.count, removedFiles: removed.count, changed: changed)
    }
}

extension ManifestDecoder {
    func sameContent(as other: ManifestDecoder) -> Bool {
        objects == other.objects && skippedKinds == other.skippedKinds && errors == other.errors
    }
}
