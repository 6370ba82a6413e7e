import ClusterRegistry

/// How much of a prepared answer goes into one reply, after fitting it to the size limit.
struct SectionSizes {
    var answerLength: Int
    var answerCount: UInt16
    var authorityLength: Int
    var authorityCount: UInt16
    var additionalLength: Int
    var additionalCount: UInt16
    var truncated = false

    init(_ prepared: PreparedAnswer) {
        answerLength = prepared.answerLength
        answerCount = prepared.answerCount
        authorityLength = prepared.authorityLength
        authorityCount = prepared.authorityCount
        additionalLength = prepared.additionalLength
        additionalCount = prepared.additionalCount
    }

    var total: Int { answerLength + authorityLength + additionalLength }

    /// Additional data is optional: it goes first, without TC (RFC 2181 §9).
    mutating func dropAdditional() {
        additionalLength = 0
        additionalCount = 0
    }

    /// Keeps the longest run of whole answer RRsets that fits `room` and sets TC; the
    /// authority SOA only makes sense after the complete chain, so it goes too.
    mutating func truncateAnswer(toFit room: Int, boundaries: [RRsetBoundary]) {
        truncated = true
        authorityLength = 0
        authorityCount = 0
        answerLength = 0
        answerCount = 0
        for boundary in boundaries {
            guard boundary.byteEnd <= room else { break }
            answerLength = boundary.byteEnd
            answerCount = boundary.recordEnd
        }
    }
}
