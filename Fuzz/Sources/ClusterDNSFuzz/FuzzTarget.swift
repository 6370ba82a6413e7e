/// libFuzzer's entry points. `LLVMFuzzerTestOneInput` must exist for the runtime to link (its
/// own `main` refers to it); the driver is started by `main.swift` with the same callback.
typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> Int32

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ count: Int) -> Int32 {
    FuzzTarget.selected.run(UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : count))
    return 0
}

/// The parsers that read outside input (issue #11's list).
enum FuzzTarget: String, CaseIterable {
    /// A client's datagram or TCP message: the query decoder and the responder, over the demo
    /// cluster's snapshot.
    case responder
    /// A manifest file (YAML or JSON) through the manifest loader.
    case manifest
    /// An API list page or watch event through the API decoder.
    case apiEvent = "api-event"
    /// A TCP byte stream cut into reads, through the frame decoder.
    case tcpFraming = "tcp-framing"
    /// An upstream's reply through the forwarder's matching, truncation, TTL capping and cache.
    case forwarderReply = "forwarder-reply"

    /// Set once by `main.swift` before the driver starts; read by the callback on the same thread.
    nonisolated(unsafe) static var selected: FuzzTarget = .responder

    /// Builds what the target reads on every input (the demo snapshot), outside the runs.
    func prepare() {
        switch self {
        case .responder: ResponderTarget.prepare()
        case .forwarderReply: ForwarderReplyTarget.prepare()
        case .manifest, .apiEvent, .tcpFraming: break
        }
    }

    func run(_ input: UnsafeRawBufferPointer) {
        switch self {
        case .responder: ResponderTarget.run(input)
        case .manifest: ManifestTarget.run(input)
        case .apiEvent: APIEventTarget.run(input)
        case .tcpFraming: TCPFramingTarget.run(input)
        case .forwarderReply: ForwarderReplyTarget.run(input)
        }
    }
}

/// A broken invariant: a crash libFuzzer reports, with the input saved as an artifact.
func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}

/// The repository's root, for the demo cluster's files.
let repositoryRoot: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(4)  // Fuzz/Sources/ClusterDNSFuzz/FuzzTarget.swift
    return parts.joined(separator: "/")
}()
