import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every error found while loading manifests, in file order.
public struct ManifestLoadError: Error, Sendable, CustomStringConvertible {
    public var errors: [ManifestError]

    public init(errors: [ManifestError]) {
        self.errors = errors
    }

    /// One error per line.
    public var description: String {
        errors.map(\.description).joined(separator: "\n")
    }
}

/// Reads Kubernetes manifests (YAML or JSON, multi-document, `List`s) into a `ManifestSet`.
///
/// Files are parsed concurrently, one file per work item, and merged in sorted path order, so
/// the result does not depend on scheduling. Every error of every file is collected.
public enum ManifestLoader {
    /// File name extensions that hold manifests (compared case-insensitively).
    public static let fileExtensions: Set<String> = ["yaml", "yml", "json"]

    /// Every *.yaml, *.yml, *.json file under `directory`, recursively (hidden files/dirs skipped),
    /// in sorted path order.
    ///
    /// Symbolic links are followed, so a mounted ConfigMap (`name.yaml -> ..data/name.yaml`,
    /// with `..data` hidden) loads as expected; a directory reached twice is read once.
    public static func load(directory: String) throws(ManifestLoadError) -> ManifestSet {
        var walk = DirectoryWalk()
        let root = directory.count > 1 && directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        walk.visit(directory: root)
        let files = walk.files.sorted()
        let decoded = decodeConcurrently(files)
        var set = try merge(decoded, errors: walk.errors)
        set.fileCount = files.count
        return set
    }

    /// One file's text; `file` is used for error locations.
    public static func parse(text: String, file: String) throws(ManifestLoadError) -> ManifestSet {
        try merge([ManifestDecoder.decode(text: text, file: file)], errors: [])
    }

    // MARK: - Parsing

    static func decodeConcurrently(_ files: [String]) -> [ManifestDecoder] {
        concurrentMap(count: files.count) { decodeFile(at: files[$0]) }
    }

    private static func decodeFile(at path: String) -> ManifestDecoder {
        let bytes: [UInt8]
        do {
            bytes = try ManifestFileReader.readBounded(path)
        } catch {
            return unreadable(path, reason: error.localizedDescription)
        }
        return ManifestDecoder.decode(text: String(decoding: bytes, as: UTF8.self), file: path)
    }

    /// What a file that cannot be read decodes to: its one error.
    static func unreadable(_ path: String, reason: String) -> ManifestDecoder {
        var decoder = ManifestDecoder(file: path)
        decoder.errors.append(ManifestError(
            location: SourceLocation(file: path, document: 0), field: "",
            message: "cannot read file: \(reason)"
        ))
        return decoder
    }

    static func merge(
        _ decoded: [ManifestDecoder], errors: [ManifestError]
    ) throws(ManifestLoadError) -> ManifestSet {
        var errors = errors
        var set = ManifestSet(fileCount: decoded.count)
        set.objects.reserveCapacity(decoded.reduce(0) { $0 + $1.objects.count })
        for file in decoded {
            errors.append(contentsOf: file.errors)
            set.objects.append(contentsOf: file.objects)
            set.skippedKinds.merge(file.skippedKinds, uniquingKeysWith: +)
        }
        guard errors.isEmpty else { throw ManifestLoadError(errors: errors) }
        return set
    }
}

/// Collects manifest files below a directory, skipping hidden entries.
struct DirectoryWalk {
    private(set) var files: [String] = []
    private(set) var errors: [ManifestError] = []
    /// (device, inode) of directories already read: symbolic links may form loops.
    private var visited: Set<DirectoryID> = []

    private struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    mutating func visit(directory: String) {
        var info = stat()
        guard stat(directory, &info) == 0 else {
            fail(directory, "cannot read directory: \(String(cString: strerror(errno)))")
            return
        }
        let id = DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        guard visited.insert(id).inserted else { return }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            fail(directory, "cannot read directory: \(error.localizedDescription)")
            return
        }
        for name in names where !name.hasPrefix(".") {
            let path = directory + "/" + name
            var entry = stat()
            guard stat(path, &entry) == 0 else { continue }  // dangling symbolic link
            if (entry.st_mode & S_IFMT) == S_IFDIR {
                visit(directory: path)
            } else if (entry.st_mode & S_IFMT) == S_IFREG, Self.isManifest(name) {
                files.append(path)
            }
        }
    }

    static func isManifest(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return ManifestLoader.fileExtensions.contains(name[name.index(after: dot)...].lowercased())
    }

    private mutating func fail(_ path: String, _ message: String) {
        errors.append(ManifestError(location: SourceLocation(file: path, document: 0), field: "", message: message))
    }
}
