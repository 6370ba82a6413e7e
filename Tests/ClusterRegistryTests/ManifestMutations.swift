import DNSTestSupport
import Foundation

/// The seeded manifest mutations the fuzz and equivalence tests share: the demo cluster's
/// manifests, edited where YAML is fragile.
enum ManifestMutations {
    /// The demo cluster's manifest files (`zones/cluster`) with these suffixes, by name.
    static func demoCluster(suffixes: [String]) throws -> [[UInt8]] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("zones/cluster")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { file in suffixes.contains { file.hasSuffix($0) } }.sorted()
        return try files.map { Array(try String(contentsOfFile: directory.appendingPathComponent($0).path, encoding: .utf8).utf8) }
    }

    /// One to `maxEdits` edits of `text`: a byte replaced or inserted from `special`, a byte
    /// removed, a run of up to 60 bytes repeated, or the rest cut off.
    static func mutate(_ text: [UInt8], _ random: inout SplitMix64, special: [UInt8], maxEdits: Int) -> [UInt8] {
        var bytes = text
        for _ in 0..<(1 + Int(random.next() % UInt64(maxEdits))) {
            let position = bytes.isEmpty ? 0 : Int(random.next() % UInt64(bytes.count))
            switch random.next() % 5 {
            case 0 where !bytes.isEmpty: bytes[position] = special[Int(random.next() % UInt64(special.count))]
            case 1: bytes.insert(special[Int(random.next() % UInt64(special.count))], at: position)
            case 2 where !bytes.isEmpty: bytes.remove(at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + Int(random.next() % 60))
                bytes.insert(contentsOf: bytes[position..<end], at: end)
            default: bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }
}
