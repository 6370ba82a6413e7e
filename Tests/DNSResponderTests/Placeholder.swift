import XCTest
final class DNSResponderTestsPlaceholder: XCTestCase { func testPlaceholder() {} }
