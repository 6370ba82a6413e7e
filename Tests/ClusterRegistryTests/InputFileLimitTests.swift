@testable import ClusterRegistry
import Foundation
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// Issue #11 item 16: a FIFO named like a zone file must not block the reload thread, and no
/// file is read whole past a size limit.
final class InputFileLimitTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "input-limits-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func testAFIFONamedLikeAZoneFileIsAnErrorNotAHang() throws {
        let fifo = directory + "/x.zone"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let finished = DispatchSemaphore(value: 0)
        let outcome = LockedBox<String?>(nil)
        let directory = directory
        Thread.detachNewThread {
            do {
                _ = try ZoneFileLoader.load(directory: directory)
                outcome.set("loaded")
            } catch let error as ZoneFileError {
                outcome.set(error.description)
            } catch {
                outcome.set("\(error)")
            }
            finished.signal()
        }
        if finished.wait(timeout: .now() + 10) == .timedOut {
            // Release the reader blocked in open(2), then fail.
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = finished.wait(timeout: .now() + 5)
            return XCTFail("loading the zones blocked on a FIFO")
        }
        XCTAssertEqual(outcome.get(), "\(fifo): not a regular file")
    }

    func testManifestFilesOverTheLimitAreRefusedBeforeReading() throws {
        let file = directory + "/big.yaml"
        try Data(repeating: UInt8(ascii: "#"), count: 2_000).write(to: URL(fileURLWithPath: file))
        XCTAssertThrowsError(try ManifestFileReader.readBounded(file, maxBytes: 1_000)) { error in
            XCTAssertEqual((error as? LocalizedError)?.errorDescription, "2000 bytes, more than the 1000 a manifest file may have")
        }
        XCTAssertEqual(try ManifestFileReader.readBounded(file, maxBytes: 2_000).count, 2_000)
    }
}

/// A value shared between the test and the thread it starts.
private final class LockedBox<Value>: @unchecked Sendable {
    // @unchecked: every access holds `lock`.
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func set(_ newValue: Value) { lock.withLock { value = newValue } }
    func get() -> Value { lock.withLock { value } }
}
