// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets for mv's parsers of untrusted files. Build and run with
// Tests/Fuzz/run (it passes -sanitize=fuzzer); not part of `make test`.
let package = Package(
    name: "MVFuzz",
    dependencies: [.package(name: "mv", path: "../..")],
    targets: [
        .target(name: "FuzzSupport"),
        .executableTarget(name: "FuzzSafetensors", dependencies: ["FuzzSupport", .product(name: "ModelFormat", package: "mv")]),
        .executableTarget(name: "FuzzNpy", dependencies: ["FuzzSupport", .product(name: "ModelFormat", package: "mv")]),
        .executableTarget(name: "FuzzManifest", dependencies: ["FuzzSupport", .product(name: "ModelFormat", package: "mv")]),
    ],
    swiftLanguageModes: [.v6]
)
