import DNSWire
import Yams

// Typed reads of `Yams.Node`s parsed with `Resolver.basic` (DESIGN.md §4): every scalar arrives
// as a string, so integers, booleans and nulls are recognised here, the way Kubernetes' YAML
// reader (YAML 1.1 → JSON) would read them. Each read reports a `ManifestError` with the field's
// path and line and returns nil, so decoding goes on and collects every error of a document.
// Paths are `@autoclosure`s: they are only built when something is wrong.

extension Yams.Node {
    /// A plain `null`, `~` or empty scalar: YAML 1.1 null, which the basic resolver leaves as text.
    var isNull: Bool {
        guard case .scalar(let scalar) = self, scalar.style == .plain || scalar.style == .any else {
            return false
        }
        switch scalar.string {
        case "", "~", "null", "Null", "NULL": return true
        default: return false
        }
    }

    var line: Int? { mark?.line }

    /// What a node holds, for "expected …, got …" messages.
    var shownValue: String {
        switch self {
        case .scalar(let scalar): return isNull ? "null" : "\"\(scalar.string)\""
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

extension Yams.Node.Mapping {
    /// The value of a plain key; nil when the key is absent or its value is null.
    func field(_ key: String) -> Yams.Node? {
        var index = startIndex
        let end = endIndex
        while index < end {
            let pair = self[index]
            if case .scalar(let scalar) = pair.key, scalar.string == key {
                return pair.value.isNull ? nil : pair.value
            }
            index += 1
        }
        return nil
    }
}

extension ManifestDecoder {
    /// Kubernetes treats an empty optional string like an absent one.
    static func nonEmpty(_ text: String?) -> String? {
        guard let text, !text.isEmpty else { return nil }
        return text
    }

    /// Records an error in the current document; without a line, the object's own line is used.
    mutating func report(_ field: String, line: Int?, _ message: String) {
        let location = SourceLocation(file: file, document: document, line: (line ?? objectLine).map { $0 + lineOffset })
        errors.append(ManifestError(location: location, field: fieldPrefix + field, message: message))
    }

    /// `parent[key]`, reporting it as missing (at the parent's line) when absent or null.
    mutating func required(
        _ parent: Yams.Node.Mapping?, _ key: String, at path: @autoclosure () -> String
    ) -> Yams.Node? {
        if let value = parent?.field(key) { return value }
        report(path(), line: parent?.mark?.line, "required field is missing")
        return nil
    }

    mutating func mapping(_ node: Yams.Node?, at path: @autoclosure () -> String) -> Yams.Node.Mapping? {
        guard let node else { return nil }
        if case .mapping(let mapping) = node { return mapping }
        report(path(), line: node.line, "expected a mapping, got \(node.shownValue)")
        return nil
    }

    mutating func sequence(_ node: Yams.Node?, at path: @autoclosure () -> String) -> Yams.Node.Sequence? {
        guard let node else { return nil }
        if case .sequence(let sequence) = node { return sequence }
        report(path(), line: node.line, "expected a list, got \(node.shownValue)")
        return nil
    }

    /// A scalar as written (numbers and booleans too, as Kubernetes' string fields accept them).
    mutating func text(_ node: Yams.Node?, at path: @autoclosure () -> String) -> String? {
        guard let node else { return nil }
        if case .scalar(let scalar) = node { return scalar.string }
        report(path(), line: node.line, "expected a string, got \(node.shownValue)")
        return nil
    }

    /// A required, non-empty string field of `parent`.
    mutating func requiredText(
        _ parent: Yams.Node.Mapping?, _ key: String, at path: @autoclosure () -> String
    ) -> String? {
        guard let node = required(parent, key, at: path()), let value = text(node, at: path()) else {
            return nil
        }
        if value.isEmpty {
            report(path(), line: node.line, "must not be empty")
            return nil
        }
        return value
    }

    /// A TCP/UDP/SCTP port number. Quoted numbers are accepted, as JSON and YAML tools differ.
    mutating func port(_ node: Yams.Node?, at path: @autoclosure () -> String) -> Int? {
        guard let node else { return nil }
        if case .scalar(let scalar) = node, let value = Int(scalar.string), (1...65535).contains(value) {
            return value
        }
        report(path(), line: node.line, "expected an integer 1…65535, got \(node.shownValue)")
        return nil
    }

    /// YAML 1.1 booleans (what Kubernetes' YAML reader accepts).
    mutating func bool(_ node: Yams.Node?, at path: @autoclosure () -> String) -> Bool? {
        guard let node else { return nil }
        if case .scalar(let scalar) = node {
            switch scalar.string {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
            default: break
            }
        }
        report(path(), line: node.line, "expected true or false, got \(node.shownValue)")
        return nil
    }

    mutating func ipAddress(_ node: Yams.Node?, at path: @autoclosure () -> String) -> IPAddress? {
        guard let node, let value = text(node, at: path()) else { return nil }
        if let address = IPAddress(value) { return address }
        report(path(), line: node.line, "not an IP address: \"\(value)\"")
        return nil
    }

    /// `TCP` when absent; Kubernetes spells protocols in upper case only.
    mutating func transportProtocol(_ node: Yams.Node?, at path: @autoclosure () -> String) -> TransportProtocol {
        guard let node, let value = text(node, at: path()) else { return .tcp }
        if let proto = TransportProtocol(rawValue: value) { return proto }
        report(path(), line: node.line, "expected TCP, UDP or SCTP, got \"\(value)\"")
        return .tcp
    }

    /// A `map[string]string` such as labels or a selector; null values read as "".
    mutating func stringMap(_ node: Yams.Node?, at path: @autoclosure () -> String) -> [String: String]? {
        guard let mapping = mapping(node, at: path()) else { return nil }
        var result: [String: String] = [:]
        result.reserveCapacity(mapping.count)
        for index in mapping.startIndex..<mapping.endIndex {
            let (keyNode, valueNode) = mapping[index]
            guard case .scalar(let key) = keyNode else {
                report(path(), line: keyNode.line, "expected string keys, got \(keyNode.shownValue)")
                continue
            }
            if valueNode.isNull {
                result[key.string] = ""
            } else if let value = text(valueNode, at: "\(path()).\(key.string)") {
                result[key.string] = value
            }
        }
        return result
    }

    /// `targetRef.name` when `targetRef.kind` is Pod (used by `--endpoint-pod-names`).
    mutating func podName(_ node: Yams.Node?, at path: @autoclosure () -> String) -> String? {
        guard let targetRef = mapping(node, at: path()),
              text(targetRef.field("kind"), at: "\(path()).kind") == "Pod" else { return nil }
        return text(targetRef.field("name"), at: "\(path()).name")
    }

    /// One entry of a `ports` list; nil (after reporting) when it is unusable, or when the
    /// port number is absent and `portRequired` is false (EndpointSlice: "all ports").
    mutating func portEntry(
        _ node: Yams.Node, portRequired: Bool, at path: @autoclosure () -> String
    ) -> (name: String?, port: Int, proto: TransportProtocol)? {
        guard let entry = mapping(node, at: path()) else { return nil }
        let name = text(entry.field("name"), at: "\(path()).name")
        let proto = transportProtocol(entry.field("protocol"), at: "\(path()).protocol")
        let portNode = portRequired ? required(entry, "port", at: "\(path()).port") : entry.field("port")
        guard let number = port(portNode, at: "\(path()).port") else { return nil }
        return (name?.isEmpty == false ? name : nil, number, proto)
    }
}
