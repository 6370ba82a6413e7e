import DNSServer
import XCTest

/// Issue #9: serve caps glibc's malloc arenas, unless the operator set glibc's own knobs.
final class MallocArenasTests: XCTestCase {
    func testTheOperatorsOwnSettingWins() {
        XCTAssertFalse(MallocArenas.limit(to: 2, environment: ["MALLOC_ARENA_MAX": "8"]))
        XCTAssertFalse(MallocArenas.limit(to: 2, environment: ["GLIBC_TUNABLES": "glibc.malloc.arena_max=8"]))
    }

    func testLimitsWithoutAnOperatorSetting() {
        #if canImport(Glibc)
        // Sixteen is glibc's own ceiling on two cores: harmless for the test process.
        XCTAssertTrue(MallocArenas.limit(to: 16, environment: [:]))
        #endif
    }
}
