import XCTest
final class DNSServerTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
