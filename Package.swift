// swift-tools-version:6.1
import PackageDescription

// mv builds on Linux with glibc only (CLinux refuses anything else): it relies on O_DIRECT,
// preadv2, sync_file_range, mincore and glibc's mallopt. Hence no `platforms:` entry — the
// Apple platforms SwiftPM can name are not ones mv runs on.
//
// Targets depend only downward; docs/ARCHITECTURE.md draws the map:
//   C:          CGit2, CZlib (system libraries), CLinux, CMbedTLSStandIns, CPackChecksums, CPolyHash
//   SystemIO    <- CLinux                      the only target that makes file system calls
//   Git         <- SystemIO, CGit2, CZlib, …   libgit2 wrapper + mv's own packs (Git/Pack)
//   ModelFormat <- CPolyHash                   .npy, safetensors, manifest, reports, YAML
//   Learning                                   CSV, datasets, trainers, metrics
//   TensorStore <- Git, ModelFormat, SystemIO  tensor bytes to stored objects and back
//   Drift       <- ModelFormat, Learning       reference profiles and drift statistics (pure)
//   Registry    <- TensorStore, Learning, …    the domain: versions, stages, gates, diffs, training, remotes
//   Serving     <- Registry, Hummingbird       `mv serve`: HTTP protocols, stage following, metrics
//   Monitoring  <- Registry, Drift             `mv monitor`: data sources, policy, reports
//   mv          <- Registry, Serving, …        the CLI: parse, call the domain, render
let package = Package(
    name: "mv",
    products: [
        .executable(name: "mv", targets: ["mv"]),
        // For the fuzzers in Tests/Fuzz (a package of their own, built with -sanitize=fuzzer).
        .library(name: "ModelFormat", targets: ["ModelFormat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // Without its default traits: mv needs neither swift-configuration nor its extras.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        // Debian's libgit2 1.5; only its variadic option call needs a C wrapper.
        .systemLibrary(name: "CGit2", path: "Sources/CGit2", pkgConfig: "libgit2", providers: [.apt(["libgit2-dev"])]),
        // zlib, for deflating compressible blobs into packs.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Linux constants and calls Swift's Glibc module hides (O_DIRECT, preadv2, …), by name.
        .target(name: "CLinux"),
        // Stands in for two mbedTLS functions while libgit2 initialises, so it skips the CA
        // bundle mv never uses (~5 ms of every command).
        .target(name: "CMbedTLSStandIns", linkerSettings: [.linkedLibrary("dl")]),
        // zlib-compatible CRC-32 and Adler-32 with PCLMULQDQ/AVX2, for the pack writer.
        .target(name: "CPackChecksums", linkerSettings: [.linkedLibrary("z")]),
        // The carry-less polynomial hash under tensor fingerprints.
        .target(name: "CPolyHash"),
        .target(name: "SystemIO", dependencies: ["CLinux"]),
        // Crypto: plain SHA-1 for pack and index trailers (object ids stay on libgit2's sha1dc).
        .target(
            name: "Git",
            dependencies: [
                "SystemIO", "CGit2", "CMbedTLSStandIns", "CZlib", "CPackChecksums",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "ModelFormat",
            dependencies: [
                "Yams", "CPolyHash",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "Learning"),
        .target(
            name: "TensorStore",
            dependencies: [
                "Git", "ModelFormat", "SystemIO",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "Drift", dependencies: ["ModelFormat", "Learning"]),
        .target(
            name: "Registry",
            dependencies: [
                "TensorStore", "Git", "ModelFormat", "Learning", "Drift", "SystemIO",
                .product(name: "Crypto", package: "swift-crypto"),
                // LFS transfers (Remote/LFS): HTTP/1.1 and HTTP/2 over swift-nio, TLS by BoringSSL.
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]),
        .target(
            name: "Serving",
            dependencies: [
                "Registry", "Learning", "ModelFormat", "Git", "SystemIO",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // `mv report`: Charts/ is pure SVG text, apart from the registry code; Page/ reads Registry.
        .target(name: "Report", dependencies: ["Registry", "ModelFormat"]),
        .target(name: "Monitoring", dependencies: ["Registry", "Drift", "Learning", "ModelFormat", "Git", "SystemIO"]),
        .executableTarget(
            name: "mv",
            dependencies: [
                "Registry", "Serving", "Monitoring", "Report", "Drift", "ModelFormat", "Learning", "SystemIO", "TensorStore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        // Temp repositories, the git CLI and the mv binary for the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "SystemIOTests", dependencies: ["SystemIO", "TestSupport"]),
        .testTarget(
            name: "GitTests", dependencies: ["Git", "SystemIO", "TestSupport", "CPackChecksums", "CZlib", "CMbedTLSStandIns", "CGit2"]),
        .testTarget(name: "ModelFormatTests", dependencies: ["ModelFormat", "CPolyHash"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning"], exclude: ["Fixtures"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "TestSupport"], exclude: ["Python"]),
        .testTarget(name: "DriftTests", dependencies: ["Drift", "ModelFormat", "Learning", "TestSupport"]),
        .testTarget(
            name: "TensorStoreTests",
            dependencies: [
                "TensorStore", "Git", "ModelFormat", "SystemIO", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "Git", "ModelFormat", "TensorStore", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"], exclude: ["LFSServer"]),
        .testTarget(name: "ServingTests", dependencies: ["TestSupport"]),
        .testTarget(name: "MonitoringTests", dependencies: ["TestSupport"], exclude: ["Python"]),
    ],
    swiftLanguageModes: [.v6]
)
