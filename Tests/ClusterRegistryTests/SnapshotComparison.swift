@testable import ClusterRegistry
import DNSWire

/// Compares what two snapshots answer, name by name and byte for byte: every prepared answer
/// (its wire bytes, RRset boundaries and out-of-zone target), every zone's negative-answer SOA,
/// and the statistics a change must keep right.
enum SnapshotComparison {
    /// One name's answers in a form two snapshots can be compared by.
    struct NameAnswers: Hashable {
        var zone: Int
        var synthesizesPods: Bool
        var answers: [AnswerBytes]
    }

    struct AnswerBytes: Hashable {
        var type: UInt16
        var bytes: [UInt8]
        var counts: [UInt16]
        var lengths: [Int]
        var boundaries: [RRsetBoundary]
        var externalTarget: DomainName?
    }

    /// Every name a snapshot holds (cluster, reverse and zone files), by lower-cased wire name.
    static func names(_ snapshot: RegistrySnapshot) -> [[UInt8]: NameAnswers] {
        var result: [[UInt8]: NameAnswers] = [:]
        for segment in snapshot.shards + [snapshot.staticSegment] {
            for index in 0..<segment.count {
                let entry = segment.entries[index]
                let answers = entry.answers.map { answerIndex in
                    let answer = segment.preparedAnswer(at: answerIndex)
                    let end = answer.start + answer.answerLength + answer.authorityLength + answer.additionalLength
                    return AnswerBytes(
                        type: answer.type.rawValue, bytes: Array(segment.answerBytes[answer.start..<end]),
                        counts: [answer.answerCount, answer.authorityCount, answer.additionalCount],
                        lengths: [answer.answerLength, answer.authorityLength, answer.additionalLength],
                        boundaries: segment.rrsetBoundaries(of: answer),
                        externalTarget: answer.externalTarget.map { segment.externalTargets[$0] })
                }
                let key = Array(segment.names.key(index))
                if result[key] == nil {  // the cluster shard wins over a zone file, as lookups do
                    result[key] = NameAnswers(zone: entry.zone, synthesizesPods: entry.synthesizesPods, answers: answers)
                }
            }
        }
        return result
    }

    /// Human-readable differences, empty when the snapshots answer alike.
    static func differences(_ left: RegistrySnapshot, _ right: RegistrySnapshot, limit: Int = 10) -> [String] {
        var differences: [String] = []
        let (a, b) = (names(left), names(right))
        for (key, answers) in a where b[key] != answers {
            differences.append("\(describe(key)): \(b[key] == nil ? "missing on the right" : "answers differ")")
        }
        for key in b.keys where a[key] == nil { differences.append("\(describe(key)): missing on the left") }
        if left.zones.map(\.soaTail) != right.zones.map(\.soaTail) { differences.append("zone SOAs differ") }
        if left.statistics.records != right.statistics.records {
            differences.append("records \(left.statistics.records) vs \(right.statistics.records)")
        }
        if left.statistics.names != right.statistics.names {
            differences.append("names \(left.statistics.names) vs \(right.statistics.names)")
        }
        if left.statistics.namespaces != right.statistics.namespaces { differences.append("namespace counts differ") }
        if left.statistics.objectsByKind != right.statistics.objectsByKind { differences.append("object counts differ") }
        if left.statistics.warnings != right.statistics.warnings {
            differences.append("warnings differ: \(left.statistics.warnings) vs \(right.statistics.warnings)")
        }
        return Array(differences.sorted().prefix(limit))
    }

    private static func describe(_ key: [UInt8]) -> String {
        (try? DomainName(wire: key))?.description ?? "\(key)"
    }
}
