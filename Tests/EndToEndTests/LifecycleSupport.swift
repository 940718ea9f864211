import Foundation
import TestSupport
import XCTest

/// Shared helpers for the lifecycle end-to-end tests (eval, promote, rollback, diff, …).
/// It holds no tests itself.
class LifecycleTestCase: GitTestCase {
    /// Runs mv and fails the test unless it exits 0.
    @discardableResult
    func ok(_ arguments: String..., in folder: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        let result = try mv(arguments, in: folder)
        XCTAssertEqual(result.status, 0, "mv \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result
    }

    /// `mv init` plus training data (`train.csv`) and evaluation data (`test.csv`).
    func initRepository(file: StaticString = #filePath, line: UInt = #line) throws {
        try ok("init", file: file, line: line)
        _ = try write(Self.linearCSV(rows: 120, seed: 1), to: "train.csv")
        _ = try write(Self.linearCSV(rows: 40, seed: 9), to: "test.csv")
    }

    /// Trains the next version of `model` on train.csv with a given seed.
    func train(_ model: String, seed: Int = 42, file: StaticString = #filePath, line: UInt = #line) throws {
        try ok("train", model, "--data", "train.csv", "--target", "y", "--seed", String(seed), file: file, line: line)
    }

    func json(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Any {
        do {
            return try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            XCTFail("not JSON: \(text)", file: file, line: line)
            throw error
        }
    }

    func jsonObject(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> [String: Any] {
        let value = try json(text, file: file, line: line)
        guard let object = value as? [String: Any] else {
            XCTFail("not a JSON object: \(text)", file: file, line: line)
            return [:]
        }
        return object
    }

    /// Runs a python3 script in the repository; fails the test unless it exits 0.
    @discardableResult
    func python(_ script: String, in folder: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try Self.run(["python3", "-c", script], in: folder ?? root)
        XCTAssertEqual(result.status, 0, "python failed: \(result.stderr)\n\(result.stdout)", file: file, line: line)
        return result.stdout
    }

    /// Every tag ref with the object it points at.
    func tagRefs(in folder: URL? = nil) throws -> [String: String] {
        var refs: [String: String] = [:]
        for line in try git("for-each-ref", "--format=%(refname) %(objectname)", "refs/tags", in: folder).split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { refs[parts[0]] = parts[1] }
        }
        return refs
    }

    /// Regular files under `directory`, as paths relative to it, sorted.
    func files(in directory: URL) -> [String] {
        let top = directory.standardizedFileURL.resolvingSymlinksInPath()
        guard let enumerator = FileManager.default.enumerator(at: top, includingPropertiesForKeys: [.isRegularFileKey]) else { return [] }
        let prefix = top.path + "/"
        var result: [String] = []
        for case let url as URL in enumerator {
            guard (try? url.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true else { continue }
            let path = url.standardizedFileURL.resolvingSymlinksInPath().path
            result.append(path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path)
        }
        return result.sorted()
    }

    /// Asserts that the files in `folder` (on disk) are exactly `revision:models/<model>`,
    /// byte for byte (compared by blob id).
    func assertFolder(
        _ folder: URL, equals revision: String, model: String,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let listing = try git("ls-tree", "-r", "\(revision):models/\(model)")
        var expected: [String: String] = [:]
        for row in listing.split(separator: "\n") {
            let parts = row.split(separator: "\t", maxSplits: 1).map(String.init)
            let fields = parts[0].split(separator: " ")
            expected[parts[1]] = String(fields[2])
        }
        XCTAssertFalse(expected.isEmpty, "no files in \(revision):models/\(model)", file: file, line: line)
        XCTAssertEqual(files(in: folder), expected.keys.sorted(), "file set of \(folder.path) vs \(revision)", file: file, line: line)
        for (path, blob) in expected {
            let actual = try git("hash-object", "--no-filters", folder.appendingPathComponent(path).path)
            XCTAssertEqual(actual, blob, "\(path) differs from \(revision)", file: file, line: line)
        }
    }

    /// A failing command: non-zero, one `mv: error:` line plus at most a `hint:` line,
    /// nothing on stdout, and refs, index and work tree exactly as they were.
    func assertRefused(_ arguments: [String], mentions expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let before = try snapshot()
        let result = try mv(arguments)
        XCTAssertNotEqual(result.status, 0, "\(arguments) succeeded: \(result.stdout)", file: file, line: line)
        let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.isEmpty }
        XCTAssertTrue(lines.first?.hasPrefix("mv: error: ") == true, "\(arguments): \(result.stderr)", file: file, line: line)
        XCTAssertTrue(
            lines.count == 1 || (lines.count == 2 && lines[1].hasPrefix("hint: ")), "\(arguments): \(result.stderr)",
            file: file, line: line)
        for text in expected {
            XCTAssertTrue(result.stderr.contains(text), "\(arguments): expected '\(text)' in: \(result.stderr)", file: file, line: line)
        }
        XCTAssertEqual(result.stdout, "", "\(arguments) printed on stdout", file: file, line: line)
        XCTAssertEqual(try snapshot(), before, "\(arguments) changed the repository", file: file, line: line)
    }

    func gtoAvailable() throws -> Bool {
        guard (try? Self.run(["gto", "--help"], in: root))?.status == 0 else {
            if ProcessInfo.processInfo.environment["CI"] != nil { XCTFail("gto is not installed; make test installs it") }
            throw XCTSkip("gto is not installed (pip install gto)")
        }
        return true
    }

    /// The tagger time (Unix seconds) of an annotated tag.
    func taggerSecond(_ tag: String) throws -> Int {
        Int(try git("for-each-ref", "--format=%(taggerdate:unix)", "refs/tags/\(tag)")) ?? -1
    }
}
