import Foundation

/// Reads manifest files for `ManifestCache`: cuts each into documents, reuses the documents
/// whose hash it saw last time (their objects are in the registry already), and parses the
/// others — every document of every file at once, over all cores.
enum ManifestFileReader {
    struct FileResult: Sendable {
        var documents: [ManifestCache.CachedDocument]
        /// The objects of the documents parsed, keyed.
        var upserts: [ObjectChange]
        var parsedDocuments: Int
    }

    /// One unit of parsing: a document, or a whole file that cannot be cut (or not be read).
    private struct Job: Sendable {
        var file: String
        var text: String
        var firstDocument: Int
        var firstLine = 1
        var hash: UInt64
        /// Set when the file could not be read: the job reports it instead of parsing.
        var readError: String?
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

    static func read(_ files: [String], previous: [String: [ManifestCache.CachedDocument]]) -> [FileResult] {
        // Per file: its documents in order, each reused (a cached document) or a job to run.
        var plans: [[Step]] = []
        var jobs: [Job] = []
        for file in files {
            var plan: [Step] = []
            let bytes: [UInt8]
            do {
                bytes = try readBounded(file)
            } catch {
                plan.append(.parse(jobs.count))
                jobs.append(Job(file: file, text: "", firstDocument: 0, hash: 0, readError: error.localizedDescription))
                plans.append(plan)
                continue
            }
            guard let chunks = ManifestChunker.split(bytes) else {
                plan.append(.parse(jobs.count))
                jobs.append(Job(file: file, text: String(decoding: bytes, as: UTF8.self), firstDocument: 0, hash: 0))
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
            for chunk in chunks where chunk.documents > 0 {
                if counts[chunk.hash] == 1, let document = reusable[chunk.hash] {
                    plan.append(.reuse(document))
                } else {
                    plan.append(.parse(jobs.count))
                    jobs.append(Job(
                        file: file, text: String(decoding: bytes[chunk.range], as: UTF8.self), firstDocument: chunk.document,
                        firstLine: chunk.firstLine, hash: chunk.hash))
                }
            }
            plans.append(plan)
        }
        let parsed = concurrentMap(count: jobs.count) { [jobs] in decode(jobs[$0]) }
        return zip(files, plans).map { file, plan in
            var result = FileResult(documents: [], upserts: [], parsedDocuments: 0)
            // Objects are numbered per document hash: a text repeated in one file is parsed
            // each time, and its copies' objects continue the numbers.
            var occurrences: [UInt64: Int] = [:]
            for step in plan {
                switch step {
                case .reuse(let document):
                    result.documents.append(document)
                case .parse(let index):
                    let decoder = parsed[index]
                    let hash = jobs[index].hash
                    let first = occurrences[hash, default: 0]
                    for (offset, object) in decoder.objects.enumerated() {
                        let key = ObjectKey.manifest(file: file, document: hash, position: first + offset)
                        result.upserts.append(ObjectChange(key: key, object: object))
                    }
                    occurrences[hash] = first + decoder.objects.count
                    result.documents.append(ManifestCache.CachedDocument(
                        hash: hash, firstPosition: first, objectCount: decoder.objects.count, errors: decoder.errors,
                        skippedKinds: decoder.skippedKinds))
                    result.parsedDocuments += 1
                }
            }
            return result
        }
    }

    private enum Step {
        case reuse(ManifestCache.CachedDocument)
        case parse(Int)
    }

    private static func decode(_ job: Job) -> ManifestDecoder {
        if let readError = job.readError { return ManifestLoader.unreadable(job.file, reason: readError) }
        return ManifestDecoder.decode(text: job.text, file: job.file, firstDocument: job.firstDocument, firstLine: job.firstLine)
    }
}
