/// Where the served registry comes from: a manifests directory (`RegistryLoader.Incremental`) or
/// the Kubernetes API (`KubernetesSource`). The reloader asks it for a new snapshot whenever it
/// was told something changed, and swaps in what it returns.
public protocol RegistrySource: Sendable {
    /// Directories whose files feed the registry, watched with inotify and polled.
    var watchedDirectories: [String] { get }

    /// Builds a snapshot from what changed since the last load. `force` builds even when nothing
    /// seems to have changed (SIGHUP, and the first load).
    mutating func load(force: Bool) -> RegistryLoadOutcome
}

public enum RegistryLoadOutcome: Sendable {
    /// Nothing changed since the previous load (nothing was built).
    case unchanged
    case loaded(LoadedRegistry)
    case failed(RegistryLoader.Failure)
}

/// A successful load: the snapshot to publish and what changed.
public struct LoadedRegistry: Sendable {
    public var snapshot: RegistrySnapshot
    /// What changed since the previous snapshot (everything, on the first load).
    public var diff: RegistryDiff
    /// What the source did before the build, for the reload line: `parsed 2 files in 3 ms`,
    /// `14 API changes`.
    public var sourceDetail: String
    /// When each change this load serves entered the server (monotonic seconds), and the
    /// EndpointSlice trigger times it carries (wall-clock seconds): the programming-latency
    /// metrics measure from these to the publication.
    public var changeTimes = ChangeTimes()

    public init(snapshot: RegistrySnapshot, diff: RegistryDiff, sourceDetail: String, changeTimes: ChangeTimes = ChangeTimes()) {
        self.snapshot = snapshot
        self.diff = diff
        self.sourceDetail = sourceDetail
        self.changeTimes = changeTimes
    }
}

/// When the changes of one load happened, for the programming-latency histograms.
public struct ChangeTimes: Sendable, Hashable {
    /// Monotonic seconds at which each change was received (a watch event, a file write seen).
    public var received: [Double] = []
    /// Wall-clock seconds of each changed EndpointSlice's
    /// `endpoints.kubernetes.io/last-change-trigger-time`.
    public var triggered: [Double] = []

    public init(received: [Double] = [], triggered: [Double] = []) {
        self.received = received
        self.triggered = triggered
    }
}

/// The `*.zone` files of `--zones`, parsed again only when one of them was added, removed or
/// changed: shared by every registry source.
public struct ZoneDirectoryCache: Sendable {
    public let directory: String?
    private var stamps: [String: FileStamp]?
    public private(set) var models: Result<[ZoneModel], ZoneFileError> = .success([])

    public init(directory: String?) {
        self.directory = directory
    }

    /// Parses the zone files again when any changed (or when `force`); true when it did.
    public mutating func refresh(force: Bool) -> Bool {
        guard let directory else { return false }
        let current = RegistryLoader.Incremental.zoneFileStamps(directory)
        guard force || current != stamps else { return false }
        stamps = current
        models = Result { () throws(ZoneFileError) in try ZoneFileLoader.load(directory: directory) }
        return true
    }
}
