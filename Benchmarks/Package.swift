// swift-tools-version:6.1
// Micro-benchmarks of the per-query path, kept out of the root package so that its build and CI
// do not pay for ordo-one/benchmark. Run from this directory: `swift package benchmark`
// (see README.md).
import PackageDescription

let package = Package(
    name: "ClusterDNSBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "ClusterDNS", path: ".."),
        // MallocInterposer explicitly: the default traits would also pull in jemalloc-era and
        // runtime-interposer pieces that this machine does not have.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // Only for the decoding options compared in APIDecoding (issue #9).
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .executableTarget(
            name: "QueryPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "ClusterDNSCore", package: "ClusterDNS"),
            ],
            path: "Benchmarks/QueryPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        // Throughput of the ways to decode the API's list pages: `swift run -c release APIDecoding`.
        .executableTarget(
            name: "APIDecoding",
            dependencies: [
                .product(name: "ClusterDNSCore", package: "ClusterDNS"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            path: "Benchmarks/APIDecoding"
        ),
        // Time and live heap of a full registry build: `swift run -c release RegistryMemory`.
        .executableTarget(
            name: "RegistryMemory",
            dependencies: [.product(name: "ClusterDNSCore", package: "ClusterDNS")],
            path: "Benchmarks/RegistryMemory"
        ),
    ]
)
