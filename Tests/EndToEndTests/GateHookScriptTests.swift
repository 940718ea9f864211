import Foundation
import TestSupport
import XCTest

/// The Hooks/ folder in the repository is exactly what `mv hooks print` prints (the
/// scripts calling `git-model`), and every file there is executable.
final class GateHookScriptTests: GateTestBase {
    static let hooksFolderInRepository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Hooks")

    func testHooksFolderMatchesMVHooksPrint() throws {
        let names = ["pre-commit", "pre-push", "reference-transaction", "pre-receive", "post-checkout", "post-merge"]
        let present = try FileManager.default.contentsOfDirectory(atPath: Self.hooksFolderInRepository.path).sorted()
        XCTAssertEqual(present, names.sorted(), "Hooks/ holds exactly mv's hooks")
        for name in names {
            let url = Self.hooksFolderInRepository.appendingPathComponent(name)
            let printed = try mv("hooks", "print", name)
            XCTAssertEqual(printed.status, 0, printed.stderr)
            XCTAssertEqual(read(url), printed.stdout, "Hooks/\(name) differs from 'mv hooks print \(name)'")
            XCTAssertTrue(isExecutable(url), "Hooks/\(name) is not executable")
            XCTAssertTrue(printed.stdout.hasPrefix("#!/bin/sh\n# mv-hook: \(name)\n"), printed.stdout)
            XCTAssertTrue(printed.stdout.contains("MV_BIN=${MV_BIN:-'git-model'}"), printed.stdout)
            XCTAssertTrue(printed.stdout.contains("\"$MV_BIN\" hook \(name) \"$@\""), printed.stdout)
            // Valid shell.
            XCTAssertEqual(try Self.run(["sh", "-n", url.path], in: root).status, 0, name)
        }
    }

    func testUnknownHookNameIsAUsageError() throws {
        let result = try mv("hooks", "print", "post-rewrite")
        XCTAssertEqual(result.status, 64, result.stderr)
        XCTAssertTrue(result.stderr.contains("The value 'post-rewrite' is invalid for '<hook>'"), result.stderr)
        XCTAssertTrue(result.stderr.contains("- pre-commit\n"), "the valid names are listed: \(result.stderr)")
        XCTAssertEqual(result.stdout, "")
    }

    /// The server script installed with --server is the printed one with mv's absolute path.
    func testServerInstallWritesOnlyPreReceive() throws {
        try git("init", "-q", "--bare", "-b", "main", "server.git")
        let result = try mv("hooks", "install", "--server", "-C", "server.git")
        XCTAssertEqual(result.status, 0, result.stderr)
        let hooks = root.appendingPathComponent("server.git/hooks")
        let installed = try FileManager.default.contentsOfDirectory(atPath: hooks.path).filter { !$0.hasSuffix(".sample") }
        XCTAssertEqual(installed, ["pre-receive"])
        let path = Self.mvBinary.resolvingSymlinksInPath().path
        XCTAssertEqual(
            read(hooks.appendingPathComponent("pre-receive")),
            try mv("hooks", "print", "pre-receive").stdout.replacingOccurrences(of: "'git-model'", with: "'\(path)'"))
    }
}
