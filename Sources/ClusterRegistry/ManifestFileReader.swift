import Foundation

/// Reads manifest files for `ManifestCache`: cuts each into documents, reuses the documents
/// whose hash it saw last time (their objects are in the registry already), and parses the
/// others over all cores, in runs of consecutive documents.
enum ManifestFileReader {
    struct FileResult: Sendable {
        var documents: [ManifestCache.CachedDocument]
        var parsedDocuments: Int
    }

    /// Every file's result, and the objects of the documents parsed, keyed, in file order.
    struct Results: Sendable {
        var files: [FileResult]
        var upserts: [ObjectChange]
    }

    /// A run of documents is parsed as one text: one string, one decoder and one task per run
    /// instead of per document. One per document was about 8 % of start-up at 100k Services
    /// (issue #9). A run ends at a reused document, after `runDocuments` documents, or past
    /// `runBytes`.
    static let runDocuments = 64
    static let runBytes = 128 << 10

    /// One unit of parsing: a run of documents, or a whole file that cannot be cut (or not be
    /// read).
    private struct Job: Sendable {
        var file: String
        /// The file's bytes the job reads (a view of the file's array, not a copy); made a
        /// `String` by the worker that parses them.
        var bytes: ArraySlice<UInt8>
        var firstDocument: Int
        var firstLine = 1
        /// Each document's hash, in order; one 0 for a whole file.
        var hashes: [UInt64]
        /// Each document's length in `bytes` and its first line in the file, for parsing a run
        /// again document by document.
        var pieces: [Piece] = []
        /// Set when the file could not be read: the job reports it instead of parsing.
        var readError: String?
    }

    private struct Piece: Sendable {
        var length: Int
        var firstLine: Int
    }

    /// A job's objects, and where each of its documents' objects, errors and skipped kinds are.
    private struct ParsedDocuments: Sendable {
        /// In reverse order, so that they are taken (`popLast`) without a copy.
        var objectsReversed: [KubernetesObject] = []
        /// Objects per document.
        var counts: [Int] = []
        var errors: [[ManifestError]] = []
        var skippedKinds: [[String: Int]] = []

        init() {}

        /// A decoder's whole text as one document.
        init(_ decoder: ManifestDecoder) {
            append(decoder)
        }

        mutating func append(_ decoder: ManifestDecoder) {
            objectsReversed.insert(contentsOf: decoder.objects.reversed(), at: 0)
            counts.append(decoder.objects.count)
            errors.append(decoder.errors)
            skippedKinds.append(decoder.skippedKinds)
        }
    }

    /// The largest manifest file read: a whole file is held while it is cut into documents.
    static let maxFileBytes = 64 << 20

    struct TooLarge: Error, LocalizedError {
        var size: Int
        var limit: Int
        var errorDescription: String? { "\(size) bytes, more than the \(limit) a manifest file may have" }
    }

    /// The file's bytes, refused before reading when it is larger than `maxBytes` (issue #11
    /// item 16: manifests were read whole whatever their size).
    static func readBounded(_ file: String, maxBytes: Int = maxFileBytes) throws -> [UInt8] {
        let size = (try FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)?.intValue ?? 0
        guard size <= maxBytes else { throw TooLarge(size: size, limit: maxBytes) }
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
    }

    static func read(_ files: [String], previous: [String: [ManifestCache.CachedDocument]]) -> Results {
        read(files, previous: previous, runDocuments: runDocuments, runBytes: runBytes)
    }

    /// `read` with runs of at most `runDocuments` documents and about `runBytes` bytes (tests
    /// compare runs of 1 with longer ones).
    static func read(
        _ files: [String], previous: [String: [ManifestCache.CachedDocument]], runDocuments: Int, runBytes: Int
    ) -> Results {
        // Per file: its documents in order, each reused (a cached document) or a document of a
        // job to run.
        var plans: [[Step]] = []
        var jobs: [Job] = []
        for file in files {
            var plan: [Step] = []
            let bytes: [UInt8]
            do {
                bytes = try readBounded(file)
            } catch {
                plan.append(.parse(job: jobs.count, document: 0))
                jobs.append(Job(file: file, bytes: [], firstDocument: 0, hashes: [0], readError: error.localizedDescription))
                plans.append(plan)
                continue
            }
            guard let chunks = ManifestChunker.split(bytes) else {
                plan.append(.parse(job: jobs.count, document: 0))
                jobs.append(Job(file: file, bytes: bytes[...], firstDocument: 0, hashes: [0]))
                plans.append(plan)
                continue
            }
            // A document whose bytes (hash) were there before, once in the file then and now,
            // and without errors, is reused: its objects are stored under the same keys.
            var reusable: [UInt64: ManifestCache.CachedDocument] = [:]
            var seenBefore: [UInt64: Int] = [:]
            for document in previous[file] ?? [] { seenBefore[document.hash, default: 0] += 1 }
            let counts = chunks.reduce(into: [UInt64: Int]()) { $0[$1.hash, default: 0] += 1 }
            for document in previous[file] ?? [] where document.errors.isEmpty && seenBefore[document.hash] == 1 {
                reusable[document.hash] = document
            }
            // The run being gathered: its chunks, consecutive in the file.
            var run: [ManifestChunk] = []
            func closeRun() {
                guard let first = run.first, let last = run.last else { return }
                jobs.append(Job(
                    file: file, bytes: bytes[first.range.lowerBound..<last.range.upperBound],
                    firstDocument: first.document, firstLine: first.firstLine, hashes: run.map(\.hash),
                    pieces: run.map { Piece(length: $0.range.count, firstLine: $0.firstLine) }))
                run = []
            }
            for chunk in chunks where chunk.documents > 0 {
                if counts[chunk.hash] == 1, let document = reusable[chunk.hash] {
                    closeRun()
                    plan.append(.reuse(document))
                } else {
                    if let first = run.first, run.count >= runDocuments || chunk.range.upperBound - first.range.lowerBound > runBytes {
                        closeRun()
                    }
                    plan.append(.parse(job: jobs.count, document: run.count))
                    run.append(chunk)
                }
            }
            closeRun()
            plans.append(plan)
        }
        var parsed = concurrentMap(count: jobs.count) { [jobs] in decode(jobs[$0]) }
        var upserts: [ObjectChange] = []
        upserts.reserveCapacity(parsed.reduce(0) { $0 + $1.objectsReversed.count })
        let results = zip(files, plans).map { file, plan in
            var result = FileResult(documents: [], parsedDocuments: 0)
            // Objects are numbered per document hash: a text repeated in one file is parsed
            // each time, and its copies' objects continue the numbers.
            var occurrences: [UInt64: Int] = [:]
            for step in plan {
                switch step {
                case .reuse(let document):
                    result.documents.append(document)
                case .parse(let job, let document):
                    // A job's documents come in order, each once: its objects are taken in order.
                    let hash = jobs[job].hashes[document]
                    let first = occurrences[hash, default: 0]
                    let count = parsed[job].counts[document]
                    for offset in 0..<count {
                        guard let object = parsed[job].objectsReversed.popLast() else { preconditionFailure("objects miscounted") }
                        upserts.append(ObjectChange(key: .manifest(file: file, document: hash, position: first + offset), object: object))
                    }
                    occurrences[hash] = first + count
                    result.documents.append(ManifestCache.CachedDocument(
                        hash: hash, firstPosition: first, objectCount: count, errors: parsed[job].errors[document],
                        skippedKinds: parsed[job].skippedKinds[document]))
                    result.parsedDocuments += 1
                }
            }
            return result
        }
        return Results(files: results, upserts: upserts)
    }

    private enum Step {
        case reuse(ManifestCache.CachedDocument)
        case parse(job: Int, document: Int)
    }

    private static func decode(_ job: Job) -> ParsedDocuments {
        if let readError = job.readError { return ParsedDocuments(ManifestLoader.unreadable(job.file, reason: readError)) }
        let text = String(decoding: job.bytes, as: UTF8.self)
        guard job.hashes.count > 1 else {
            return ParsedDocuments(ManifestDecoder.decode(
                text: text, file: job.file, firstDocument: job.firstDocument, firstLine: job.firstLine))
        }
        let decoder = ManifestDecoder.decodeRun(text: text, file: job.file, firstDocument: job.firstDocument, firstLine: job.firstLine)
        guard decoder.errors.isEmpty, let ends = decoder.documentEnds, ends.count == job.hashes.count else {
            // An error (after a syntax error the parser cannot go on, and the object budget is
            // the text's) or a count that differs: each document parsed alone, as one job each
            // would have, so that one bad document costs only itself.
            return decodeEach(job)
        }
        var parsed = ParsedDocuments()
        parsed.objectsReversed = decoder.objects
        parsed.objectsReversed.reverse()
        parsed.counts = zip(ends, [0] + ends.dropLast()).map { $0 - $1 }
        parsed.errors = Array(repeating: [], count: ends.count)
        parsed.skippedKinds = Array(repeating: [:], count: ends.count)
        for (document, kind) in decoder.skippedByDocument {
            parsed.skippedKinds[document - job.firstDocument][kind, default: 0] += 1
        }
        return parsed
    }

    /// A run's documents parsed one by one, each from its own bytes: a text repaired from bytes
    /// that are not UTF-8 is longer than they are, so the pieces are cut from the bytes.
    private static func decodeEach(_ job: Job) -> ParsedDocuments {
        var parsed = ParsedDocuments()
        var start = job.bytes.startIndex
        for (index, piece) in job.pieces.enumerated() {
            let end = min(start + piece.length, job.bytes.endIndex)
            parsed.append(ManifestDecoder.decode(
                text: String(decoding: job.bytes[start..<end], as: UTF8.self), file: job.file,
                firstDocument: job.firstDocument + index, firstLine: piece.firstLine))
            start = end
        }
        return parsed
    }
}
