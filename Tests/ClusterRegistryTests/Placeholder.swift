import XCTest
final class ClusterRegistryTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
