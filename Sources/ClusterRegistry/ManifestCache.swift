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

/// Re-parses only the manifest files whose `FileStamp` changed since the previous call, and in
/// those only the YAML documents whose bytes changed (DESIGN.md §4): a reload of 10k Services
/// after one edit parses one document. It keeps no objects (the registry holds the one copy),
/// only each document's hash and the registry keys of its objects, and reports what changed
/// as object changes.
///
/// A file modified less than `racyWindow` before it was read may have been written again within
/// the file system's timestamp granularity without its stamp changing (git's "racy clean"
/// problem), so such an entry is read again on the next call; its unchanged documents are found
/// by their hashes and cost nothing.
public struct ManifestCache: Sendable {
    struct Entry: Sendable {
        var stamp: FileStamp
        var documents: [CachedDocument]
        /// Old enough when read that an unchanged stamp means unchanged content.
        var trusted: Bool
        /// The documents' errors and skipped kinds, summed once per read: a reload visits
        /// every file's totals, not every document.
        var errors: [ManifestError]
        var skippedKinds: [String: Int]

        init(stamp: FileStamp, documents: [CachedDocument], trusted: Bool) {
            self.stamp = stamp
            self.documents = documents
            self.trusted = trusted
            errors = documents.flatMap(\.errors)
            skippedKinds = documents.reduce(into: [:]) { $0.merge($1.skippedKinds, uniquingKeysWith: +) }
        }
    }

    /// One document of a file as last parsed: what finding it unchanged needs.
    /// Its objects' keys are numbered from `firstPosition` (`ObjectKey.manifest`), so they are
    /// counted rather than kept: an array per document was 6 MiB at 100k Services.
    struct CachedDocument: Sendable {
        var hash: UInt64
        private var firstPosition: Int32
        private var objectCount: Int32
        var errors: [ManifestError]
        var skippedKinds: [String: Int]

        init(hash: UInt64, firstPosition: Int, objectCount: Int, errors: [ManifestError], skippedKinds: [String: Int]) {
            self.hash = hash
            self.firstPosition = Int32(clamping: firstPosition)
            self.objectCount = Int32(clamping: objectCount)
            self.errors = errors
            self.skippedKinds = skippedKinds
        }

        /// The keys its objects are stored under, for the file it was read from.
        func keys(in file: String) -> [ObjectKey] {
            (0..<Int(objectCount)).map { ObjectKey.manifest(file: file, document: hash, position: Int(firstPosition) + $0) }
        }
    }

    /// The outcome of one `load`.
    public struct Load: Sendable {
        /// Objects added, changed or removed, keyed as the registry stores them.
        public var changes: [ObjectChange]
        /// Every error of every file (and of the directory walk), in file order: the directory
        /// loads only when there is none.
        public var errors: [ManifestError]
        public var skippedKinds: [String: Int]
        public var fileCount: Int
        /// Files read because they are new or their stamp changed.
        public var parsedFiles: Int
        /// Documents parsed in them (the others were unchanged).
        public var parsedDocuments: Int
        /// Files that disappeared since the previous call.
        public var removedFiles: Int
        /// False when no file was read or removed and the directory errors are as they were.
        public var changed: Bool
    }

    public static let racyWindow: Int64 = 1_000_000_000

    private var entries: [String: Entry] = [:]
    private var walkErrors: [ManifestError] = []
    private var loaded = false
    /// Set by `invalidate`: parse every document again, but still know the keys stored.
    private var reparseAll = false

    public init() {}

    /// Reads and parses every file again on the next `load` (SIGHUP).
    public mutating func invalidate() {
        reparseAll = true
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
            if !reparseAll, let entry = entries[file], let stamp, entry.stamp == stamp, entry.trusted { continue }
            stale.append(file)
        }
        let reread = ManifestFileReader.read(stale, previous: reparseAll ? [:] : entries.mapValues(\.documents))
        // Every object parsed, then every object gone: no key is in both (a file's old keys
        // that its new documents still have are not gone).
        var changes = reread.upserts
        var parsedDocuments = 0
        for (file, result) in zip(stale, reread.files) {
            // A file that vanished between the walk and the read reports its own read error.
            let stamp = stamps[file] ?? FileStamp(device: 0, inode: 0, size: -1, modified: 0, changed: 0)
            let oldKeys = Set((entries[file]?.documents ?? []).flatMap { $0.keys(in: file) })
            changes += oldKeys.subtracting(result.documents.flatMap { $0.keys(in: file) }).sorted().map { ObjectChange(key: $0, object: nil) }
            parsedDocuments += result.parsedDocuments
            entries[file] = Entry(stamp: stamp, documents: result.documents, trusted: readStart - stamp.modified > Self.racyWindow)
        }
        let present = Set(files)
        let removed = entries.keys.filter { !present.contains($0) }.sorted()
        for file in removed {
            changes += (entries[file]?.documents ?? []).flatMap { $0.keys(in: file) }.map { ObjectChange(key: $0, object: nil) }
            entries[file] = nil
        }
        let changed = !loaded || walk.errors != walkErrors || !stale.isEmpty || !removed.isEmpty
        walkErrors = walk.errors
        loaded = true
        reparseAll = false
        var errors = walk.errors
        var skippedKinds: [String: Int] = [:]
        for file in files {
            guard let entry = entries[file] else { continue }
            errors += entry.errors
            skippedKinds.merge(entry.skippedKinds, uniquingKeysWith: +)
        }
        return Load(
            changes: changes, errors: errors, skippedKinds: skippedKinds, fileCount: files.count,
            parsedFiles: stale.count, parsedDocuments: parsedDocuments, removedFiles: removed.count, changed: changed)
    }
}
