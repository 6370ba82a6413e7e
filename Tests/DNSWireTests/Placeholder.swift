import XCTest
final class DNSWireTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
