import Foundation
import TestSupport
import XCTest

/// `mv push`, `mv pull`, `mv clone` between clones of one bare repository, judged by the git
/// CLI (the server's tags, fsck) and GTO: two clones that both trained the next version end
/// with two versions, each under its own number, and every clone agreeing with the server.
final class RemoteTests: GitTestCase {
    var server: URL { root.appendingPathComponent("server.git") }
    var alice: URL { root.appendingPathComponent("alice") }
    var bob: URL { root.appendingPathComponent("bob") }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try git("init", "-q", "--bare", "-b", "main", server.path)
        try FileManager.default.createDirectory(at: alice, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main", in: alice)
        try ok(["init"], in: alice)
        try git("remote", "add", "origin", server.path, in: alice)
        _ = try write(Self.churnCSV(rows: 400, seed: 1), to: "alice/data.csv")
        try ok(["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression"], in: alice)
        try ok(["promote", "churn@v1"], in: alice)
        try ok(["push"], in: alice)
        try ok(["clone", server.path, bob.path], in: root)
        _ = try write(Self.churnCSV(rows: 400, seed: 2), to: "bob/data.csv")
    }

    @discardableResult
    func ok(_ arguments: [String], in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try mv(arguments, in: folder)
        XCTAssertEqual(result.status, 0, "mv \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// The server's tags: name → the commit each names.
    func serverTags() throws -> [String: String] {
        let listing = try git("for-each-ref", "--format=%(refname:short) %(*objectname)%(objectname)", "refs/tags", in: server)
        return Dictionary(
            listing.split(separator: "\n").map { line in
                let parts = line.split(separator: " ")
                return (String(parts[0]), String(parts[1].prefix(40)))
            }, uniquingKeysWith: { a, _ in a })
    }

    func testTwoClonesThatBothTrainEndWithTwoVersionsUnderTheirOwnNumbers() throws {
        XCTAssertTrue(try git("ls-tree", "-r", "--name-only", "HEAD", in: bob).contains("models/churn/model.yaml"))
        XCTAssertEqual(try git("config", "diff.mv-npy.textconv", in: bob).isEmpty, false, "mv clone sets up tensor diffs")

        // Both train the next version: both call it v2.0.0.
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.05"],
            in: bob)
        try ok(["promote", "churn@v2"], in: bob)
        let bobWeights = try git("rev-parse", "churn@v2.0.0:models/churn/params/coef.npy", in: bob)
        try ok(["push"], in: alice)

        // Bob's push is refused before anything is sent, saying what to run.
        let before = try serverTags()
        let refused = try mv(["push"], in: bob)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("already holds churn@v2.0.0"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("mv pull"), refused.stderr)
        XCTAssertEqual(try serverTags(), before, "nothing pushed")

        // Bob pulls: his v2 becomes v3 on top of Alice's history, his promotion follows it.
        let pulled = try ok(["pull"], in: bob)
        XCTAssertTrue(pulled.contains("churn@v2.0.0 is now churn@v3.0.0"), pulled)
        XCTAssertEqual(try git("rev-parse", "churn@v3.0.0:models/churn/params/coef.npy", in: bob), bobWeights, "his parameters, untouched")
        XCTAssertTrue(try git("show", "churn@v3.0.0:models/churn/model.yaml", in: bob).contains("version: v3.0.0"))
        XCTAssertTrue(try git("show", "churn@v3.0.0:models/churn/eval/holdout.yaml", in: bob).contains("version: v3.0.0"))
        XCTAssertTrue(try git("cat-file", "-p", "churn@v3.0.0", in: bob).contains("Model-Version: v3.0.0"))
        XCTAssertEqual(
            try Self.run(["git", "merge-base", "--is-ancestor", "churn@v2.0.0", "HEAD"], in: bob).status, 0,
            "Alice's v2 is in Bob's history now")
        XCTAssertTrue(
            try git("show", "HEAD:.mv/stages/churn.yaml", in: bob).contains("version: v3.0.0"), "the stage file agrees with the tags")
        XCTAssertEqual(try git("rev-parse", "churn@v2.0.0", in: bob), try git("rev-parse", "churn@v2.0.0", in: alice))
        let listed = try ok(["show", "churn#production"], in: bob)
        XCTAssertTrue(listed.contains("v3.0.0"), "Bob's promotion follows his version: \(listed)")

        try ok(["push"], in: bob)
        try ok(["pull"], in: alice)
        let tags = try serverTags()
        XCTAssertNotNil(tags["churn@v2.0.0"])
        XCTAssertNotNil(tags["churn@v3.0.0"])
        XCTAssertNotEqual(tags["churn@v2.0.0"], tags["churn@v3.0.0"])
        XCTAssertEqual(try git("rev-parse", "churn@v3.0.0:models/churn/params/coef.npy", in: server), bobWeights)

        // Every clone agrees with the server; plain git and GTO read it; nothing dangles.
        let aliceList = try ok(["list"], in: alice)
        let bobList = try ok(["list"], in: bob)
        XCTAssertEqual(aliceList, bobList)
        XCTAssertTrue(aliceList.contains("v3.0.0"))
        for place in [server, alice, bob] {
            XCTAssertEqual(try Self.run(["git", "fsck", "--strict", "--no-dangling"], in: place).status, 0, place.lastPathComponent)
        }
        XCTAssertEqual(try git("rev-parse", "HEAD", in: alice), try git("rev-parse", "HEAD", in: bob))
        let gto = try Self.run(["gto", "show", "churn", "--json"], in: alice)
        if gto.status == 0 || !gto.stderr.contains("No such file") {
            XCTAssertEqual(gto.status, 0, gto.stderr)
            XCTAssertTrue(gto.stdout.contains("v2.0.0") && gto.stdout.contains("v3.0.0"), gto.stdout)
        }
    }

    func testPullFastForwardsAndPushIsAtomicAndNeedsTheRemotesHistory() throws {
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(["push"], in: alice)
        let nothing = try ok(["pull"], in: alice)
        XCTAssertTrue(nothing.contains("has everything"), nothing)
        let forward = try ok(["pull"], in: bob)
        XCTAssertTrue(forward.contains("moved forward"), forward)
        XCTAssertTrue(FileManager.default.fileExists(atPath: bob.appendingPathComponent("models/churn/params/coef.npy").path))
        XCTAssertEqual(try git("rev-parse", "HEAD", in: alice), try git("rev-parse", "HEAD", in: bob))
        XCTAssertEqual(try git("status", "--porcelain", "--untracked-files=no", in: bob), "")

        // Bob adds a plain file commit; Alice trains; Bob's pull leaves that to git.
        _ = try write("notes\n", to: "bob/NOTES.md")
        try git("add", "NOTES.md", in: bob)
        try git("commit", "-q", "-m", "notes", in: bob)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=2"],
            in: alice)
        try ok(["push"], in: alice)
        let head = try git("rev-parse", "HEAD", in: bob)
        // (git itself moves refs/remotes/origin/main on a fetch from origin: that is not ours to keep.)
        let refsBefore = try git("for-each-ref", "refs/heads", "refs/tags", "refs/mv", in: bob)
        let refused = try mv(["pull"], in: bob)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("changes 'NOTES.md'") && refused.stderr.contains("git pull --rebase"), refused.stderr)
        XCTAssertEqual(try git("rev-parse", "HEAD", in: bob), head)
        XCTAssertEqual(
            try git("for-each-ref", "refs/heads", "refs/tags", "refs/mv", in: bob), refsBefore, "no ref moved, no fetched ref left behind")
        let behind = try mv(["push"], in: bob)
        XCTAssertNotEqual(behind.status, 0)
        XCTAssertTrue(behind.stderr.contains("has commits on 'main' that this clone lacks"), behind.stderr)

        // A stage tag that points at no version is refused before pushing.
        let alone = try mv(["push", "origin"], in: alice)
        XCTAssertEqual(alone.status, 0, alone.stderr)
        try git("commit", "-q", "--allow-empty", "-m", "no version here", in: alice)
        try git("tag", "-a", "-m", "by hand", "churn#staging#9", "HEAD", in: alice)
        let bad = try mv(["push"], in: alice)
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("carries no version tag of 'churn'"), bad.stderr)
        XCTAssertNil(try serverTags()["churn#staging#9"])
        // With mv's hooks, git itself refuses such a tag (no gate needed).
        try git("tag", "-d", "churn#staging#9", in: alice)
        try ok(["hooks", "install"], in: alice)
        let byHand = try Self.run(["git", "tag", "-a", "-m", "by hand", "churn#staging#9", "HEAD"], in: alice)
        XCTAssertNotEqual(byHand.status, 0)
        XCTAssertTrue(byHand.stderr.contains("has no version tag of 'churn'"), byHand.stderr)
        XCTAssertEqual(try git("tag", "--list", "churn#staging#9", in: alice), "")
        let unknown = try mv(["push", "nowhere"], in: alice)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertEqual(unknown.stderr.split(separator: "\n").filter { $0.hasPrefix("mv: error") }.count, 1, unknown.stderr)
    }

    /// Evaluations of an unpushed version follow its new number; two clones that promoted
    /// under the same stage counter keep both promotions, the unpushed one under the next.
    func testEvaluationsAndStageCountersFollowTheRenumbering() throws {
        try ok(["pull"], in: bob)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(["promote", "churn@v1", "--stage", "staging"], in: alice)
        try ok(["push"], in: alice)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.05"],
            in: bob)
        try ok(["eval", "churn@v2", "--data", "data.csv", "--name", "all"], in: bob)
        try ok(["promote", "churn@v2", "--stage", "staging"], in: bob)
        XCTAssertEqual(
            try git("tag", "--list", "churn#staging#*", in: alice), try git("tag", "--list", "churn#staging#*", in: bob),
            "the same counter on both sides")

        let pulled = try ok(["pull"], in: bob)
        XCTAssertTrue(pulled.contains("eval/churn/v2.0.0/1 is now eval/churn/v3.0.0/1"), pulled)
        XCTAssertTrue(pulled.contains("churn#staging#2 is now churn#staging#3"), pulled)
        XCTAssertTrue(try git("show", "eval/churn/v3.0.0/1:models/churn/eval/all.yaml", in: bob).contains("version: v3.0.0"))
        XCTAssertTrue(
            try git("log", "-1", "--format=%s", "HEAD~1", in: bob).contains("churn v3.0.0"), "the promotion's message names the new number")
        let history = try ok(["history", "churn"], in: bob)
        XCTAssertTrue(history.contains("churn#staging#3") && history.contains("churn#staging#2"), history)
        try ok(["push"], in: bob)
        try ok(["pull"], in: alice)
        XCTAssertEqual(try ok(["list"], in: alice), try ok(["list"], in: bob))
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict", "--no-dangling"], in: server).status, 0)
        XCTAssertEqual(Set(try serverTags().keys).filter { $0.hasPrefix("eval/") }, ["eval/churn/v3.0.0/1"])
    }

    /// Each a one-line error with a hint, a non-zero exit, nothing changed.
    func testBadInputIsRefusedWithOneLine() throws {
        let lone = root.appendingPathComponent("lone")
        try FileManager.default.createDirectory(at: lone, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main", in: lone)
        try ok(["init"], in: lone)
        for (arguments, folder, watched, expected) in [
            (["pull"], lone, lone, "this repository has no remote"),
            (["push"], lone, lone, "this repository has no remote"),
            (["pull", "nowhere"], bob, bob, "reading the refs of 'nowhere' failed"),
            (["clone", server.path, alice.path], root, alice, "already exists and is not empty"),
        ] {
            let before = try snapshot(watched)
            let result = try mv(arguments, in: folder)
            XCTAssertNotEqual(result.status, 0, arguments.joined(separator: " "))
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").filter { $0.hasPrefix("mv: error") }.count, 1, result.stderr)
            XCTAssertEqual(try snapshot(watched), before, "\(arguments) changed nothing")
        }
        let missing = try mv(["clone", root.appendingPathComponent("missing.git").path, "x"], in: root)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.stderr.contains("git clone of"), missing.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("x").path), "no half-made clone")
        // A stage file edited by hand: mv rewrites it after a pull, so it says so first.
        let stages = bob.appendingPathComponent(".mv/stages/churn.yaml")
        let original = try String(contentsOf: stages, encoding: .utf8)
        try (original + "# mine\n").write(to: stages, atomically: true, encoding: .utf8)
        let edited = try mv(["pull"], in: bob)
        XCTAssertNotEqual(edited.status, 0)
        XCTAssertTrue(edited.stderr.contains("'.mv/stages/churn.yaml' has uncommitted changes"), edited.stderr)
        XCTAssertEqual(try String(contentsOf: stages, encoding: .utf8), original + "# mine\n")
        try original.write(to: stages, atomically: true, encoding: .utf8)
        // Without a folder, the clone is named as git names it.
        try ok(["clone", server.path], in: root)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent("server/models/churn/model.yaml").path))

        // Uncommitted work that the move would overwrite stops the pull; the work survives.
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(["push"], in: alice)
        let card = bob.appendingPathComponent("models/churn/README.md")
        try "my notes\n".write(to: card, atomically: true, encoding: .utf8)
        let head = try git("rev-parse", "HEAD", in: bob)
        let refused = try mv(["pull"], in: bob)
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("commit or stash"), refused.stderr)
        XCTAssertEqual(try String(contentsOf: card, encoding: .utf8), "my notes\n")
        XCTAssertEqual(try git("rev-parse", "HEAD", in: bob), head)
    }

    /// Two unpushed versions move together (v2, v3 → v3, v4, one name being both a new and an
    /// old one); a version evaluated twice here replays; an evaluation of a pushed version
    /// whose number the remote took takes the next; an empty remote gives nothing to pull.
    func testSeveralUnpushedVersionsAndTheirEvaluationsMoveTogether() throws {
        try ok(["pull"], in: bob)
        try ok(["eval", "churn@v1", "--data", "data.csv", "--name", "audit"], in: alice)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(["push"], in: alice)
        try ok(["eval", "churn@v1", "--data", "data.csv", "--name", "audit"], in: bob)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.05"],
            in: bob)
        try ok(["eval", "churn@v2", "--data", "data.csv", "--name", "all"], in: bob)
        try ok(["eval", "churn@v2", "--data", "data.csv", "--name", "all"], in: bob)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.01"],
            in: bob)
        let second = try git("rev-parse", "churn@v3.0.0:models/churn/params/coef.npy", in: bob)
        let pulled = try ok(["pull"], in: bob)
        XCTAssertTrue(pulled.contains("churn@v2.0.0 is now churn@v3.0.0") && pulled.contains("churn@v3.0.0 is now churn@v4.0.0"), pulled)
        XCTAssertTrue(pulled.contains("eval/churn/v1.0.0/1 is now eval/churn/v1.0.0/2"), pulled)
        XCTAssertTrue(pulled.contains("eval/churn/v2.0.0/2 is now eval/churn/v3.0.0/2"), pulled)
        XCTAssertEqual(try git("rev-parse", "churn@v4.0.0:models/churn/params/coef.npy", in: bob), second)
        XCTAssertTrue(try git("show", "churn@v4.0.0:models/churn/model.yaml", in: bob).contains("version: v4.0.0"))
        try ok(["push"], in: bob)
        let tags = Set(try serverTags().keys)
        XCTAssertTrue(
            ["churn@v2.0.0", "churn@v3.0.0", "churn@v4.0.0", "eval/churn/v1.0.0/1", "eval/churn/v1.0.0/2", "eval/churn/v3.0.0/2"]
                .allSatisfy(tags.contains), "\(tags.sorted())")
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict", "--no-dangling"], in: server).status, 0)

        let empty = root.appendingPathComponent("empty.git")
        try git("init", "-q", "--bare", "-b", "main", empty.path)
        try git("remote", "add", "empty", empty.path, in: alice)
        let nothing = try ok(["pull", "empty"], in: alice)
        XCTAssertTrue(nothing.contains("has everything"), nothing)
    }

    /// An unpushed rollback is written again after the renumbered version it rolled back from:
    /// production is back on v1, the folder holds v1, and the rollback names v3.
    func testAnUnpushedRollbackIsReplayed() throws {
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.5"],
            in: alice)
        try ok(["push"], in: alice)
        try ok(
            ["train", "churn", "--data", "data.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.05"],
            in: bob)
        try ok(["promote", "churn@v2"], in: bob)
        try ok(["rollback", "churn"], in: bob)
        let pulled = try ok(["pull"], in: bob)
        XCTAssertTrue(pulled.contains("churn@v2.0.0 is now churn@v3.0.0"), pulled)
        XCTAssertTrue(try ok(["show", "churn#production"], in: bob).contains("churn v1.0.0"))
        XCTAssertTrue(try git("show", "HEAD:models/churn/model.yaml", in: bob).contains("version: v1.0.0"), "the folder is rolled back")
        XCTAssertTrue(try git("log", "--format=%B", "-3", in: bob).contains("Rollback-From: v3.0.0"), "the rollback names the new number")
        try ok(["push"], in: bob)
        try ok(["pull"], in: alice)
        XCTAssertEqual(try ok(["list"], in: alice), try ok(["list"], in: bob))
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict", "--no-dangling"], in: server).status, 0)
    }
}
