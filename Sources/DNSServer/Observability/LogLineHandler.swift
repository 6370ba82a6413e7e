import Foundation
import Logging

/// The swift-log backend of `clusterdns serve`: one line per event, written whole with one
/// `write(2)` (lines from several threads never interleave, and reach a pipe or file at once).
/// Info and below go to standard output, warnings and errors to standard error.
///
/// - `text`: the human message (which says itself when it is a warning), then the metadata as
///   logfmt `key=value` pairs, sorted: `reload: ok in 12 ms (…) services_added=1 trigger=change`.
/// - `json`: one object per line for log pipelines: `{"time":…,"level":…,"logger":…,"msg":…,…}`.
public struct LogLineHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case text, json
    }

    public let label: String
    public let format: Format
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]

    public init(label: String, format: Format) {
        self.label = label
        self.format = format
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        let line = format == .json
            ? Self.json(level: event.level, label: label, message: "\(event.message)", metadata: merged)
            : Self.text(message: "\(event.message)", metadata: merged)
        writeWholeLine(event.level >= .warning ? 2 : 1, line)
    }

    static func text(message: String, metadata: Logger.Metadata) -> String {
        let pairs = metadata.sorted { $0.key < $1.key }.map { "\($0.key)=\(logfmtValue("\($0.value)"))" }
        return message + (pairs.isEmpty ? "" : " " + pairs.joined(separator: " "))
    }

    static func json(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata) -> String {
        var fields = [
            ("time", jsonString(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))),
            ("level", jsonString(level.rawValue)), ("logger", jsonString(label)), ("msg", jsonString(message)),
        ]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            fields.append((key, Int("\(value)").map(String.init) ?? jsonString("\(value)")))
        }
        return "{" + fields.map { "\(jsonString($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }

    /// Bare when it needs no quoting, else a quoted, escaped string (logfmt).
    static func logfmtValue(_ value: String) -> String {
        let bare = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0.value < 0x7f }
        return bare ? value : jsonString(value)
    }

    static func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Writes `text` and a newline with as few `write(2)` calls as the kernel allows.
func writeWholeLine(_ descriptor: Int32, _ text: String) {
    var bytes = Array((text + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeMutableBytes { write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
        if written <= 0 { return }
        offset += written
    }
}
