import Foundation
import TestSupport
import XCTest

/// Each bad input: non-zero exit, one `mv: error:` line (plus at most a hint), and the
/// repository exactly as it was: same refs, index and work tree.
final class BadInputTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(try mv("init").status, 0)
        _ = try write(Self.linearCSV(rows: 30), to: "good.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
    }

    func assertRefused(
        _ arguments: [String], mentions expected: String, in folder: URL? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let before = try snapshot()
        let result = try mv(arguments, in: folder)
        XCTAssertNotEqual(result.status, 0, "\(arguments)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        XCTAssertTrue(lines.first?.hasPrefix("mv: error: ") == true, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(
            lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("hint: ")), "\(arguments): \(result.stderr)", file: file, line: line
        )
        XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertEqual(try snapshot(), before, "\(arguments) changed the repository", file: file, line: line)
    }

    func testMissingTargetColumn() throws {
        try assertRefused(
            ["train", "m", "--data", "good.csv", "--target", "price"], mentions: "no column 'price' in 'good.csv' (columns: x, y)")
    }

    func testNonNumericCell() throws {
        _ = try write("x,y\n1,2\n2,abc\n3,4\n", to: "bad.csv")
        try assertRefused(["train", "m", "--data", "bad.csv", "--target", "y"], mentions: "row 3, target 'y': 'abc' is not a number")
    }

    func testEmptyCSV() throws {
        _ = try write("", to: "empty.csv")
        try assertRefused(["train", "m", "--data", "empty.csv", "--target", "y"], mentions: "'empty.csv' is empty")
    }

    func testMissingDataFile() throws {
        try assertRefused(["train", "m", "--data", "nope.csv", "--target", "y"], mentions: "no such file")
    }

    func testUnknownModel() throws {
        try assertRefused(["log", "nosuch"], mentions: "unknown model 'nosuch'")
        try assertRefused(["show", "nosuch"], mentions: "unknown model 'nosuch'")
        try assertRefused(["show", "m@v9"], mentions: "'m' has no version v9.0.0")
    }

    func testBadModelNames() throws {
        for name in ["../x", "a/b", "x-", "_x", "x.y", "spaces here", "x@v1", ".."] {
            try assertRefused(["train", name, "--data", "good.csv", "--target", "y"], mentions: "invalid model name '\(name)'")
        }
    }

    func testUnknownAlgorithm() throws {
        try assertRefused(["train", "m", "--data", "good.csv", "--target", "y", "--algorithm", "magic"], mentions: "magic")
    }

    func testNotAGitRepository() throws {
        let outside = FileManager.default.temporaryDirectory.appendingPathComponent("mv-outside-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: outside, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: outside) }
        let result = try mv(["train", "m", "--data", root.appendingPathComponent("good.csv").path, "--target", "y"], in: outside)
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.hasPrefix("mv: error: not a git repository"), result.stderr)
        XCTAssertTrue(result.stderr.contains("mv init"), result.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outside.path), [])
    }

    func testHelpAndVersionExitZero() throws {
        let help = try mv("--help")
        XCTAssertEqual(help.status, 0, help.stderr)
        XCTAssertTrue(help.stdout.contains("SUBCOMMANDS:"), help.stdout)
        for command in ["train", "promote", "gate", "hooks", "add"] {
            let sub = try mv(command, "--help")
            XCTAssertEqual(sub.status, 0, "\(command): \(sub.stderr)")
            XCTAssertTrue(sub.stdout.contains("USAGE: mv \(command)"), sub.stdout)
        }
        let version = try mv("--version")
        XCTAssertEqual(version.status, 0)
        XCTAssertEqual(version.stdout, "0.1.0\n")
    }

    /// Commands that end before opening a repository exit while libgit2 may still be
    /// initialising on its background thread; that crashed with SIGSEGV in ~2–5% of runs.
    /// A shell loop runs them 300 times (one process start per test would take as long).
    func testQuickExitsNeverCrash() throws {
        let script = """
            crashes=0
            for i in $(seq 100); do
              for args in --version --help no-such-command; do
                "$0" $args >/dev/null 2>&1; status=$?
                [ $status -gt 100 ] && crashes=$((crashes + 1)) && echo "$args: $status"
              done
            done
            echo "crashes=$crashes"
            """
        let result = try Self.run(["sh", "-c", script, Self.mvBinary.path], in: root)
        XCTAssertTrue(result.stdout.hasSuffix("crashes=0\n"), result.stdout)
    }

    func testUsageErrorsExit64() throws {
        let result = try mv("train", "m", "--data", "good.csv")
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.contains("missing --target"), result.stderr)
    }

    func testMalformedConfigIsNamed() throws {
        _ = try write("models_root: models\nstagez: [a]\n", to: ".mv.yaml")
        let before = try snapshot()
        let result = try mv("list")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("unknown setting 'stagez'"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testCollinearFeatures() throws {
        _ = try write("a,b,y\n1,2,3\n2,4,5\n3,6,7\n4,8,9\n5,10,11\n6,12,13\n", to: "collinear.csv")
        try assertRefused(["train", "m", "--data", "collinear.csv", "--target", "y", "--test-size", "0"], mentions: "'b'")
    }
}
