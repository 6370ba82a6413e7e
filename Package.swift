// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "ClusterDNS",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "clusterdns", targets: ["clusterdns"]),
        // The pure modules, for the nested Benchmarks/ package.
        // YamsReference: the Yams manifest reader the benchmarks and tests compare with.
        .library(name: "ClusterDNSCore", targets: ["DNSWire", "ClusterRegistry", "DNSResponder", "YamsReference"]),
        // For the fuzz targets (Fuzz/): the server's and the API source's parsers.
        .library(name: "ClusterDNSServer", targets: ["DNSServer", "KubernetesSource", "RegistryReload"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
    ],
    targets: [
        // libldns: zone files, presentation text and the independent decoder used by tests.
        .systemLibrary(
            name: "CLDNS",
            pkgConfig: "ldns",
            providers: [.apt(["libldns-dev"])]
        ),
        // libyaml's event parser: manifests and kubeconfigs are read event by event into a tape.
        .systemLibrary(
            name: "CLibYAML",
            pkgConfig: "yaml-0.1",
            providers: [.apt(["libyaml-dev"])]
        ),
        .target(
            name: "DNSWire",
            dependencies: [.product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(
            name: "ClusterRegistry",
            dependencies: [
                "DNSWire", "CLDNS", "CLibYAML", "CGNU",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // Manifests read with Yams' node trees, as before issue #9: the reference the tests and
        // benchmarks compare the tape reader with. No product the server ships depends on it.
        .target(
            name: "YamsReference",
            dependencies: ["ClusterRegistry", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "DNSResponder",
            dependencies: ["DNSWire", "ClusterRegistry", .product(name: "NIOCore", package: "swift-nio")]
        ),
        // glibc calls declared only under _GNU_SOURCE (recvmmsg, sendmmsg, sched_getaffinity), and
        // getrandom, which Swift's Glibc module lacks.
        .target(name: "CGNU"),
        // Hot reload: watching the sources, scheduling loads, swapping the served snapshot. No
        // networking of its own, so it sits below the server (DESIGN.md §2).
        .target(
            name: "RegistryReload",
            dependencies: [
                "ClusterRegistry",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "DNSServer",
            dependencies: [
                "DNSWire", "ClusterRegistry", "DNSResponder", "CGNU", "RegistryReload",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Atomics", package: "swift-atomics"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        // The Kubernetes API as a registry source: list + watch over HTTPS (`--kubernetes`).
        .target(
            name: "KubernetesSource",
            dependencies: [
                "ClusterRegistry",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Node-local mode's network set-up: the interface carrying the addresses and the
        // NOTRACK rules (`--node-local`).
        .target(name: "NodeLocal", dependencies: ["DNSWire"]),
        // The composition root of `serve`: settings in, a running server out.
        .target(
            name: "ClusterDNSApp",
            dependencies: [
                "DNSServer", "DNSResponder", "ClusterRegistry", "DNSWire", "KubernetesSource", "NodeLocal", "RegistryReload",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "clusterdns",
            dependencies: [
                "ClusterDNSApp", "DNSServer", "ClusterRegistry", "DNSWire", "KubernetesSource", "NodeLocal", "RegistryReload",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Test-only helpers (the ldns oracle); no product depends on it.
        .target(
            name: "DNSTestSupport",
            dependencies: [
                "CLDNS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .testTarget(name: "DNSWireTests", dependencies: ["DNSWire", "DNSTestSupport"], resources: [.copy("Golden")]),
        .testTarget(
            name: "ClusterRegistryTests",
            dependencies: ["ClusterRegistry", "DNSWire", "DNSTestSupport", "YamsReference", .product(name: "Yams", package: "Yams")]),
        .testTarget(
            name: "DNSResponderTests", dependencies: ["DNSResponder", "ClusterRegistry", "DNSWire", "DNSTestSupport"],
            resources: [.copy("Golden")]),
        .testTarget(
            name: "DNSServerTests",
            dependencies: [
                "DNSServer", "DNSResponder", "ClusterRegistry", "DNSWire", "DNSTestSupport", "RegistryReload",
                .product(name: "NIOPosix", package: "swift-nio"),
            ]),
        .testTarget(
            name: "RegistryReloadTests",
            dependencies: [
                "RegistryReload", "ClusterRegistry", "DNSResponder", "DNSWire", "DNSTestSupport",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]),
        .testTarget(
            name: "KubernetesSourceTests",
            dependencies: ["KubernetesSource", "ClusterRegistry", "DNSTestSupport"]),
        .testTarget(
            name: "ClusterDNSAppTests",
            dependencies: ["ClusterDNSApp", "DNSServer", "ClusterRegistry", "DNSWire", "DNSTestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["DNSWire", "DNSTestSupport"]),
    ]
)
