import Foundation
import TestSupport
import XCTest

/// An mv stopped dead at each step of an update (`MV_STOP_AT`, which kills it as SIGKILL
/// would), interrupted by SIGTERM, or leaving files behind: the next mv finishes or undoes
/// what it started, says so in one line, and nothing the user did is lost.
final class InterruptedRunTests: LifecycleTestCase {
    private func stopped(at point: String, _ arguments: String..., file: StaticString = #filePath, line: UInt = #line) throws {
        var environment = Self.environment
        environment["MV_STOP_AT"] = point
        let result = try mv(arguments, environment: environment)
        XCTAssertEqual(result.status, 9, "killed at '\(point)': \(result.stderr)", file: file, line: line)
    }

    private func versionTags() throws -> [String] {
        try git("tag", "--list", "m@*").split(separator: "\n").map(String.init)
    }

    /// Every version tag is on the branch and its folder is complete; the work tree and index
    /// hold HEAD's folder; git finds nothing wrong.
    private func assertConsistent(file: StaticString = #filePath, line: UInt = #line) throws {
        try git("fsck", "--strict", "--no-reflogs", file: file, line: line)
        for tag in try versionTags() {
            XCTAssertEqual(
                try Self.run(["git", "merge-base", "--is-ancestor", tag, "HEAD"], in: root).status, 0, "\(tag) is on the branch",
                file: file, line: line)
            try git("cat-file", "-e", "\(tag)^{commit}:models/m/model.yaml", file: file, line: line)
        }
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", ".mv"), "", file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent(".git/index.lock").path), file: file, line: line)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent(".git/mv/journal").path), file: file, line: line)
    }

    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRepository()
        try train("m", seed: 1)
    }

    /// Killed after the branch moved and before the work tree followed: HEAD says v2, the
    /// folder and index still hold v1. The next mv writes v2's folder, says so, and goes on
    /// with no --force; before, it refused and its hint (commit them) put v1 back on top.
    func testAnUpdateKilledAfterTheRefsMovedIsFinishedByTheNextMV() throws {
        try stopped(at: "refs", "train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0"])
        XCTAssertNotEqual(try git("status", "--porcelain", "--", "models"), "", "the folder is behind HEAD")
        let next = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "3")
        XCTAssertTrue(next.stderr.contains("mv: finished an interrupted update ('m v2.0.0"), next.stderr)
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0", "m@v3.0.0"])
        try assertConsistent()
        // The v2 folder in history is v2's, not v1's put back.
        XCTAssertNotEqual(try git("rev-parse", "m@v1.0.0^{commit}:models/m"), try git("rev-parse", "m@v2.0.0^{commit}:models/m"))
        XCTAssertTrue(try git("cat-file", "-p", "m@v2.0.0^{commit}:models/m/model.yaml").contains("version: v2.0.0"))
        let log = try String(contentsOf: root.appendingPathComponent(".git/mv/recovered"), encoding: .utf8)
        XCTAssertTrue(log.contains("finished an interrupted update"), log)
    }

    /// Killed between the tag and the branch: the tag points off the branch. The next mv
    /// withdraws it, and the version number is free again.
    func testAKillBeforeTheBranchMovedWithdrawsTheTag() throws {
        try stopped(at: "tag", "train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0"], "published a moment before the kill")
        let next = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "3")
        XCTAssertTrue(next.stderr.contains("mv: withdrew tag 'm@v2.0.0' of an interrupted mv whose commit never landed"), next.stderr)
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0"])
        XCTAssertEqual(try git("rev-parse", "m@v2.0.0^{commit}"), try git("rev-parse", "HEAD"))
        try assertConsistent()
    }

    /// Killed while libgit2 held the branch's lock file (`refs/heads/<b>.lock`): the next mv
    /// removes it with the journal's tag, instead of taking it for a busy writer 60 times.
    /// A lock no interrupted mv accounts for is named at once.
    func testRefLockFilesOfAKilledMVAreRemovedAndOthersNamed() throws {
        let branch = try git("branch", "--show-current")
        let lock = root.appendingPathComponent(".git/refs/heads/\(branch).lock")
        try stopped(at: "tag", "train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        try Data().write(to: lock)
        let next = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "3")
        XCTAssertTrue(
            next.stderr.contains("mv: removed '\(lock.path)', left by an mv that was interrupted while it moved refs"), next.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: lock.path))
        try assertConsistent()

        try Data().write(to: lock)
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -60)], ofItemAtPath: lock.path)
        let versions = try versionTags()
        let refused = try mv("train", "m", "--data", "train.csv", "--target", "y", "--seed", "4")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("mv: error: '\(lock.path)' exists: a git command is updating"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("hint: if no git command is running in this repository, remove it"), refused.stderr)
        XCTAssertEqual(try versionTags(), versions, "the tag of the refused attempt was withdrawn")
        try FileManager.default.removeItem(at: lock)
        try assertConsistent()
    }

    /// Killed before any ref moved: nothing happened, and the next mv says nothing of it.
    func testAKillBeforeAnyRefMovedLeavesNothing() throws {
        let before = try snapshot()
        try stopped(at: "journal", "eval", "m@v1", "--data", "test.csv")
        XCTAssertEqual(try snapshot(), before)
        XCTAssertEqual(try ok("list").stderr, "", "a reader has nothing to say")
        // The next writer removes the report it had staged, and says so in one line.
        let next = try ok("eval", "m@v1", "--data", "test.csv")
        XCTAssertTrue(next.stderr.hasPrefix("mv: removed "), next.stderr)
        XCTAssertTrue(next.stderr.hasSuffix(" of temporary files left by an interrupted mv\n"), next.stderr)
        XCTAssertEqual(try ok("eval", "m@v1", "--data", "test.csv").stderr, "")
        try assertConsistent()
    }

    /// Killed half-way through writing the folder of `mv add` (some files new, some old, the
    /// index untouched), and also in `mv checkout`: `mv status` finishes both.
    func testAKillHalfWayThroughTheWorkTreeIsFinishedByMVStatus() throws {
        let weights = root.appendingPathComponent("w")
        try FileManager.default.createDirectory(at: weights, withIntermediateDirectories: true)
        for index in 0..<4 {
            try (Data(Self.npyHeader(count: 1000)) + Data(repeating: UInt8(index + 1), count: 4000)).write(
                to: weights.appendingPathComponent("t\(index).npy"))
        }
        try ok("add", "w", "--weights", "w")
        try (Data(Self.npyHeader(count: 1000)) + Data(repeating: 9, count: 4000)).write(to: weights.appendingPathComponent("t0.npy"))
        try stopped(at: "work-tree", "add", "w", "--weights", "w")
        let status = try mv("status")
        XCTAssertEqual(status.status, 0, status.stdout + status.stderr)
        XCTAssertTrue(status.stdout.contains("Recovered now:\n  finished an interrupted update ('w v2.0.0"), status.stdout)
        XCTAssertTrue(status.stdout.contains("Nothing needs you."), status.stdout)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        try ok("verify", "w@v2")
        try stopped(at: "work-tree", "checkout", "w@v1")
        let afterCheckout = try mv("status")
        XCTAssertEqual(afterCheckout.status, 0, afterCheckout.stdout)
        XCTAssertTrue(afterCheckout.stdout.contains("finished an interrupted update ('mv checkout w@v1.0.0')"), afterCheckout.stdout)
        XCTAssertTrue(afterCheckout.stdout.contains("holds w@v1.0.0 (mv checkout)"), afterCheckout.stdout)
        XCTAssertEqual(try git("rev-parse", ":models/w/params/t0.npy"), try git("rev-parse", "w@v1.0.0^{commit}:models/w/params/t0.npy"))
        try git("diff", "--exit-code", "--", "models/w")
    }

    /// Killed after a chunked tensor's work-tree file was patched (or written) and before
    /// its record was saved: the file's bytes, not its stamp, tell mv's half-done work from a
    /// user's edit, so it is finished, not left as "changed after mv was interrupted".
    func testAnInterruptedPatchOfAChunkedTensorIsFinished() throws {
        var environment = Self.environment
        environment["MV_CHUNK_BYTES"] = "16384"
        let tensor = root.appendingPathComponent("big.npy")
        var values = Data(repeating: 1, count: 64 * 1024)
        try (Data(Self.npyHeader(count: values.count / 4)) + values).write(to: tensor)
        XCTAssertEqual(try mv(["add", "c", "--weights", "big.npy"], environment: environment).status, 0)
        values[40_000] = 7
        try (Data(Self.npyHeader(count: values.count / 4)) + values).write(to: tensor)
        environment["MV_STOP_AT"] = "assembled"
        XCTAssertEqual(try mv(["add", "c", "--weights", "big.npy"], environment: environment).status, 9)
        let status = try mv("status")
        XCTAssertEqual(status.status, 0, status.stdout)
        XCTAssertTrue(status.stdout.contains("finished an interrupted update ('c v2.0.0"), status.stdout)
        XCTAssertFalse(status.stdout.contains("was changed after mv was interrupted"), status.stdout)
        try ok("verify", "c@v2")
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("models/c/params/big.npy")), try Data(contentsOf: tensor))

        // The same kill, then the user writes over the file: theirs, and said so.
        values[50_000] = 9
        try (Data(Self.npyHeader(count: values.count / 4)) + values).write(to: tensor)
        XCTAssertEqual(try mv(["add", "c", "--weights", "big.npy"], environment: environment).status, 9)
        let assembled = root.appendingPathComponent("models/c/params/big.npy")
        try Data(repeating: 3, count: 100).write(to: assembled)
        let edited = try mv("status")
        XCTAssertTrue(edited.stdout.contains("'models/c/params/big.npy' was changed after mv was interrupted"), edited.stdout)
        XCTAssertEqual(try Data(contentsOf: assembled), Data(repeating: 3, count: 100))
    }

    /// Killed after its pack was installed and before any commit referred to it: the next
    /// writer deletes that pack (its writer is gone and nothing reaches it) instead of
    /// leaving a tensor's worth of garbage per kill for `git gc` to find in two weeks. A rerun
    /// of the same command writes the same pack and keeps it.
    func testAPackNoCommitReachesIsRemovedOnceItsWriterIsGone() throws {
        let tensor = root.appendingPathComponent("w.npy")
        var values = Data(repeating: 1, count: 256 * 1024)
        func save() throws { try (Data(Self.npyHeader(count: values.count / 4)) + values).write(to: tensor) }
        func packs() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path)
                .filter { $0.hasSuffix(".pack") }.sorted()
        }
        try save()
        try ok("add", "w", "--weights", "w.npy")
        let first = try packs()
        values[1000] = 2
        try save()
        try stopped(at: "pack", "add", "w", "--weights", "w.npy")
        let orphan = try packs().filter { !first.contains($0) }
        XCTAssertEqual(orphan.count, 1)
        values[2000] = 3
        try save()
        let next = try ok("add", "w", "--weights", "w.npy")
        XCTAssertTrue(next.stderr.contains("of temporary files left by an interrupted mv"), next.stderr)
        let after = try packs()
        XCTAssertFalse(after.contains(orphan[0]), "the orphaned pack is gone")
        XCTAssertEqual(after.count, first.count + 1)
        try git("fsck", "--strict", "--no-reflogs")
        try ok("verify", "w@v2")

        values[3000] = 4
        try save()
        try stopped(at: "pack", "add", "w", "--weights", "w.npy")
        try ok("add", "w", "--weights", "w.npy")
        XCTAssertEqual(try packs().count, first.count + 2, "the rerun shares the killed run's identical pack")
        try git("fsck", "--strict", "--no-reflogs")
        try ok("verify", "w@v3")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/mv/pending-packs").path), [])

        // A command that fails after storing (here: the version exists) deletes its own pack;
        // the next one has nothing to recover.
        values[4000] = 5
        try save()
        let refused = try mv("add", "w", "--weights", "w.npy", "--version", "v1")
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.hasPrefix("mv: error: version v1.0.0 of 'w' already exists"), refused.stderr)
        XCTAssertEqual(try packs().count, first.count + 2)
        XCTAssertEqual(try ok("add", "w", "--weights", "w.npy").stderr, "")
    }

    /// A file the user edits after the kill is theirs: the recovery leaves it, says so, and
    /// the next version is refused with the usual hint about uncommitted changes.
    func testAUserEditAfterTheKillIsNeverOverwritten() throws {
        try stopped(at: "refs", "train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        let card = root.appendingPathComponent("models/m/README.md")
        let edited = try String(contentsOf: card, encoding: .utf8) + "\nMy own notes.\n"
        try Data(edited.utf8).write(to: card)
        let next = try mv("train", "m", "--data", "train.csv", "--target", "y", "--seed", "3")
        XCTAssertEqual(next.status, 1, next.stderr)
        XCTAssertTrue(next.stderr.contains("mv: finished an interrupted update"), next.stderr)
        XCTAssertTrue(
            next.stderr.contains("'models/m/README.md' was changed after mv was interrupted, so it was left as it is"), next.stderr)
        XCTAssertTrue(next.stderr.contains("mv: error: 'models/m' has uncommitted changes ('models/m/README.md')"), next.stderr)
        XCTAssertEqual(try String(contentsOf: card, encoding: .utf8), edited, "the user's edit is intact")
        XCTAssertEqual(
            try Self.run(["git", "status", "--porcelain", "--", "models"], in: root).stdout, " M models/m/README.md\n",
            "the index is HEAD's; only the user's file differs")
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0"])
    }

    /// SIGTERM (and Ctrl-C) while the refs move and the work tree follows is held back until
    /// the update is whole; then mv ends as the signal says.
    func testSIGTERMDuringAnUpdateWaitsForTheUpdateToFinish() throws {
        let hook = root.appendingPathComponent(".git/hooks/post-commit")
        try Data("#!/bin/sh\nsleep 2\n".utf8).write(to: hook)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: hook.path)
        let process = Process()
        process.executableURL = Self.mvBinary
        process.arguments = ["train", "m", "--data", "train.csv", "--target", "y", "--seed", "2"]
        process.currentDirectoryURL = root
        process.environment = Self.environment
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1)
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        XCTAssertEqual(process.terminationStatus, SIGTERM)
        XCTAssertEqual(try versionTags(), ["m@v1.0.0", "m@v2.0.0"])
        try assertConsistent()
    }

    /// A `.git/index.lock` of another program is not mv's to remove: refused at once, the
    /// file named, nothing written. One an mv left when it was killed writing the index is
    /// removed by the next mv.
    func testAStaleIndexLockIsNamedOrRemovedWhenItIsMVsOwn() throws {
        let lock = root.appendingPathComponent(".git/index.lock")
        try Data().write(to: lock)
        let before = try snapshot()
        let refused = try mv("train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertEqual(refused.status, 1)
        XCTAssertEqual(
            refused.stderr,
            "mv: error: '\(lock.path)' exists: another git process is using the index, or one was killed while it did; nothing was changed\n"
                + "hint: if no git command is running in this repository, remove it ('rm \(lock.path)') and run the command again\n")
        XCTAssertEqual(try snapshot(), before)
        let status = try mv("status")
        XCTAssertEqual(status.status, 1)
        XCTAssertTrue(status.stdout.contains("Needs you:\n  '\(lock.path)' exists"), status.stdout)

        // The lock of an mv that is gone: its process id is on record.
        try Data("\(Self.deadProcess())\n".utf8).write(to: root.appendingPathComponent(".git/mv/index-lock-owner"))
        let next = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertTrue(
            next.stderr.contains("mv: removed '\(lock.path)', left by an mv that was interrupted while writing the index"), next.stderr)
        try assertConsistent()
    }

    /// What killed processes leave — staging folders, temporary packs, trash, `.mv-tmp-*`
    /// files in a model folder — goes with the next mv that takes the lock; what a running
    /// process is still writing stays.
    func testLeftoversOfKilledProcessesAreRemovedAndLiveOnesKept() throws {
        let dead = Self.deadProcess()
        let git = root.appendingPathComponent(".git")
        let leftovers = [
            "mv/staging/\(dead)-abc/tensor.npy", "objects/pack/tmp_pack_mv\(dead)_x1y2z3", "objects/pack/tmp_idx_mv\(dead)_x1y2z3",
            "mv/trash/\(dead)-def/old.npy",
        ].map { git.appendingPathComponent($0) }
        let live = git.appendingPathComponent("mv/staging/\(getpid())-mine/tensor.npy")
        for url in leftovers + [live] {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(repeating: 1, count: 1 << 20).write(to: url)
        }
        let temporary = root.appendingPathComponent("models/m/eval/.mv-tmp-\(dead)-0A1B")
        try Data("half".utf8).write(to: temporary)
        let next = try ok("train", "m", "--data", "train.csv", "--target", "y", "--seed", "2")
        XCTAssertTrue(next.stderr.contains("mv: removed 3.0 MiB of temporary files left by an interrupted mv"), next.stderr)
        Thread.sleep(forTimeInterval: 0.5)  // the trash goes in the background
        for url in leftovers { XCTAssertFalse(FileManager.default.fileExists(atPath: url.path), url.path) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary.path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: live.path), "a running process's staging folder stays")
        try assertConsistent()
        // `mv checkout --force` removes one too (it used to leave it for the next train to trip on).
        try Data("half".utf8).write(to: temporary)
        try ok("checkout", "m@v1", "--force")
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporary.path))
    }

    /// Concurrent commands empty their own trash: no `rm` complaint reaches the terminal.
    func testConcurrentCommandsSayNothingAboutTheTrash() throws {
        let results = ProcessResults()
        let root: URL = self.root
        let binary = Self.mvBinary
        DispatchQueue.concurrentPerform(iterations: 4) { index in
            let result = try? Self.run(
                [binary.path, "train", "m\(index)", "--data", "train.csv", "--target", "y"], in: root, environment: Self.environment)
            results.append(result)
        }
        for result in results.all {
            XCTAssertEqual(result?.status, 0, result?.stderr ?? "")
            XCTAssertFalse(result?.stderr.contains("rm:") ?? true, result?.stderr ?? "")
        }
    }

    /// A process id no process has (a child that already exited).
    static func deadProcess() -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/true")
        try? process.run()
        process.waitUntilExit()
        return process.processIdentifier
    }

    /// A version 1.0 .npy header for `count` float32 values.
    static func npyHeader(count: Int) -> [UInt8] {
        var dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(count),), }"
        while (10 + dict.count + 1) % 64 != 0 { dict += " " }
        dict += "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.count & 0xFF), UInt8(dict.count >> 8)] + Array(dict.utf8)
    }
}

/// Results gathered from several threads.
final class ProcessResults: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var all: [ProcessResult?] = []

    func append(_ result: ProcessResult?) {
        lock.lock()
        all.append(result)
        lock.unlock()
    }
}
