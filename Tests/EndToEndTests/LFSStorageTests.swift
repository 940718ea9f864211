import Foundation
import TestSupport
import XCTest

/// `storage: lfs`: tensors committed as Git LFS pointers with their bytes in git-lfs's
/// local store, judged by git-lfs itself (`git lfs fsck`, `ls-files`, a stock `git clone` +
/// `git lfs pull`), git (`fsck --strict`, `status`, `log -p`) and numpy; and remotes on
/// this machine keeping objects where git-lfs's standalone file transfer does.
final class LFSStorageTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        guard (try? Self.run(["git", "lfs", "version"], in: root))?.status == 0 else {
            throw XCTSkip("git-lfs is not installed (make test installs it: apt-get install git-lfs)")
        }
    }

    @discardableResult
    func ok(_ arguments: [String], in folder: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let result = try mv(arguments, in: folder)
        XCTAssertEqual(result.status, 0, "mv \(arguments.joined(separator: " ")): \(result.stderr)", file: file, line: line)
        return result.stdout
    }

    /// The oids in a git-lfs store (`<git dir>/lfs` or a bare remote's `lfs`), each checked
    /// to hold the bytes its name says.
    func storedObjects(_ lfsRoot: URL, file: StaticString = #filePath, line: UInt = #line) throws -> Set<String> {
        var oids = Set<String>()
        let walker = FileManager.default.enumerator(at: lfsRoot.appendingPathComponent("objects"), includingPropertiesForKeys: nil)
        while let url = walker?.nextObject() as? URL {
            guard url.lastPathComponent.count == 64 else { continue }
            let digest = try Self.run(["sha256sum", url.path], in: root).stdout.prefix(64)
            XCTAssertEqual(String(digest), url.lastPathComponent, "an object holds the bytes its name says", file: file, line: line)
            oids.insert(url.lastPathComponent)
        }
        return oids
    }

    /// The oids the tensors of `revision` point at.
    func pointedOids(_ revision: String, in folder: URL) throws -> Set<String> {
        let paths = try git("ls-tree", "-r", "--name-only", revision, "models/m/params", in: folder).split(separator: "\n")
        return Set(
            try paths.filter { $0.hasSuffix(".npy") || $0.contains(".npy.chunks/") }.map { path in
                let pointer = try git("cat-file", "-p", "\(revision):\(path)", in: folder)
                XCTAssertTrue(
                    pointer.hasPrefix("version https://git-lfs.github.com/spec/v1\noid sha256:"), "\(path) is a pointer: \(pointer)")
                return String(pointer.split(separator: "\n")[1].dropFirst("oid sha256:".count))
            })
    }

    func testLFSStorageCommitsPointersWhoseObjectsGitLFSAndNumpyRead() throws {
        try git("init", "-q", "-b", "main")
        let initialized = try ok(["init", "--storage", "lfs"])
        XCTAssertTrue(initialized.contains("Storage: lfs"), initialized)
        XCTAssertTrue(try String(contentsOf: root.appendingPathComponent(".mv.yaml"), encoding: .utf8).contains("storage: lfs"))
        XCTAssertEqual(
            try git("check-attr", "filter", "diff", "--", "models/m/params/layer0.weight.npy"),
            "models/m/params/layer0.weight.npy: filter: lfs\nmodels/m/params/layer0.weight.npy: diff: mv-npy")
        XCTAssertEqual(try git("check-attr", "filter", "models/m/params/.gitignore"), "models/m/params/.gitignore: filter: unspecified")

        let v1 = try writeSafetensors("v1.safetensors")
        try ok(["add", "m", "--weights", v1.path])
        try ok(["add", "m", "--weights", try writeSafetensors("v2.safetensors", changed: ["layer2.weight", "layer5.weight"]).path])

        // Every tensor is a pointer; its object is in .git/lfs, named by the manifest's sha256.
        let first = try pointedOids("m@v1.0.0", in: root)
        let second = try pointedOids("m@v2.0.0", in: root)
        XCTAssertEqual(first.count, 9)
        XCTAssertEqual(second.subtracting(first).count, 2, "only the two changed tensors are new objects")
        XCTAssertEqual(try storedObjects(root.appendingPathComponent(".git/lfs")), first.union(second))
        let manifest = try git("show", "m@v2.0.0:models/m/model.yaml")
        for oid in second { XCTAssertTrue(manifest.contains(oid), "the manifest's sha256 is the LFS oid") }

        // git-lfs agrees, git sees a clean tree, and fsck is happy.
        XCTAssertEqual(try Self.run(["git", "lfs", "fsck"], in: root).status, 0)
        XCTAssertEqual(try git("lfs", "ls-files", "--name-only").split(separator: "\n").count, 9)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict"], in: root).status, 0)

        // git log -p renders the tensors through mv's diff driver; manifests read as before.
        let log = try git("log", "-p", "-1", "--", "models/m")
        XCTAssertTrue(log.contains("npy float32 shape (64, 64)"), log)
        XCTAssertTrue(log.contains("+version: v2.0.0"), log)
        XCTAssertFalse(log.contains("oid sha256:"), "no pointer text where mv is set up")

        // Every reader takes the bytes from the LFS store.
        XCTAssertTrue(try ok(["verify", "m@v1"]).contains("all 9 tensors match"))
        let diff = try ok(["diff", "m@v1", "m@v2"])
        XCTAssertTrue(diff.contains("layer2.weight  changed"), diff)
        XCTAssertTrue(diff.contains("layer0.weight  unchanged"), diff)
        let exported = root.appendingPathComponent("out.safetensors")
        try ok(["export", "m@v1", "--format", "safetensors", "-o", exported.path])
        try ok(["checkout", "m@v1"])
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import sys, numpy as np
                from safetensors.numpy import load_file
                a, b = load_file(sys.argv[1]), load_file(sys.argv[2])
                assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
                assert np.array_equal(np.load('models/m/params/layer2.weight.npy'), a['layer2.weight'])
                """, v1.path, exported.path,
            ], in: root)
        XCTAssertEqual(check.status, 0, check.stderr)

        // An object altered in the store is refused, not read.
        let oid = try XCTUnwrap(first.subtracting(second).first)
        let object = lfsObject(oid, in: root)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: object.path)
        var bytes = try Data(contentsOf: object)
        bytes[bytes.count - 1] ^= 0xFF
        try bytes.write(to: object)
        let refused = try mv("verify", "m@v1")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stdout.contains("MISMATCH") || refused.stderr.contains("sha256"), refused.stdout + refused.stderr)
    }

    func testSwitchingStorageLeavesEveryVersionReadable() throws {
        try initRegistry()
        try ok(["add", "m", "--weights", try writeSafetensors("v1.safetensors").path])
        XCTAssertTrue(try git("cat-file", "-p", "m@v1.0.0:models/m/params/layer0.weight.npy").hasPrefix("\u{93}NUMPY") == false)
        XCTAssertEqual(try git("cat-file", "-s", "m@v1.0.0:models/m/params/layer0.weight.npy"), "16512", "a Git blob of the tensor")

        let switched = try ok(["init", "--storage", "lfs"])
        XCTAssertTrue(switched.contains("Committed .mv.yaml and .gitattributes"), switched)
        try ok(["add", "m", "--weights", try writeSafetensors("v2.safetensors", changed: ["layer2.weight"]).path])
        // Unchanged tensors are stored anew as LFS objects: no version mixes the two.
        XCTAssertEqual(try pointedOids("m@v2.0.0", in: root).count, 9)

        try ok(["init", "--storage", "git"])
        XCTAssertFalse(try String(contentsOf: root.appendingPathComponent(".gitattributes"), encoding: .utf8).contains("filter=lfs"))
        try ok(["add", "m", "--weights", try writeSafetensors("v3.safetensors", changed: ["layer3.weight"]).path])
        XCTAssertEqual(try git("cat-file", "-s", "m@v3.0.0:models/m/params/layer0.weight.npy"), "16512")

        for version in ["m@v1", "m@v2", "m@v3"] { XCTAssertTrue(try ok(["verify", version]).contains("all 9 tensors match"), version) }
        XCTAssertTrue(try ok(["diff", "m@v1", "m@v3"]).contains("layer3.weight  changed"))
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict"], in: root).status, 0)

        // A bad value is refused with the choices.
        let bad = try mv("init", "--storage", "s3")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.stderr.contains("'git' or 'lfs'"), bad.stderr)
    }

    func testAFileRemoteKeepsObjectsWhereGitLFSLooksAndAClonePullsOnlyWhatItNeeds() throws {
        let server = root.appendingPathComponent("server.git")
        let alice = root.appendingPathComponent("alice")
        try git("init", "-q", "--bare", "-b", "main", server.path)
        try FileManager.default.createDirectory(at: alice, withIntermediateDirectories: true)
        try git("init", "-q", "-b", "main", in: alice)
        try ok(["init", "--storage", "lfs"], in: alice)
        try git("remote", "add", "origin", server.path, in: alice)
        for (number, seed) in [(1, 1), (2, 2), (3, 3)] {
            try ok(["add", "m", "--weights", try writeSafetensors("v\(number).safetensors", seed: seed, in: alice).path], in: alice)
        }
        try ok(["promote", "m@v2"], in: alice)
        let pushed = try ok(["push"], in: alice)
        XCTAssertTrue(pushed.contains("uploaded 27 tensor objects"), pushed)
        let all = try storedObjects(alice.appendingPathComponent(".git/lfs"))
        XCTAssertEqual(try storedObjects(server.appendingPathComponent("lfs")), all, "objects go where git-lfs's file transfer looks")
        XCTAssertTrue(try ok(["push"], in: alice).contains("already has everything"))

        // A clone brings the checked-out version (v3) and the production holder (v2), not v1.
        let bob = root.appendingPathComponent("bob")
        let cloned = try ok(["clone", server.path, bob.path], in: root)
        XCTAssertTrue(cloned.contains("downloaded 18 tensor objects"), cloned)
        let v1 = try pointedOids("m@v1.0.0", in: bob)
        XCTAssertEqual(try storedObjects(bob.appendingPathComponent(".git/lfs")), all.subtracting(v1))
        XCTAssertEqual(try git("status", "--porcelain", in: bob), "")
        try assertSameTensors(bob, alice)
        // A version named to mv pull comes; one that does not exist is an error.
        let unknown = try mv(["pull", "origin", "m@v9"], in: bob)
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("v9"), unknown.stderr)
        let asked = try ok(["pull", "m@v1"], in: bob)
        XCTAssertTrue(asked.contains("downloaded 9 tensor objects"), asked)
        XCTAssertEqual(try storedObjects(bob.appendingPathComponent(".git/lfs")), all)
        XCTAssertTrue(try ok(["verify", "m@v1"], in: bob).contains("all 9 tensors match"))

        // Stock git and git-lfs read what mv pushed.
        let carol = root.appendingPathComponent("carol")
        try git("clone", "-q", server.path, carol.path)
        try git("lfs", "install", "--local", in: carol)
        try git("lfs", "pull", in: carol)
        try assertSameTensors(carol, alice)
        XCTAssertEqual(try Self.run(["git", "lfs", "fsck"], in: carol).status, 0)

        // mv reads what git-lfs pushed: Carol registers v4 and pushes with plain git (git-lfs's
        // pre-push hook sends the objects), Bob pulls it.
        try ok(["init"], in: carol)
        try ok(["add", "m", "--weights", try writeSafetensors("v4.safetensors", seed: 4, in: carol).path], in: carol)
        try git("push", "-q", "origin", "main", "m@v4.0.0", in: carol)
        let pulled = try ok(["pull"], in: bob)
        XCTAssertTrue(pulled.contains("downloaded 9 tensor objects"), pulled)
        XCTAssertTrue(try ok(["verify", "m@v4"], in: bob).contains("all 9 tensors match"))
        try assertSameTensors(bob, carol)
        XCTAssertEqual(try Self.run(["git", "fsck", "--strict"], in: bob).status, 0)
    }

    func testAPushWhoseObjectsCannotGoSendsNoRef() throws {
        let server = try lfsRegistryWithFirstVersion()
        // One object is missing here (pruned): the push stops before any ref moves.
        let oid = try XCTUnwrap(try pointedOids("HEAD", in: root).first)
        try FileManager.default.removeItem(
            at: lfsObject(oid, in: root))
        let refused = try mv("push")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("neither in this clone nor on 'origin'"), refused.stderr)
        XCTAssertEqual(try git("for-each-ref", in: server), "", "no ref was pushed")
    }

    func testAnObjectMissingHereButOnTheRemoteDoesNotStopAPush() throws {
        let server = try lfsRegistryWithFirstVersion()
        try ok(["push"])
        // An unchanged tensor of the next version whose object only the remote still has.
        let v1 = try pointedOids("m@v1.0.0", in: root)
        try ok(["add", "m", "--weights", try writeSafetensors("v2.safetensors", changed: ["layer2.weight"]).path])
        let kept = try XCTUnwrap(v1.intersection(try pointedOids("m@v2.0.0", in: root)).first)
        try FileManager.default.removeItem(
            at: lfsObject(kept, in: root))
        let pushed = try ok(["push"])
        XCTAssertTrue(pushed.contains("uploaded 1 tensor object"), pushed)
        XCTAssertEqual(try git("rev-parse", "refs/tags/m@v2.0.0^{commit}", in: server), try git("rev-parse", "m@v2.0.0^{commit}"))
    }

    func testLFSPushURLTakesTheUploads() throws {
        let server = try lfsRegistryWithFirstVersion()
        let uploads = root.appendingPathComponent("uploads.git")
        try git("init", "-q", "--bare", "-b", "main", uploads.path)
        try git("config", "lfs.pushurl", uploads.path)
        let pushed = try ok(["push"])
        XCTAssertTrue(pushed.contains("uploaded 9 tensor objects (0.2 MiB) to \(uploads.path)/lfs"), pushed)
        XCTAssertEqual(try storedObjects(uploads.appendingPathComponent("lfs")), try pointedOids("HEAD", in: root))
        XCTAssertFalse(FileManager.default.fileExists(atPath: server.appendingPathComponent("lfs").path))

        // A touched tensor file is compared once, then its stat data is in the index.
        let file = root.appendingPathComponent("models/m/params/layer0.weight.npy")
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: file.path)
        XCTAssertTrue(try ok(["status"]).contains("models/m  m@v1.0.0  clean"))
        XCTAssertEqual(
            try git("diff-files", "--name-only", "--", "models"), "", "git sees the refreshed entry as unchanged without hashing")
    }

    func testATagOffTheBranchIsPushedWithItsObjects() throws {
        let server = try lfsRegistryWithFirstVersion()
        try ok(["push"])
        // v2 is registered on another branch; mv push sends every registry tag, so its objects too.
        try git("switch", "-q", "-c", "experiment")
        try ok(["add", "m", "--weights", try writeSafetensors("v2.safetensors", seed: 2).path])
        try git("switch", "-q", "main")
        let pushed = try ok(["push"])
        XCTAssertTrue(pushed.contains("uploaded 9 tensor objects"), pushed)
        XCTAssertTrue(try storedObjects(server.appendingPathComponent("lfs")).isSuperset(of: try pointedOids("m@v2.0.0", in: root)))
    }

    /// An LFS-storage registry in the test's folder with `m@v1` registered, its `origin` a
    /// bare repository (returned) next to it.
    func testACloneOfLargeTensorsLeavesNoRacilyCleanIndexEntries() throws {
        // 72 MiB in nine 8 MiB tensors: enough for the clone to wait for the next second
        // before it writes the index, so git's next command trusts the files' stat data
        // instead of reading 72 MiB through git-lfs's clean filter again.
        let server = root.appendingPathComponent("server.git")
        try git("init", "-q", "--bare", "-b", "main", server.path)
        try git("init", "-q", "-b", "main")
        try ok(["init", "--storage", "lfs"])
        try git("remote", "add", "origin", server.path)
        let weights = root.appendingPathComponent("big.safetensors")
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            save_file({f'layer{i}': np.full((2048, 1024), i, '<f4') for i in range(9)}, sys.argv[1])
            """
        let written = try Self.run(["python3", "-c", script, weights.path], in: root)
        XCTAssertEqual(written.status, 0, written.stderr)
        try ok(["add", "m", "--weights", weights.path])
        try ok(["push"])
        let clone = root.appendingPathComponent("clone")
        try ok(["clone", server.path, clone.path], in: root)

        // git's rule: an entry whose mtime is not before the index file's (whole seconds here)
        // is re-read on the next status; one written with size 0 was smudged as racy.
        let indexTime = try XCTUnwrap(
            try FileManager.default.attributesOfItem(atPath: clone.appendingPathComponent(".git/index").path)[.modificationDate] as? Date)
        let debug = try git("ls-files", "--debug", "models/m/params", in: clone)
        var entries = 0
        for line in debug.split(separator: "\n") {
            let field = line.trimmingCharacters(in: .whitespaces)
            if field.hasPrefix("mtime: "), let seconds = Double(field.dropFirst("mtime: ".count).split(separator: ":")[0]) {
                entries += 1
                XCTAssertLessThan(seconds, indexTime.timeIntervalSince1970.rounded(.down), "racily clean: \(debug)")
            } else if field.hasPrefix("size: ") {
                XCTAssertNotEqual(field.split(separator: "\t")[0], "size: 0", "smudged as racy: \(debug)")
            }
        }
        XCTAssertEqual(entries, 9)
        XCTAssertEqual(try git("status", "--porcelain", in: clone), "")
    }

    func lfsRegistryWithFirstVersion() throws -> URL {
        let server = root.appendingPathComponent("server.git")
        try git("init", "-q", "--bare", "-b", "main", server.path)
        try git("init", "-q", "-b", "main")
        try ok(["init", "--storage", "lfs"])
        try git("remote", "add", "origin", server.path)
        try ok(["add", "m", "--weights", try writeSafetensors("v1.safetensors").path])
        return server
    }

    /// The work-tree .npy files of two clones hold the same bytes.
    func assertSameTensors(_ a: URL, _ b: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        let params = "models/m/params"
        let names = try FileManager.default.contentsOfDirectory(atPath: a.appendingPathComponent(params).path).filter {
            $0.hasSuffix(".npy")
        }
        XCTAssertEqual(names.count, 9, file: file, line: line)
        for name in names {
            let left = try Data(contentsOf: a.appendingPathComponent("\(params)/\(name)"))
            XCTAssertTrue(left.starts(with: [0x93] + Array("NUMPY".utf8)), "\(name) is a tensor, not a pointer", file: file, line: line)
            XCTAssertEqual(left, try Data(contentsOf: b.appendingPathComponent("\(params)/\(name)")), name, file: file, line: line)
        }
    }
}
