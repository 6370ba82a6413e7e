// swift-tools-version:6.1
// libFuzzer targets over every parser that reads outside input (issue #11), kept out of the root
// package so that its build and CI do not pay for sanitizer coverage. Run them with
// `scripts/fuzz` (see README.md). Debug builds only: the targets reach internal entry points
// through `@testable import`, which needs the modules built for testing.
import PackageDescription

let package = Package(
    name: "ClusterDNSFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "ClusterDNS", path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    ],
    targets: [
        .executableTarget(
            name: "ClusterDNSFuzz",
            dependencies: [
                .product(name: "ClusterDNSCore", package: "ClusterDNS"),
                .product(name: "ClusterDNSServer", package: "ClusterDNS"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ],
            path: "Sources/ClusterDNSFuzz"
        ),
    ]
)
