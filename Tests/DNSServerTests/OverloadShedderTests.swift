@testable import DNSServer
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// The shedder's verdicts on synthetic batches: arrival times in nanoseconds on one clock, and
/// senders by address.
final class OverloadShedderTests: XCTestCase {
    private let settings = OverloadShedder.Settings(maxQueueDelayNanoseconds: 1_000_000_000)  // behind past 2 ms
    private let now: Int64 = 50_000_000_000

    private static func client(_ last: UInt8) -> sockaddr_storage {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(10 << 24 | Int(last)).bigEndian
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: withUnsafeBytes(of: address) { $0 }) }
        return storage
    }

    private func judge(ages: [Int64], senders: [UInt8]) -> (shed: Bool, verdicts: [OverloadShedder.Verdict]) {
        var shedder = OverloadShedder(settings: settings)
        let shed = shedder.judge(
            count: ages.count, now: now, arrival: { ages[$0] < 0 ? 0 : self.now - ages[$0] }, client: { Self.client(senders[$0]) })
        return (shed, Array(shedder.verdicts.prefix(ages.count)))
    }

    func testAThreadThatKeepsUpShedsNothing() {
        // 40 datagrams from one client and 24 from another, the oldest 1 ms old: not behind.
        let result = judge(ages: Array(repeating: 1_000_000, count: 64), senders: Array(repeating: 1, count: 40) + Array(repeating: 2, count: 24))
        XCTAssertFalse(result.shed)
    }

    func testDatagramsOlderThanTheQueueDelayAreShed() {
        let ages: [Int64] = [1_500_000_000, 1_200_000_000, 900_000_000, 10_000_000]
        let result = judge(ages: ages, senders: [1, 2, 3, 4])
        XCTAssertTrue(result.shed)
        XCTAssertEqual(result.verdicts, [.tooOld, .tooOld, .answer, .answer])
    }

    func testWhileBehindOneClientGetsAQuarterOfTheBatch() {
        // 200 ms behind; client 1 sent 30 of 40 datagrams, client 2 the other 10, interleaved.
        let senders: [UInt8] = (0..<40).map { $0 % 4 == 3 ? 2 : 1 }
        let result = judge(ages: Array(repeating: 200_000_000, count: 40), senders: senders)
        XCTAssertTrue(result.shed)
        let answered = zip(senders, result.verdicts).filter { $0.1 == .answer }
        XCTAssertEqual(answered.filter { $0.0 == 1 }.count, 16, "the heavy client's share")
        XCTAssertEqual(answered.filter { $0.0 == 2 }.count, 10, "the light client loses nothing")
        XCTAssertEqual(result.verdicts.filter { $0 == .overShare }.count, 14)
    }

    func testASingleClientIsNotLimitedByShare() {
        // Nobody else to protect: one busy client (a benchmark, a node-local cache) keeps all.
        let result = judge(ages: Array(repeating: 200_000_000, count: 64), senders: Array(repeating: 7, count: 64))
        XCTAssertFalse(result.shed)
    }

    func testUnknownArrivalTimesNeverShed() {
        let result = judge(ages: [-1, -1, -1], senders: [1, 1, 2])
        XCTAssertFalse(result.shed)
    }
}
