import Foundation
import TestSupport
import XCTest

/// Shared set-up for the metric-gate and hook tests: a fresh `mv init` repository in
/// `root`, a good version (v1, rmse well under 1) and a noisy one (v2, rmse far above 1),
/// `.mv.yaml` written with a fixed three-line header so error line numbers are known, and
/// hooks written by hand into the hooks folder.
class GateTestBase: GitTestCase {
    /// The first line of the `gates:`/`metrics:` text passed to `writeConfig`.
    static let firstPolicyLine = 4

    func initRepository(file: StaticString = #filePath, line: UInt = #line) throws {
        let result = try mv("init")
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
    }

    /// v1 from low-noise data, v2 from noisy data (rmse ≫ 1, r2 < 0.9).
    func trainGoodAndNoisy(file: StaticString = #filePath, line: UInt = #line) throws {
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
        _ = try write(Self.linearCSV(rows: 300, noise: 8), to: "noisy.csv")
        let good = try mv("train", "m", "--data", "good.csv", "--target", "y")
        XCTAssertEqual(good.status, 0, good.stderr, file: file, line: line)
        let noisy = try mv("train", "m", "--data", "noisy.csv", "--target", "y")
        XCTAssertEqual(noisy.status, 0, noisy.stderr, file: file, line: line)
        XCTAssertEqual(try git("tag", "-l", "m@v*").split(separator: "\n"), ["m@v1.0.0", "m@v2.0.0"], file: file, line: line)
    }

    /// Writes `.mv.yaml` as three fixed lines plus `policy` (which starts on line 4), and
    /// commits it unless `commit` is false.
    func writeConfig(
        _ policy: String, commit: Bool = true, in folder: URL? = nil,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let text = "format: 1\nmodels_root: models\nstages: [staging, production]\n" + policy
        _ = try write(text.hasSuffix("\n") ? text : text + "\n", to: ".mv.yaml", in: folder)
        if commit {
            try git("add", ".mv.yaml", in: folder, file: file, line: line)
            try git("commit", "-q", "-m", "gates", in: folder, file: file, line: line)
        }
    }

    /// The usual policy: production and staging require rmse <= 1 and r2 >= 0.9;
    /// staging allows --force, production does not.
    static let standardPolicy = """
        gates:
          - stage: production
            rules:
              - rmse <= 1.0
              - r2 >= 0.9
          - stage: staging
            rules: [rmse <= 1.0, r2 >= 0.9]
            allow_force: true
        """

    func tags(_ pattern: String, in folder: URL? = nil) throws -> [String] {
        try git("tag", "-l", pattern, in: folder).split(separator: "\n").map(String.init)
    }

    func commit(of revision: String, in folder: URL? = nil) throws -> String {
        try git("rev-parse", "\(revision)^{commit}", in: folder)
    }

    /// The git CLI with its status and both outputs (for commands expected to fail).
    func gitResult(_ arguments: String..., in folder: URL? = nil, environment: [String: String] = GitTestCase.environment) throws
        -> ProcessResult
    {
        try Self.run(["git"] + arguments, in: folder ?? root, environment: environment)
    }

    /// A metric of a version's holdout evaluation, read with git.
    func holdoutMetric(_ version: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let report = try git("show", "m@\(version):models/m/eval/holdout.yaml")
        for text in report.split(separator: "\n") {
            let trimmed = text.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("\(name):"), let value = Double(trimmed.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)) {
                return value
            }
        }
        XCTFail("no \(name) in holdout report: \(report)", file: file, line: line)
        return .nan
    }

    var hooksFolder: URL { root.appendingPathComponent(".git/hooks") }

    /// Writes an executable shell hook.
    @discardableResult
    func writeHook(_ name: String, _ body: String, in folder: URL? = nil) throws -> URL {
        let url = (folder ?? hooksFolder).appendingPathComponent(name)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(("#!/bin/sh\n" + body + "\n").utf8).write(to: url)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    func read(_ url: URL) -> String? {
        FileManager.default.contents(atPath: url.path).map { String(decoding: $0, as: UTF8.self) }
    }

    func isExecutable(_ url: URL) -> Bool { FileManager.default.isExecutableFile(atPath: url.path) }

    /// The JSON object a command printed.
    func json(_ result: ProcessResult, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any] else {
            XCTFail("not a JSON object: \(result.stdout) \(result.stderr)", file: file, line: line)
            return [:]
        }
        return object
    }

    /// The `mv: error:` line of a refused command: exactly one, plus at most a hint.
    func assertOneLineError(_ result: ProcessResult, mentions expected: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertNotEqual(result.status, 0, result.stdout, file: file, line: line)
        let lines = result.stderr.split(separator: "\n").map(String.init)
        XCTAssertTrue(lines.first?.hasPrefix("mv: error: ") == true, result.stderr, file: file, line: line)
        XCTAssertTrue(lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("hint: ")), result.stderr, file: file, line: line)
        for text in expected {
            XCTAssertTrue(
                lines.first?.contains(text) == true, "expected '\(text)' in the error line: \(result.stderr)", file: file, line: line)
        }
    }
}
