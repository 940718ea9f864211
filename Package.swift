// swift-tools-version:6.0
import PackageDescription

// Targets depend only downward: CGit2, CGit2Setup, CZlib, CChecksum <- Git <- Registry <- mv, with ModelFormat
// (over CChecksum) and Learning beside Git as leaves the Registry (domain) layer combines.
let package = Package(
    name: "mv",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "mv", targets: ["mv"]),
        // For the fuzzers in Tests/Fuzz (a package of their own, built with -sanitize=fuzzer).
        .library(name: "ModelFormat", targets: ["ModelFormat"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .systemLibrary(name: "CGit2", path: "Sources/CGit2"),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // zlib-compatible CRC-32 / Adler-32 with PCLMULQDQ and AVX2 for the pack writer; the
        // carry-less polynomial hash under tensor fingerprints.
        .target(name: "CChecksum", linkerSettings: [.linkedLibrary("z")]),
        // Keeps libgit2's initialisation from parsing the CA bundle mv never uses.
        .target(name: "CGit2Setup", linkerSettings: [.linkedLibrary("dl")]),
        // Crypto: plain SHA-1 for pack and index trailers (object ids stay on libgit2's sha1dc).
        .target(name: "Git", dependencies: [
            "CGit2", "CGit2Setup", "CZlib", "CChecksum",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "ModelFormat", dependencies: [
            "Yams", "CChecksum",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Learning"),
        .target(name: "Registry", dependencies: ["Git", "ModelFormat", "Learning"]),
        .executableTarget(name: "mv", dependencies: [
            "Registry", "ModelFormat", "Learning",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Temp repositories, the git CLI and the mv binary for the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "GitTests", dependencies: ["Git", "TestSupport", "CChecksum", "CZlib", "CGit2Setup", "CGit2"]),
        .testTarget(name: "ModelFormatTests", dependencies: ["ModelFormat", "CChecksum"]),
        .testTarget(name: "LearningTests", dependencies: ["Learning"], exclude: ["Fixtures"]),
        .testTarget(name: "RegistryTests", dependencies: ["Registry", "ModelFormat", "TestSupport"]),
        .testTarget(name: "EndToEndTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
