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
    ]
)
