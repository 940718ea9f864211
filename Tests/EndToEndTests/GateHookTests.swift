import Foundation
import TestSupport
import XCTest

/// `mv hooks install`: git itself refuses a failing stage tag (reference-transaction) and a
/// hand-edited or hand-added tensor (pre-commit); existing hooks are chained and restored;
/// core.hooksPath is respected.
final class GateHookTests: GateTestBase {
    var mvPath: String { Self.mvBinary.resolvingSymlinksInPath().path }

    func install(_ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws -> ProcessResult {
        let result = try mv(["hooks", "install"] + arguments)
        XCTAssertEqual(result.status, 0, result.stderr, file: file, line: line)
        return result
    }

    func testInstallWritesTheThreeClientHooksCallingMVByAbsolutePath() throws {
        try initRepository()
        let result = try install()
        XCTAssertTrue(result.stdout.contains("installed pre-commit\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("installed pre-push\n"), result.stdout)
        XCTAssertTrue(result.stdout.contains("installed reference-transaction\n"), result.stdout)
        XCTAssertFalse(result.stdout.contains("pre-receive"), result.stdout)
        for name in ["pre-commit", "pre-push", "reference-transaction"] {
            let url = hooksFolder.appendingPathComponent(name)
            XCTAssertTrue(isExecutable(url), name)
            let printed = try mv("hooks", "print", name).stdout
            XCTAssertEqual(
                read(url), printed.replacingOccurrences(of: "MV_BIN=${MV_BIN:-'git-model'}", with: "MV_BIN=${MV_BIN:-'\(mvPath)'}"), name)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: hooksFolder.appendingPathComponent("pre-receive").path))
        // Installing again replaces mv's own hooks without chaining them.
        let again = try install()
        XCTAssertFalse(again.stdout.contains("runs your existing hook first"), again.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: hooksFolder.appendingPathComponent("pre-commit.mv-chained").path))
        // Uninstall removes them all.
        let removed = try mv("hooks", "uninstall")
        XCTAssertEqual(removed.status, 0, removed.stderr)
        for name in ["pre-commit", "pre-push", "reference-transaction"] {
            XCTAssertFalse(FileManager.default.fileExists(atPath: hooksFolder.appendingPathComponent(name).path), name)
        }
    }

    func testGitTagOfAFailingVersionIsRefusedAndAPassingOneAccepted() throws {
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
        _ = try install()
        let v1 = try commit(of: "m@v1.0.0")
        let v2 = try commit(of: "m@v2.0.0")

        let refused = try gitResult("tag", "-a", "m#production#9", "-m", "x", v2)
        XCTAssertNotEqual(refused.status, 0, refused.stdout)
        XCTAssertEqual(try tags("m#production#9"), [])
        XCTAssertTrue(refused.stderr.contains("gate production for m@v2.0.0: FAILED"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("  FAIL  rmse <= 1.0  [actual "), refused.stderr)
        XCTAssertTrue(
            refused.stderr.contains("'refs/tags/m#production#9' assigns production to m@v2.0.0, which fails the gate"), refused.stderr)

        let accepted = try gitResult("tag", "-a", "m#production#10", "-m", "x", v1)
        XCTAssertEqual(accepted.status, 0, accepted.stderr)
        XCTAssertEqual(try commit(of: "m#production#10"), v1)
        let list = try mv("gate", "m#production")
        XCTAssertEqual(list.status, 0, list.stdout + list.stderr)
        XCTAssertTrue(list.stdout.contains("m@v1.0.0: passed"), list.stdout)

        // Other tags are not the hook's business.
        XCTAssertEqual(try gitResult("tag", "-a", "release-1", "-m", "x", v2).status, 0)
        XCTAssertEqual(try gitResult("tag", "m#notes", v2).status, 0)
        // A lightweight stage tag is refused.
        let lightweight = try gitResult("tag", "m#staging#11", v1)
        XCTAssertNotEqual(lightweight.status, 0)
        XCTAssertTrue(lightweight.stderr.contains("lightweight"), lightweight.stderr)
        XCTAssertEqual(try tags("m#staging#11"), [])
    }

    func testHandWrittenOverrideIsHonouredOnlyWhereTheGateAllowsForce() throws {
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
        _ = try install()
        let v2 = try commit(of: "m@v2.0.0")
        let message = "Assigning stage\n\nGate-Override: known regression, demo only\n"
        let production = try gitResult("tag", "-a", "m#production#9", "-m", message, v2)
        XCTAssertNotEqual(production.status, 0, "production does not allow force")
        XCTAssertEqual(try tags("m#production#9"), [])
        let staging = try gitResult("tag", "-a", "m#staging#9", "-m", message, v2)
        XCTAssertEqual(staging.status, 0, staging.stderr)
        XCTAssertTrue(staging.stderr.contains("gate overridden (known regression, demo only)"), staging.stderr)
        XCTAssertEqual(try commit(of: "m#staging#9"), v2)
    }

    /// mv's own writes go through the same installed hooks: a passing promotion and a
    /// forced one where allowed both land.
    func testMVPromoteThroughInstalledHooks() throws {
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
        _ = try install()
        let passing = try mv("promote", "v1")
        XCTAssertEqual(passing.status, 0, passing.stderr)
        let forced = try mv("promote", "v2", "--stage", "staging", "--force", "--reason", "demo")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try tags("m#*").count, 2)
        // A training run with the pre-commit hook installed still lands (the hook checks the new folder).
        let third = try mv("train", "m", "--data", "good.csv", "--target", "y", "--seed", "3")
        XCTAssertEqual(third.status, 0, third.stderr)
        XCTAssertEqual(try tags("m@v3.0.0"), ["m@v3.0.0"])
    }

    func testCommitGateStopsMVTrainThroughThePreCommitHook() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
        _ = try write(Self.linearCSV(rows: 300, noise: 8), to: "noisy.csv")
        try writeConfig(
            """
            gates:
              - stage: commit
                rules: [rmse <= 1.0]
            """)
        _ = try install()
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
        let before = try snapshot()
        let result = try mv("train", "m", "--data", "noisy.csv", "--target", "y")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("fails the commit gate: rmse <= 1.0 (got "), result.stderr)
        XCTAssertTrue(result.stderr.contains("the pre-commit hook refused the commit"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try tags("m@*"), ["m@v1.0.0"])
    }

    func testPreCommitRefusesAHandEditedTensor() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
        _ = try install()
        let head = try git("rev-parse", "HEAD")
        let edit = try Self.run(
            [
                "python3", "-c",
                """
                import numpy
                p = 'models/m/params/coef.npy'
                a = numpy.load(p); a[0] += 1.0; numpy.save(p, a)
                """,
            ], in: root)
        XCTAssertEqual(edit.status, 0, edit.stderr)
        try git("add", "models/m/params/coef.npy")
        let result = try gitResult("commit", "-m", "tweak the slope")
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stderr.contains("'models/m/params/coef.npy' does not match its sha256 in model.yaml"), result.stderr)
        XCTAssertEqual(try git("rev-parse", "HEAD"), head)
        // Still staged; --no-verify is the documented way around.
        XCTAssertEqual(try git("diff", "--cached", "--name-only"), "models/m/params/coef.npy")
    }

    func testPreCommitRefusesAnUnlistedTensor() throws {
        try initRepository()
        _ = try write(Self.linearCSV(rows: 200), to: "good.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
        _ = try install()
        let head = try git("rev-parse", "HEAD")
        let add = try Self.run(["python3", "-c", "import numpy; numpy.save('models/m/params/extra.npy', numpy.zeros(3))"], in: root)
        XCTAssertEqual(add.status, 0, add.stderr)
        try git("add", "models/m/params/extra.npy")
        let result = try gitResult("commit", "-m", "add a tensor")
        XCTAssertNotEqual(result.status, 0, result.stdout)
        XCTAssertTrue(result.stderr.contains("'models/m/params/extra.npy' is not listed in model.yaml"), result.stderr)
        XCTAssertEqual(try git("rev-parse", "HEAD"), head)
        // Commits that do not touch a model folder are not affected.
        try git("reset", "-q", "models/m/params/extra.npy")
        _ = try write("notes\n", to: "NOTES.md")
        try git("add", "NOTES.md")
        XCTAssertEqual(try gitResult("commit", "-q", "-m", "notes").status, 0)
    }

    func testExistingHookIsChainedAndRestoredByteIdentical() throws {
        try initRepository()
        let marker = root.appendingPathComponent(".git/user-hook-ran")
        let userHook = try writeHook("pre-commit", "# the user's own hook\necho ran >> '\(marker.path)'\nexit 0")
        let original = try XCTUnwrap(FileManager.default.contents(atPath: userHook.path))

        let installed = try install()
        XCTAssertTrue(installed.stdout.contains("installed pre-commit (runs your existing hook first)"), installed.stdout)
        let chained = hooksFolder.appendingPathComponent("pre-commit.mv-chained")
        XCTAssertEqual(FileManager.default.contents(atPath: chained.path), original)
        XCTAssertTrue(read(userHook)?.contains("# mv-hook: pre-commit") == true)

        XCTAssertEqual(try gitResult("commit", "-q", "--allow-empty", "-m", "one").status, 0)
        XCTAssertEqual(read(marker), "ran\n", "the user's hook runs under mv's")
        // mv's own commits run it too.
        _ = try write(Self.linearCSV(rows: 50), to: "good.csv")
        XCTAssertEqual(try mv("train", "m", "--data", "good.csv", "--target", "y").status, 0)
        XCTAssertEqual(read(marker), "ran\nran\n")

        let removed = try mv("hooks", "uninstall")
        XCTAssertEqual(removed.status, 0, removed.stderr)
        XCTAssertTrue(removed.stdout.contains("removed pre-commit (your previous hook is back)"), removed.stdout)
        XCTAssertEqual(FileManager.default.contents(atPath: userHook.path), original, "restored byte for byte")
        XCTAssertTrue(isExecutable(userHook))
        XCTAssertFalse(FileManager.default.fileExists(atPath: chained.path))
        XCTAssertEqual(try gitResult("commit", "-q", "--allow-empty", "-m", "two").status, 0)
        XCTAssertEqual(read(marker), "ran\nran\nran\n")
    }

    func testAFailingChainedHookStillStopsTheCommit() throws {
        try initRepository()
        try writeHook("pre-commit", "echo 'user hook says no' >&2\nexit 3")
        _ = try install()
        let head = try git("rev-parse", "HEAD")
        let result = try gitResult("commit", "--allow-empty", "-m", "x")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("user hook says no"), result.stderr)
        XCTAssertEqual(try git("rev-parse", "HEAD"), head)
    }

    func testCoreHooksPathIsRespected() throws {
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
        try git("config", "core.hooksPath", ".githooks")
        let custom = root.appendingPathComponent(".githooks")
        let result = try install()
        XCTAssertTrue(result.stdout.contains("hooks folder: \(custom.path)"), result.stdout)
        for name in ["pre-commit", "pre-push", "reference-transaction"] {
            XCTAssertTrue(isExecutable(custom.appendingPathComponent(name)), name)
            XCTAssertFalse(FileManager.default.fileExists(atPath: hooksFolder.appendingPathComponent(name).path), name)
        }
        let refused = try gitResult("tag", "-a", "m#production#9", "-m", "x", try commit(of: "m@v2.0.0"))
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("FAIL  rmse <= 1.0"), refused.stderr)
        XCTAssertEqual(try tags("m#production#9"), [])
        XCTAssertEqual(try mv("hooks", "uninstall").status, 0)
        XCTAssertFalse(FileManager.default.fileExists(atPath: custom.appendingPathComponent("pre-commit").path))
    }

    func testAbsoluteCoreHooksPathIsRespected() throws {
        try initRepository()
        let custom = root.appendingPathComponent("elsewhere/hooks")
        try git("config", "core.hooksPath", custom.path)
        _ = try install()
        XCTAssertTrue(isExecutable(custom.appendingPathComponent("reference-transaction")))
    }

    func testMVBinEnvironmentOverridesTheInstalledPath() throws {
        try initRepository()
        try trainGoodAndNoisy()
        try writeConfig(Self.standardPolicy)
        _ = try install()
        let log = root.appendingPathComponent(".git/fake-mv.log")
        let fake = try writeHook("fake-mv", "echo \"$@\" >> '\(log.path)'\nexit 1", in: root.appendingPathComponent(".git"))
        var environment = GitTestCase.environment
        environment["MV_BIN"] = fake.path
        let result = try gitResult("tag", "-a", "m#production#9", "-m", "x", try commit(of: "m@v1.0.0"), environment: environment)
        XCTAssertNotEqual(result.status, 0, "the fake mv refuses")
        XCTAssertEqual(read(log), "hook reference-transaction prepared\n")
        XCTAssertEqual(try tags("m#production#9"), [])
    }
}
