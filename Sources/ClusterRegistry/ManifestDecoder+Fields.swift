import DNSWire

// Typed reads of `ManifestNode`s (Yams' nodes parsed with `Resolver.basic`, or the API's JSON;
// DESIGN.md §4): every scalar arrives as text, so integers, booleans and nulls are recognised here, the way Kubernetes' YAML
// reader (YAML 1.1 → JSON) would read them. Each read reports a `ManifestError` with the field's
// path and line and returns nil, so decoding goes on and collects every error of a document.
// Paths are `@autoclosure`s: they are only built when something is wrong.

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
    mutating func required<Mapping: ManifestMapping>(
        _ parent: Mapping?, _ key: String, at path: @autoclosure () -> String
    ) -> Mapping.Node? {
        if let value = parent?.field(key) { return value }
        report(path(), line: parent?.line, "required field is missing")
        return nil
    }

    mutating func mapping<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> Node.Mapping? {
        guard let node else { return nil }
        if let mapping = node.mapping { return mapping }
        report(path(), line: node.line, "expected a mapping, got \(node.shownValue)")
        return nil
    }

    mutating func sequence<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> Node.Sequence? {
        guard let node else { return nil }
        if let sequence = node.sequence { return sequence }
        report(path(), line: node.line, "expected a list, got \(node.shownValue)")
        return nil
    }

    /// A scalar as written (numbers and booleans too, as Kubernetes' string fields accept them).
    mutating func text<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> String? {
        guard let node else { return nil }
        if let text = node.scalarText { return text }
        report(path(), line: node.line, "expected a string, got \(node.shownValue)")
        return nil
    }

    /// A required, non-empty string field of `parent`.
    mutating func requiredText<Mapping: ManifestMapping>(
        _ parent: Mapping?, _ key: String, at path: @autoclosure () -> String
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
    mutating func port<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> Int? {
        guard let node else { return nil }
        if let text = node.scalarText, let value = Int(text), (1...65535).contains(value) {
            return value
        }
        report(path(), line: node.line, "expected an integer 1…65535, got \(node.shownValue)")
        return nil
    }

    /// YAML 1.1 booleans (what Kubernetes' YAML reader accepts).
    mutating func bool<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> Bool? {
        guard let node else { return nil }
        if let text = node.scalarText {
            switch text {
            case "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON": return true
            case "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF": return false
            default: break
            }
        }
        report(path(), line: node.line, "expected true or false, got \(node.shownValue)")
        return nil
    }

    mutating func ipAddress<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> IPAddress? {
        guard let node, let value = text(node, at: path()) else { return nil }
        if let address = IPAddress(value) { return address }
        report(path(), line: node.line, "not an IP address: \"\(value)\"")
        return nil
    }

    /// `TCP` when absent; Kubernetes spells protocols in upper case only.
    mutating func transportProtocol<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> TransportProtocol {
        guard let node, let value = text(node, at: path()) else { return .tcp }
        if let proto = TransportProtocol(rawValue: value) { return proto }
        report(path(), line: node.line, "expected TCP, UDP or SCTP, got \"\(value)\"")
        return .tcp
    }

    /// A `map[string]string` such as labels or a selector; null values read as "".
    mutating func stringMap<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> [String: String]? {
        guard let mapping = mapping(node, at: path()) else { return nil }
        var result: [String: String] = [:]
        result.reserveCapacity(mapping.count)
        for (keyNode, valueNode) in mapping.pairs {
            guard let key = keyNode.scalarText else {
                report(path(), line: keyNode.line, "expected string keys, got \(keyNode.shownValue)")
                continue
            }
            if valueNode.isNull {
                result[key] = ""
            } else if let value = text(valueNode, at: "\(path()).\(key)") {
                result[key] = value
            }
        }
        return result
    }

    /// `targetRef.name` when `targetRef.kind` is Pod (used by `--endpoint-pod-names`).
    mutating func podName<Node: ManifestNode>(_ node: Node?, at path: @autoclosure () -> String) -> String? {
        guard let targetRef = mapping(node, at: path()),
              text(targetRef.field("kind"), at: "\(path()).kind") == "Pod" else { return nil }
        return text(targetRef.field("name"), at: "\(path()).name")
    }

    /// One entry of a `ports` list; nil (after reporting) when it is unusable, or when the
    /// port number is absent and `portRequired` is false (EndpointSlice: "all ports").
    mutating func portEntry<Node: ManifestNode>(
        _ node: Node, portRequired: Bool, at path: @autoclosure () -> String
    ) -> (name: String?, port: Int, proto: TransportProtocol)? {
        guard let entry = mapping(node, at: path()) else { return nil }
        let name = text(entry.field("name"), at: "\(path()).name")
        let proto = transportProtocol(entry.field("protocol"), at: "\(path()).protocol")
        let portNode = portRequired ? required(entry, "port", at: "\(path()).port") : entry.field("port")
        guard let number = port(portNode, at: "\(path()).port") else { return nil }
        return (name?.isEmpty == false ? name : nil, number, proto)
    }
}
