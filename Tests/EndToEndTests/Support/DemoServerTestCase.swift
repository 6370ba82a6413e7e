import XCTest

/// Base for tests that query one demo server (zones/cluster plus the static zone) with dig.
class DemoServerTestCase: XCTestCase {
    let servers = ServerGroup()
    var dig = Dig(host: "", port: 0)

    override func setUpWithError() throws {
        dig = try servers.startDemo().dig
    }

    override func tearDown() {
        servers.stopAll()
    }
}
