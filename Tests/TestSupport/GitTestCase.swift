import Foundation
import XCTest

/// What a finished process printed and how it exited.
public struct ProcessResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// A fresh folder per test, the real git CLI as the judge of what the code wrote, and the
/// built `mv` binary run exactly as a user runs it.
open class GitTestCase: XCTestCase {
    public var root: URL!

    open override func setUpWithError() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("mv-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }

    open override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    /// A pinned identity and locale, and no user or system git config leaking in.
    public static let environment: [String: String] = {
        var env = ProcessInfo.processInfo.environment
        env["GIT_AUTHOR_NAME"] = "Test Author"
        env["GIT_AUTHOR_EMAIL"] = "author@example.com"
        env["GIT_COMMITTER_NAME"] = "Test Author"
        env["GIT_COMMITTER_EMAIL"] = "author@example.com"
        env["GIT_CONFIG_NOSYSTEM"] = "1"
        env["GIT_CONFIG_GLOBAL"] = "/dev/null"
        env["LC_ALL"] = "C"
        return env
    }()

    public static func run(
        _ arguments: [String], in folder: URL, environment: [String: String] = GitTestCase.environment,
        stdin: Data? = nil
    ) throws -> ProcessResult {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.environment = environment
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        // Woken by the handler: Foundation's waitUntilExit polls every 50 ms, which the
        // suite's thousands of git runs would pay.
        let exited = DispatchSemaphore(value: 0)
        process.terminationHandler = { _ in exited.signal() }
        try process.run()
        // Read both pipes concurrently so a chatty child never blocks on a full pipe.
        let group = DispatchGroup()
        nonisolated(unsafe) var errors = Data()
        group.enter()
        DispatchQueue.global().async {
            errors = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let output = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        exited.wait()
        return ProcessResult(
            status: process.terminationStatus, stdout: String(decoding: output, as: UTF8.self),
            stderr: String(decoding: errors, as: UTF8.self))
    }

    @discardableResult
    public func git(
        _ arguments: String..., in folder: URL? = nil, allowFailure: Bool = false,
        file: StaticString = #filePath, line: UInt = #line
    ) throws -> String {
        let result = try Self.run(["git"] + arguments, in: folder ?? root)
        if result.status != 0 && !allowFailure {
            XCTFail("git \(arguments.joined(separator: " ")) failed: \(result.stderr)", file: file, line: line)
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The `mv` executable next to the test bundle (or MV_BINARY).
    public static var mvBinary: URL {
        if let path = ProcessInfo.processInfo.environment["MV_BINARY"] { return URL(fileURLWithPath: path) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if folder.path.hasSuffix(".xctest/Contents/MacOS") {
            folder = folder.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        }
        return folder.appendingPathComponent("mv")
    }

    public func mv(_ arguments: String..., in folder: URL? = nil) throws -> ProcessResult {
        try mv(arguments, in: folder)
    }

    public func mv(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = GitTestCase.environment) throws
        -> ProcessResult
    {
        let binary = Self.mvBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("mv is not built at \(binary.path): run 'swift build' first (make test does)")
        }
        return try Self.run([binary.path] + arguments, in: folder ?? root, environment: environment)
    }

    /// Runs mv and fails the test unless it exits 0; returns its standard output.
    @discardableResult
    public func mvOK(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try mv(arguments)
        XCTAssertEqual(result.status, 0, "mv \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// A repository on branch main with `mv init` done, in the test's folder.
    public func initRegistry(file: StaticString = #filePath, line: UInt = #line) throws {
        try git("init", "-q", "-b", "main", file: file, line: line)
        XCTAssertEqual(try mv("init").status, 0, file: file, line: line)
    }

    /// Everything a failed command must leave untouched: refs, index, work tree, objects
    /// reachable from refs.
    public func snapshot(_ folder: URL? = nil) throws -> String {
        let place = folder ?? root
        return [
            try git("for-each-ref", "--format=%(refname) %(objectname)", in: place),
            try git("symbolic-ref", "-q", "HEAD", in: place, allowFailure: true),
            try git("rev-parse", "-q", "--verify", "HEAD", in: place, allowFailure: true),
            try git("ls-files", "--stage", in: place),
            try git("status", "--porcelain", "--untracked-files=all", in: place),
            try git("diff", in: place),
        ].joined(separator: "\n---\n")
    }

    /// y = 3x + 2 + noise, the seed article's example, as CSV text.
    public static func linearCSV(rows: Int, seed: UInt64 = 1, noise: Double = 0.5) -> String {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> Double {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Double(state >> 11) / Double(1 << 53)
        }
        var lines = ["x,y"]
        for _ in 0..<rows {
            let x = next() * 10
            let y = 3 * x + 2 + (next() - 0.5) * 2 * noise
            lines.append(String(format: "%.6f,%.6f", x, y))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public func write(_ text: String, to name: String, in folder: URL? = nil) throws -> URL {
        let url = (folder ?? root).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url)
        return url
    }
}
