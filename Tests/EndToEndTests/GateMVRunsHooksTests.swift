import Foundation
import TestSupport
import XCTest

/// libgit2 runs no hooks, so mv runs the repository's own around its writes: pre-commit
/// (seeing the commit's tree as the index), commit-msg, reference-transaction and
/// post-commit, like git would.
final class GateMVRunsHooksTests: GateTestBase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
    }

    func train(file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        try mv("train", "m", "--data", "good.csv", "--target", "y")
    }

    func testFailingPreCommitHookStopsMVTrain() throws {
        try writeHook("pre-commit", "echo 'policy: no models on Fridays'\necho 'and stderr too' >&2\nexit 1")
        let before = try snapshot()
        let result = try train()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(
            result.stderr.contains("policy: no models on Fridays"), "the hook's stdout reaches the user on stderr: \(result.stderr)")
        XCTAssertTrue(result.stderr.contains("and stderr too"), result.stderr)
        XCTAssertTrue(result.stderr.contains("mv: error: the pre-commit hook refused the commit (exit status 1)"), result.stderr)
        XCTAssertFalse(result.stdout.contains("Committed"), result.stdout)
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try git("tag", "-l"), "")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/m").path))
    }

    func testCommitMsgHookEditsTheCommittedMessage() throws {
        try writeHook("commit-msg", "echo 'Reviewed-by: Hook <hook@example.com>' >> \"$1\"")
        let result = try train()
        XCTAssertEqual(result.status, 0, result.stderr)
        let message = try git("log", "-1", "--format=%B")
        XCTAssertTrue(message.hasPrefix("m v1.0.0: rmse "), message)
        XCTAssertTrue(message.hasSuffix("Reviewed-by: Hook <hook@example.com>"), message)
        XCTAssertEqual(try git("log", "-1", "--format=%(trailers:key=Reviewed-by,valueonly)"), "Hook <hook@example.com>")
        XCTAssertEqual(try git("log", "-1", "--format=%(trailers:key=Model-Version,valueonly)"), "v1.0.0")
        XCTAssertEqual(try commit(of: "m@v1.0.0"), try git("rev-parse", "HEAD"))
    }

    func testFailingCommitMsgHookStopsMVTrain() throws {
        try writeHook("commit-msg", "echo 'bad message' >&2\nexit 1")
        let before = try snapshot()
        let result = try train()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("bad message"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try git("tag", "-l"), "")
    }

    func testReferenceTransactionHookRefusingPreparedBlocksMVPromote() throws {
        XCTAssertEqual(try train().status, 0)
        let log = root.appendingPathComponent(".git/transactions.log")
        try writeHook(
            "reference-transaction",
            """
            echo "phase $1" >> '\(log.path)'
            cat >> '\(log.path)'
            if [ "$1" = prepared ]; then echo 'no stage changes today' >&2; exit 1; fi
            exit 0
            """)
        let before = try snapshot()
        let result = try mv("promote", "v1")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no stage changes today"), result.stderr)
        XCTAssertTrue(result.stderr.contains("the reference-transaction hook refused"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try tags("m#*"), [])
        let phases = read(log) ?? ""
        XCTAssertTrue(phases.hasPrefix("phase prepared\n"), phases)
        // The hook saw the stage tag and the branch update, in git's format.
        XCTAssertTrue(phases.range(of: #"0{40} [0-9a-f]{40} refs/tags/m#production#1\n"#, options: .regularExpression) != nil, phases)
        XCTAssertTrue(phases.range(of: #"[0-9a-f]{40} [0-9a-f]{40} refs/heads/main\n"#, options: .regularExpression) != nil, phases)
        XCTAssertFalse(phases.contains("phase committed"), phases)
    }

    /// git runs the hook again with "aborted" when the "prepared" phase refuses; mv should too.
    func testReferenceTransactionRefusalIsFollowedByAborted() throws {
        XCTAssertEqual(try train().status, 0)
        let log = root.appendingPathComponent(".git/transactions.log")
        try writeHook(
            "reference-transaction",
            """
            echo "$1" >> '\(log.path)'
            cat > /dev/null
            [ "$1" = prepared ] && exit 1
            exit 0
            """)
        // git itself, for reference.
        XCTAssertNotEqual(try gitResult("tag", "-a", "m#production#7", "-m", "x", "HEAD").status, 0)
        let gitPhases = read(log) ?? ""
        try FileManager.default.removeItem(at: log)
        XCTAssertNotEqual(try mv("promote", "v1").status, 0)
        // Like git: a refused "prepared" is followed by "aborted" (see gitPhases).
        XCTAssertEqual(read(log), gitPhases, "mv's hook phases should match git's")
    }

    func testReferenceTransactionSeesPreparedAndCommittedForMVTrain() throws {
        let log = root.appendingPathComponent(".git/transactions.log")
        try writeHook("reference-transaction", "echo \"phase $1\" >> '\(log.path)'\ncat >> '\(log.path)'")
        XCTAssertEqual(try train().status, 0)
        let head = try git("rev-parse", "HEAD")
        let parent = try git("rev-parse", "HEAD~1")
        let tagObject = try git("rev-parse", "refs/tags/m@v1.0.0")
        let body = "0000000000000000000000000000000000000000 \(tagObject) refs/tags/m@v1.0.0\n\(parent) \(head) refs/heads/main\n"
        XCTAssertEqual(read(log), "phase prepared\n" + body + "phase committed\n" + body)
    }

    func testPostCommitHookRunsAfterMVTrain() throws {
        let marker = root.appendingPathComponent(".git/post-commit-ran")
        try writeHook("post-commit", "git rev-parse HEAD > '\(marker.path)'\nexit 1")
        let result = try train()
        XCTAssertEqual(result.status, 0, "post-commit's status does not matter: \(result.stderr)")
        XCTAssertEqual(
            read(marker)?.trimmingCharacters(in: .whitespacesAndNewlines), try git("rev-parse", "HEAD"),
            "post-commit runs once the commit has landed")
        XCTAssertEqual(try tags("m@*"), ["m@v1.0.0"])
    }

    func testPreCommitHookSeesTheCommitsModelFilesAsTheIndex() throws {
        let out = root.appendingPathComponent(".git/pre-commit-saw")
        try writeHook("pre-commit", "git diff --cached --name-only > '\(out.path)'")
        let result = try train()
        XCTAssertEqual(result.status, 0, result.stderr)
        let seen = (read(out) ?? "").split(separator: "\n").map(String.init)
        XCTAssertEqual(
            seen,
            [
                "models/m/README.md", "models/m/eval/holdout.yaml", "models/m/model.yaml",
                "models/m/params/coef.npy", "models/m/params/intercept.npy", "models/m/reference.yaml",
            ])
        XCTAssertTrue(seen.contains("models/m/model.yaml"))
        // The user's real index is untouched by the hook's temporary one.
        XCTAssertEqual(try git("diff", "--cached", "--name-only"), "")
    }

    /// A user's staged change stays out of the version's commit, and out of what pre-commit sees.
    func testPreCommitHookDoesNotSeeTheUsersStagedWork() throws {
        _ = try write("draft\n", to: "notes.md")
        try git("add", "notes.md")
        let out = root.appendingPathComponent(".git/pre-commit-saw")
        try writeHook("pre-commit", "git diff --cached --name-only > '\(out.path)'")
        XCTAssertEqual(try train().status, 0)
        XCTAssertFalse((read(out) ?? "").contains("notes.md"), read(out) ?? "")
        XCTAssertEqual(try git("diff", "--cached", "--name-only"), "notes.md")
    }

    func testHooksInCoreHooksPathAreTheOnesMVRuns() throws {
        try git("config", "core.hooksPath", "my-hooks")
        try writeHook("pre-commit", "echo 'from my-hooks'\nexit 1", in: root.appendingPathComponent("my-hooks"))
        let result = try train()
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("from my-hooks"), result.stderr)
        XCTAssertEqual(try git("tag", "-l"), "")
    }

    func testNonExecutableHookIsIgnoredAsGitDoes() throws {
        let hook = try writeHook("pre-commit", "exit 1")
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: hook.path)
        XCTAssertEqual(try train().status, 0)
    }
}
