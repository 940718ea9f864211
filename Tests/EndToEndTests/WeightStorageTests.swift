import Foundation
import TestSupport
import XCTest

/// How `mv add` stores weights: unchanged tensors reuse their blobs without being hashed,
/// huge tensors go into chunks that Git hosts accept while `numpy.load` still reads the
/// work-tree file, and nothing the user changed is trusted or overwritten.
final class WeightStorageTests: GitTestCase {
    /// Chunks of 16 KiB: the 40,128-byte embedding (over two chunks) is stored as 3 chunks,
    /// the 16,512-byte layers stay whole.
    static let chunkEnvironment: [String: String] = GitTestCase.environment.merging(["MV_CHUNK_BYTES": "16384"]) { $1 }

    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(try mv("init").status, 0)
    }

    /// Eight float32 tensors of 64×64 and one of 100×100 (40,128 bytes as .npy); `changed`
    /// tensors get one element changed relative to the base weights.
    @discardableResult
    func writeWeights(_ name: String, changed: [String] = [], bigRow: Int? = nil) throws -> URL {
        let url = root.appendingPathComponent(name)
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(7)
            t = {f'layer{i}.weight': rng.standard_normal((64, 64)).astype('<f4') for i in range(8)}
            t['embedding'] = rng.standard_normal((100, 100)).astype('<f4')
            for name in sys.argv[2].split(',') if sys.argv[2] else []:
                t[name][0, 0] += 1
            if sys.argv[3]:
                t['embedding'][int(sys.argv[3]), :] = 0
            save_file(t, sys.argv[1])
            """
        let result = try Self.run(
            ["python3", "-c", script, url.path, changed.joined(separator: ","), bigRow.map(String.init) ?? ""], in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        return url
    }

    func add(_ file: URL, _ extra: String..., environment: [String: String] = GitTestCase.environment) throws -> ProcessResult {
        try mv(["add", "m", "--weights", file.path] + extra, environment: environment)
    }

    func changedPaths(_ from: String, _ to: String) throws -> [String] {
        try git("diff", "--name-only", from, to).split(separator: "\n").map(String.init)
    }

    func objectBytes() throws -> Int {
        let folder = root.appendingPathComponent(".git/objects")
        var total = 0
        let walker = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
        while let url = walker?.nextObject() as? URL {
            let values = try url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey])
            if values.isRegularFile == true { total += values.fileSize ?? 0 }
        }
        return total
    }

    func testANewVersionStoresOnlyTheChangedTensors() throws {
        XCTAssertEqual(try add(try writeWeights("v1.safetensors")).status, 0)
        let before = try objectBytes()
        let result = try add(try writeWeights("v2.safetensors", changed: ["layer2.weight", "layer5.weight"]))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(
            try changedPaths("m@v1.0.0", "m@v2.0.0"),
            ["models/m/README.md", "models/m/model.yaml", "models/m/params/layer2.weight.npy", "models/m/params/layer5.weight.npy"])
        // Two tensors of 16,512 bytes, stored whole (floats do not compress); the rest is text and trees.
        let growth = try objectBytes() - before
        XCTAssertLessThan(growth, Int(1.1 * 2 * 16_512) + 8_192, "growth \(growth) bytes")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        try git("fsck", "--strict")
    }

    func testRegisteringTheSameWeightsAgainStoresNoTensor() throws {
        let weights = try writeWeights("v1.safetensors")
        XCTAssertEqual(try add(weights).status, 0)
        let packs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path)
        XCTAssertEqual(try add(weights).status, 0)
        XCTAssertEqual(try changedPaths("m@v1.0.0", "m@v2.0.0"), ["models/m/README.md", "models/m/model.yaml"])
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path), packs,
            "no new pack: every tensor was already stored")
    }

    func testForcedRegistrationOfTheSameWeightsStillStoresNothing() throws {
        let weights = try writeWeights("v1.safetensors")
        XCTAssertEqual(try add(weights).status, 0)
        let packs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path)
        // --force: the work tree is not trusted, so equality comes from the manifest's sha256.
        let forced = try add(weights, "--force")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try changedPaths("m@v1.0.0", "m@v2.0.0"), ["models/m/README.md", "models/m/model.yaml"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path), packs)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
    }

    /// A folder of .npy files: files untouched since the last `mv add` (same size, inode and
    /// times, as git's index checks) are not read again; a file rewritten in place with the
    /// same size is noticed by its new times.
    func testUnchangedInputFilesAreNotReadAgainButRewrittenOnesAre() throws {
        let folder = root.appendingPathComponent("weights")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let write = { (names: [String], seed: Int) throws in
            let result = try Self.run(
                [
                    "python3", "-c",
                    """
                    import sys, numpy as np
                    rng = np.random.default_rng(int(sys.argv[1]))
                    for name in sys.argv[2:]:
                        np.save(f'weights/{name}.npy', rng.standard_normal((32, 32)).astype('<f4'))
                    """, String(seed),
                ] + names, in: self.root)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        try write(["a", "b", "c", "d"], 1)
        Thread.sleep(forTimeInterval: 1.2)  // older than a second: their stat data can be trusted
        XCTAssertEqual(try mv("add", "m", "--weights", folder.path).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent(".git/mv/input-cache.json").path))

        try write(["c"], 2)  // same size, new bytes
        let second = try mv("add", "m", "--weights", folder.path)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try changedPaths("m@v1.0.0", "m@v2.0.0"), ["models/m/README.md", "models/m/model.yaml", "models/m/params/c.npy"])
        XCTAssertEqual(
            try Data(contentsOf: root.appendingPathComponent("models/m/params/c.npy")),
            try Data(contentsOf: folder.appendingPathComponent("c.npy")))
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
    }

    func testAnEditedWorkTreeFileIsNeverTakenForTheCommittedOne() throws {
        let weights = try writeWeights("v1.safetensors")
        XCTAssertEqual(try add(weights).status, 0)
        // Same size, different bytes: only a comparison with the input would notice.
        try editTensor("models/m/params/layer0.weight.npy", "a[3, 3] = 99")
        let refused = try add(weights)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("uncommitted changes ('models/m/params/layer0.weight.npy')"), refused.stderr)

        let forced = try add(weights, "--force")
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        let exported = root.appendingPathComponent("out.safetensors")
        XCTAssertEqual(try mv("export", "m@v2", "--format", "safetensors", "-o", exported.path).status, 0)
        XCTAssertEqual(try Data(contentsOf: exported), try Data(contentsOf: weights), "v2 holds the input's bytes, not the edited file's")
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
    }

    func testAHandEditedCommitIsHashedAgainNotTrusted() throws {
        let weights = try writeWeights("v1.safetensors")
        XCTAssertEqual(try add(weights).status, 0)
        try editTensor("models/m/params/layer1.weight.npy", "a[0, 1] = 5")
        try git("commit", "-q", "-am", "edit a tensor by hand")
        // The committed file no longer matches the manifest's sha256; registering the edited
        // bytes must record their own sha256, not inherit the stale one.
        let dir = root.appendingPathComponent("dir")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: root.appendingPathComponent("models/m/params/layer1.weight.npy"),
            to: dir.appendingPathComponent("layer1.weight.npy"))
        XCTAssertEqual(try mv("add", "m", "--weights", dir.path).status, 0)
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
    }

    func testHugeTensorsAreStoredInChunksThatNumpyStillLoadsWhole() throws {
        let v1 = try writeWeights("v1.safetensors")
        let added = try add(v1, environment: Self.chunkEnvironment)
        XCTAssertEqual(added.status, 0, added.stderr)
        let tree = try git("ls-tree", "-r", "--name-only", "HEAD", "models/m/params").split(separator: "\n").map(String.init)
        let chunks = tree.filter { $0.hasPrefix("models/m/params/embedding.npy.chunks/") }
        XCTAssertEqual(chunks.count, 3, "40,128 bytes in chunks of 16,384: \(tree)")
        XCTAssertEqual(chunks.first, "models/m/params/embedding.npy.chunks/000000")
        XCTAssertFalse(tree.contains("models/m/params/embedding.npy"), "the whole file is not in Git")
        XCTAssertTrue(tree.contains("models/m/params/.gitignore"))
        XCTAssertTrue(tree.contains("models/m/params/layer0.weight.npy"), "16 KiB tensors stay whole (not over two chunks)")
        let sizes = try git("ls-tree", "-r", "-l", "HEAD", "models/m/params/embedding.npy.chunks").split(separator: "\n")
            .map { Int($0.split(separator: " ", omittingEmptySubsequences: true)[3].split(separator: "\t")[0]) ?? 0 }
        XCTAssertEqual(sizes, [16_384, 16_384, 7_360])

        // The work tree has the assembled file, no chunk files, and Git sees nothing changed.
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/m/params/embedding.npy.chunks").path))
        XCTAssertEqual(try git("status", "--porcelain", "--ignored", "--", "models"), "!! models/m/params/embedding.npy")
        XCTAssertTrue(
            try git("ls-files", "-v", "models/m/params/embedding.npy.chunks").split(separator: "\n").allSatisfy { $0.hasPrefix("S ") })
        try assertEmbedding(equals: v1)

        // One changed row (bytes 20,128-20,528) touches one chunk.
        let v2 = try writeWeights("v2.safetensors", bigRow: 50)
        let second = try add(v2, environment: Self.chunkEnvironment)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(
            try changedPaths("m@v1.0.0", "m@v2.0.0"),
            ["models/m/README.md", "models/m/model.yaml", "models/m/params/embedding.npy.chunks/000001"])
        try assertEmbedding(equals: v2)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        let exported = root.appendingPathComponent("out.safetensors")
        XCTAssertEqual(try mv("export", "m@v2", "--format", "safetensors", "-o", exported.path).status, 0)
        XCTAssertEqual(try Data(contentsOf: exported), try Data(contentsOf: v2))
        try git("fsck", "--strict")

        // mv checkout assembles; --to writes a plain folder with the whole .npy.
        XCTAssertEqual(try mv("checkout", "m@v1").status, 0)
        try assertEmbedding(equals: v1)
        let copy = root.appendingPathComponent("copy")
        XCTAssertEqual(try mv("checkout", "m@v2", "--to", copy.path).status, 0)
        XCTAssertTrue(FileManager.default.fileExists(atPath: copy.appendingPathComponent("params/embedding.npy").path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: copy.appendingPathComponent("params/embedding.npy.chunks").path))
    }

    /// A new version of a chunked tensor rewrites only its changed chunks in the work-tree
    /// file, in place; a file mv no longer finds intact is never patched but assembled anew.
    func testAChunkedTensorsWorkTreeFileIsPatchedInPlace() throws {
        let file = root.appendingPathComponent("models/m/params/embedding.npy")
        func inode() throws -> Int? { try FileManager.default.attributesOfItem(atPath: file.path)[.systemFileNumber] as? Int }
        XCTAssertEqual(try add(try writeWeights("v1.safetensors"), environment: Self.chunkEnvironment).status, 0)
        let original = try inode()
        let v2 = try writeWeights("v2.safetensors", bigRow: 99)
        let second = try add(v2, environment: Self.chunkEnvironment)
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(try inode(), original, "the file was patched, not replaced")
        try assertEmbedding(equals: v2)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)

        // Rows in the first and last chunks; the next version starts from the patched file.
        let v3 = try writeWeights("v3.safetensors", changed: ["embedding"], bigRow: 99)
        XCTAssertEqual(try add(v3, environment: Self.chunkEnvironment).status, 0)
        XCTAssertEqual(try inode(), original)
        try assertEmbedding(equals: v3)
        XCTAssertEqual(
            try changedPaths("m@v2.0.0", "m@v3.0.0"),
            ["models/m/README.md", "models/m/model.yaml", "models/m/params/embedding.npy.chunks/000000"])

        // Edited by hand: mv refuses, and with --force rebuilds the file rather than patch it.
        try editTensor("models/m/params/embedding.npy", "a[10, 0] = 7")
        let refused = try add(v2, environment: Self.chunkEnvironment)
        XCTAssertNotEqual(refused.status, 0)
        let forced = try add(v2, "--force", environment: Self.chunkEnvironment)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        try assertEmbedding(equals: v2)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        try git("fsck", "--strict")
    }

    func testPlainGitCheckoutAndAFreshCloneGetTheAssembledFile() throws {
        let v1 = try writeWeights("v1.safetensors")
        let v2 = try writeWeights("v2.safetensors", bigRow: 99)
        XCTAssertEqual(try add(v1, environment: Self.chunkEnvironment).status, 0)
        XCTAssertEqual(try add(v2, environment: Self.chunkEnvironment).status, 0)
        XCTAssertEqual(try mv("hooks", "install").status, 0)
        try git("checkout", "-q", "m@v1.0.0")
        try assertEmbedding(equals: v1)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "", "post-checkout removed the chunk files git wrote out")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/m/params/embedding.npy.chunks").path))
        try git("checkout", "-q", "main")
        try assertEmbedding(equals: v2)

        let clone = root.appendingPathComponent("clone")
        try git("clone", "-q", root.path, clone.path)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: clone.appendingPathComponent("models/m/params/embedding.npy.chunks/000000").path))
        let initialized = try mv("init", in: clone)
        XCTAssertEqual(initialized.status, 0, initialized.stderr)
        XCTAssertTrue(initialized.stdout.contains("Assembled models/m/params/embedding.npy from its chunks"), initialized.stdout)
        try assertEmbedding(equals: v2, in: clone)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models", in: clone), "")
    }

    func testAMissingChunkIsReportedNotGuessed() throws {
        XCTAssertEqual(try add(try writeWeights("v1.safetensors"), environment: Self.chunkEnvironment).status, 0)
        try git("update-index", "--force-remove", "models/m/params/embedding.npy.chunks/000001")
        try git("commit", "-q", "--no-verify", "-m", "lose a chunk")
        let verify = try mv("verify", "HEAD", "--model", "m")
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue(
            verify.stderr.contains("'params/embedding.npy.chunks/' holds 2 chunk files, not the 3 the manifest lists for 'embedding'"),
            verify.stderr)
        XCTAssertEqual(try mv("verify", "m@v1").status, 0, "the registered version is intact")
    }

    func testAnEditedAssembledFileCountsAsAnUncommittedChange() throws {
        XCTAssertEqual(try add(try writeWeights("v1.safetensors"), environment: Self.chunkEnvironment).status, 0)
        try editTensor("models/m/params/embedding.npy", "a[1, 1] = 7")
        let refused = try add(try writeWeights("v2.safetensors", bigRow: 3), environment: Self.chunkEnvironment)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("uncommitted changes ('models/m/params/embedding.npy')"), refused.stderr)
        XCTAssertEqual(try git("tag", "--list", "m@*"), "m@v1.0.0")
    }

    /// Changes a tensor file in place with numpy, e.g. `editTensor("…/a.npy", "a[0, 1] = 5")`.
    /// `mv diff` streams tensors chunk by chunk: its numbers equal numpy's on the whole arrays,
    /// and a chunk replaced in a later commit fails the sha256 check instead of being diffed.
    func testDiffOfChunkedTensorsMatchesNumpyAndRefusesATamperedChunk() throws {
        let v1 = try writeWeights("v1.safetensors")
        let v2 = try writeWeights("v2.safetensors", changed: ["layer2.weight"], bigRow: 50)
        XCTAssertEqual(try add(v1, environment: Self.chunkEnvironment).status, 0)
        XCTAssertEqual(try add(v2, environment: Self.chunkEnvironment).status, 0)
        let result = try mv(["diff", "m@v1", "m@v2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let diff = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(diff["tensors"] as? [[String: Any]])
        let byName = Dictionary(uniqueKeysWithValues: tensors.compactMap { tensor in (tensor["name"] as? String).map { ($0, tensor) } })
        XCTAssertEqual(byName["layer0.weight"]?["status"] as? String, "unchanged")
        let expected = try Self.run(
            [
                "python3", "-c",
                """
                import json, numpy as np
                from safetensors.numpy import load_file
                a, b = load_file('v1.safetensors'), load_file('v2.safetensors')
                out = {}
                for name in ['embedding', 'layer2.weight']:
                    x, y = a[name].astype('f8').ravel(), b[name].astype('f8').ravel()
                    out[name] = [float(np.max(np.abs(y - x))), float(np.linalg.norm(y - x) / np.linalg.norm(x)),
                                 float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))]
                print(json.dumps(out))
                """,
            ], in: root)
        let want = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(expected.stdout.utf8)) as? [String: [Double]], expected.stderr)
        for name in ["embedding", "layer2.weight"] {
            let tensor = try XCTUnwrap(byName[name], name)
            let numbers = try XCTUnwrap(want[name], name)
            XCTAssertEqual(tensor["status"] as? String, "changed", name)
            XCTAssertEqual(try XCTUnwrap(tensor["max_abs_change"] as? Double), numbers[0], accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(tensor["relative_l2_change"] as? Double), numbers[1], accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(tensor["cosine_similarity"] as? Double), numbers[2], accuracy: 1e-12, name)
        }

        // Another blob of the same size in place of the embedding's middle chunk.
        let forged = root.appendingPathComponent("forged")
        try Data((0..<16_384).map { UInt8(truncatingIfNeeded: $0 &* 31) }).write(to: forged)
        let blob = try git("hash-object", "-w", forged.path)
        try git("update-index", "--cacheinfo", "100644,\(blob),models/m/params/embedding.npy.chunks/000001")
        try git("commit", "-q", "--no-verify", "-m", "replace a chunk")
        let tampered = try mv(["diff", "m@v1", "HEAD", "--model", "m"])
        XCTAssertNotEqual(tampered.status, 0)
        XCTAssertTrue(
            tampered.stderr.contains("tensor 'embedding' of") && tampered.stderr.contains("does not match its sha256 in the manifest"),
            tampered.stderr)
    }

    /// Two versions mv stored share all but one chunk of the embedding: the diff reads only
    /// that chunk (the rest of the dot product comes from the manifests' norms) and gives the
    /// figures the full comparison gives. Without the record of tensors mv checked, both are
    /// read whole and checked; a changed chunk whose stored bytes were altered is refused;
    /// versions chunked differently are still compared value by value.
    func testDiffReadsOnlyTheChunksTwoVersionsDoNotShare() throws {
        let v1 = try writeWeights("v1.safetensors")
        let v2 = try writeWeights("v2.safetensors", bigRow: 50)
        XCTAssertEqual(try add(v1, environment: Self.chunkEnvironment).status, 0)
        XCTAssertEqual(try add(v2, environment: Self.chunkEnvironment).status, 0)
        let chunks = try git("ls-tree", "-r", "--name-only", "m@v1.0.0", "--", "models/m/params/embedding.npy.chunks").split(
            separator: "\n")
        XCTAssertEqual(chunks.count, 3)
        XCTAssertEqual(
            try git("diff", "--name-only", "m@v1.0.0", "m@v2.0.0"),
            "models/m/README.md\nmodels/m/model.yaml\nmodels/m/params/embedding.npy.chunks/000001")
        let record = root.appendingPathComponent(".git/mv/verified-tensors")
        XCTAssertEqual(
            try String(contentsOf: record, encoding: .utf8).split(separator: "\n").count, 10, "9 tensors of v1, the new embedding")

        func embedding(_ a: String, _ b: String) throws -> [Double] {
            let result = try mv(["diff", a, b, "--json"])
            XCTAssertEqual(result.status, 0, result.stderr)
            let diff = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
            let tensor = try XCTUnwrap((diff["tensors"] as? [[String: Any]])?.first { $0["name"] as? String == "embedding" })
            XCTAssertEqual(tensor["status"] as? String, "changed")
            return try ["max_abs_change", "relative_l2_change", "cosine_similarity"].map { try XCTUnwrap(tensor[$0] as? Double, $0) }
        }
        func numpy(_ a: String, _ b: String) throws -> [Double] {
            let result = try Self.run(
                [
                    "python3", "-c",
                    """
                    import json, sys, numpy as np
                    from safetensors.numpy import load_file
                    x, y = (load_file(f)['embedding'].astype('f8').ravel() for f in sys.argv[1:3])
                    print(json.dumps([float(np.max(np.abs(y - x))), float(np.linalg.norm(y - x) / np.linalg.norm(x)),
                                      float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))]))
                    """, a, b,
                ], in: root)
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [Double], result.stderr)
        }
        let want = try numpy("v1.safetensors", "v2.safetensors")
        let shortcut = try embedding("m@v1", "m@v2")
        for (got, expected) in zip(shortcut, want) { XCTAssertEqual(got, expected, accuracy: 1e-12) }
        XCTAssertLessThan(want[2], 1, "the change shows in the cosine")

        // Without the record, both embeddings are read whole, checked, and then recorded.
        try FileManager.default.removeItem(at: record)
        let whole = try embedding("m@v1", "m@v2")
        for (got, expected) in zip(whole, want) { XCTAssertEqual(got, expected, accuracy: 1e-12) }
        XCTAssertEqual(try String(contentsOf: record, encoding: .utf8).split(separator: "\n").count, 2)

        // Chunked at another size: no chunk in common, compared value by value.
        let v3 = try writeWeights("v3.safetensors", bigRow: 60)
        var smaller = Self.chunkEnvironment
        smaller["MV_CHUNK_BYTES"] = "8192"
        XCTAssertEqual(try add(v3, environment: smaller).status, 0)
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", "m@v3.0.0", "--", "models/m/params/embedding.npy.chunks").split(separator: "\n").count,
            5)
        for (got, expected) in zip(try embedding("m@v2", "m@v3"), try numpy("v2.safetensors", "v3.safetensors")) {
            XCTAssertEqual(got, expected, accuracy: 1e-12)
        }

        // One byte of v2's own chunk altered where it lies in v2's pack (row 51 follows the
        // zeroed row 50; v1's copy of it lies in v1's pack).
        let packs = root.appendingPathComponent(".git/objects/pack")
        let v2Pack = try XCTUnwrap(
            try FileManager.default.contentsOfDirectory(atPath: packs.path).filter { $0.hasSuffix(".pack") }
                .map { packs.appendingPathComponent($0) }
                .filter {
                    try git("verify-pack", "-v", $0.path).contains(
                        try git("rev-parse", "m@v2.0.0:models/m/params/embedding.npy.chunks/000001"))
                }
                .first)
        var bytes = try Data(contentsOf: v2Pack)
        let safetensors = try Data(contentsOf: v2)
        let headerLength = Int(safetensors.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        let offsets = try XCTUnwrap(
            (try JSONSerialization.jsonObject(with: safetensors.subdata(in: 8..<(8 + headerLength))) as? [String: Any])?["embedding"]
                as? [String: Any])
        let start = 8 + headerLength + (try XCTUnwrap((offsets["data_offsets"] as? [Int])?.first)) + 51 * 400
        let found = try XCTUnwrap(bytes.range(of: safetensors.subdata(in: start..<(start + 64))), "row 51 is stored as it is")
        bytes[found.lowerBound + 9] ^= 0x10
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: v2Pack.path)
        try bytes.write(to: v2Pack)
        let altered = try mv(["diff", "m@v1", "m@v2"])
        XCTAssertEqual(altered.status, 1)
        XCTAssertTrue(
            altered.stderr.contains("tensor 'embedding' of m@v2.0.0 has a chunk whose bytes do not match its blob id"), altered.stderr)
        XCTAssertEqual(altered.stdout, "")
    }

    /// Tensors read whole go through in 8 MiB windows, each side copied out of 64 KiB stored
    /// blocks (an odd size, so elements straddle them): a 12 MiB float32 and a 10 MiB float16
    /// tensor, every value changed, give numpy's figures.
    func testDiffOfTensorsLargerThanItsWindowMatchesNumpy() throws {
        let made = try Self.run(
            [
                "python3", "-c",
                """
                import json, numpy as np
                from safetensors.numpy import save_file
                rng = np.random.default_rng(11)
                a = {'w': rng.standard_normal(3 * 2**20 + 5).astype('<f4'), 'h': rng.standard_normal(5 * 2**20 + 3).astype('<f2')}
                b = {k: (v + rng.standard_normal(v.shape).astype(v.dtype) * v.dtype.type(0.01)).astype(v.dtype) for k, v in a.items()}
                save_file(a, 'a.safetensors')
                save_file(b, 'b.safetensors')
                out = {}
                for k in a:
                    x, y = a[k].astype('f8'), b[k].astype('f8')
                    out[k] = [float(np.max(np.abs(y - x))), float(np.linalg.norm(y - x) / np.linalg.norm(x)),
                              float(x @ y / (np.linalg.norm(x) * np.linalg.norm(y)))]
                print(json.dumps(out))
                """,
            ], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        let want = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(made.stdout.utf8)) as? [String: [Double]])
        XCTAssertEqual(try add(root.appendingPathComponent("a.safetensors")).status, 0)
        XCTAssertEqual(try add(root.appendingPathComponent("b.safetensors")).status, 0)
        let result = try mv(["diff", "m@v1", "m@v2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let diff = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tensors = try XCTUnwrap(diff["tensors"] as? [[String: Any]])
        for name in ["w", "h"] {
            let tensor = try XCTUnwrap(tensors.first { $0["name"] as? String == name }, name)
            let numbers = try XCTUnwrap(want[name], name)
            XCTAssertEqual(try XCTUnwrap(tensor["max_abs_change"] as? Double), numbers[0], accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(tensor["relative_l2_change"] as? Double), numbers[1], accuracy: 1e-12, name)
            XCTAssertEqual(try XCTUnwrap(tensor["cosine_similarity"] as? Double), numbers[2], accuracy: 1e-12, name)
        }
    }

    /// A version not imported from one safetensors file (here a folder of .npy files, one of
    /// them chunked) is exported by streaming its blobs under a fresh header: numpy reads back
    /// exactly the input arrays, laid out as the reference writer orders them.
    func testSafetensorsExportOfAFolderVersionStreamsItsChunks() throws {
        let made = try Self.run(
            [
                "python3", "-c",
                """
                import os, numpy as np
                rng = np.random.default_rng(3)
                os.makedirs('weights')
                np.save('weights/embedding.npy', rng.standard_normal((100, 100)).astype('<f4'))
                np.save('weights/bias.npy', rng.standard_normal(7))
                np.save('weights/ids.npy', np.arange(5, dtype='<i8'))
                """,
            ], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        let added = try mv(["add", "m", "--weights", "weights"], environment: Self.chunkEnvironment)
        XCTAssertEqual(added.status, 0, added.stderr)
        XCTAssertFalse(try git("ls-tree", "-r", "--name-only", "HEAD").contains("params/embedding.npy\n"), "the embedding is chunked")
        let exported = try mv(["export", "m@v1", "--format", "safetensors", "-o", "out.safetensors"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import json, struct, numpy as np
                from safetensors.numpy import load_file
                st = load_file('out.safetensors')
                for name in ['embedding', 'bias', 'ids']:
                    a = np.load('weights/%s.npy' % name)
                    assert st[name].dtype == a.dtype and np.array_equal(st[name], a), name
                raw = open('out.safetensors', 'rb').read()
                header = json.loads(raw[8:8 + struct.unpack('<Q', raw[:8])[0]])
                order = sorted((v['data_offsets'][0], k) for k, v in header.items() if k != '__metadata__')
                print(','.join(k for _, k in order), header['__metadata__']['mv_version'])
                """,
            ], in: root)
        XCTAssertEqual(check.stdout, "ids,bias,embedding v1.0.0\n", check.stderr)
    }

    /// bfloat16 is stored as uint16 bits in the .npy; the diff compares the numbers they mean.
    func testDiffComparesBfloat16AsNumbersNotBitPatterns() throws {
        let written = try Self.run(
            [
                "python3", "-c",
                """
                import json, struct
                def save(path, bits):
                    data = struct.pack('<4H', *bits)
                    header = json.dumps({'w': {'dtype': 'BF16', 'shape': [4], 'data_offsets': [0, len(data)]}}).encode()
                    header += b' ' * (-len(header) % 8)
                    open(path, 'wb').write(struct.pack('<Q', len(header)) + header + data)
                save('a.safetensors', [0x3F80, 0x4000, 0x4040, 0x4080])  # 1, 2, 3, 4
                save('b.safetensors', [0x3F80, 0x4000, 0x4040, 0x40A0])  # 1, 2, 3, 5
                """,
            ], in: root)
        XCTAssertEqual(written.status, 0, written.stderr)
        XCTAssertEqual(try add(root.appendingPathComponent("a.safetensors")).status, 0)
        XCTAssertEqual(try add(root.appendingPathComponent("b.safetensors")).status, 0)
        let result = try mv(["diff", "m@v1", "m@v2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let diff = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let tensor = try XCTUnwrap((diff["tensors"] as? [[String: Any]])?.first { $0["name"] as? String == "w" })
        XCTAssertEqual(tensor["max_abs_change"] as? Double, 1)
        XCTAssertEqual(try XCTUnwrap(tensor["relative_l2_change"] as? Double), 1 / 30.0.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(try XCTUnwrap(tensor["cosine_similarity"] as? Double), 34 / (30.0 * 39.0).squareRoot(), accuracy: 1e-12)
    }

    /// A 600×600 float32 tensor (1.4 MiB, over the size mv moves to its trash) filled with
    /// `value`, and a small one unless left out.
    func writeBig(_ name: String, value: Float, small: Bool = true) throws -> URL {
        let url = root.appendingPathComponent(name)
        let made = try Self.run(
            [
                "python3", "-c",
                """
                import sys, numpy as np
                from safetensors.numpy import save_file
                t = {'big': np.full((600, 600), float(sys.argv[2]), dtype='<f4')}
                if sys.argv[3] == '1': t['small'] = np.zeros(4, dtype='<f4')
                save_file(t, sys.argv[1])
                """, url.path, String(value), small ? "1" : "0",
            ], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        return url
    }

    func assertBig(equals value: Float, file: StaticString = #filePath, line: UInt = #line) throws {
        let loaded = try Self.run(
            [
                "python3", "-c",
                "import numpy as np; a = np.load('models/m/params/big.npy'); print(a.shape, float(a.min()), float(a.max()))",
            ], in: root)
        XCTAssertEqual(loaded.stdout, "(600, 600) \(value) \(value)\n", loaded.stderr, file: file, line: line)
    }

    /// A big work-tree file a new version replaces is deleted after the command (by a detached
    /// `rm` of `.git/mv/trash`), never before the new one is in place: the replacement is one
    /// rename, and what is left is exactly the new version.
    func testReplacedBigWorkTreeFilesAreDeletedAfterTheCommand() throws {
        XCTAssertEqual(try add(try writeBig("v1.safetensors", value: 1)).status, 0)
        let file = root.appendingPathComponent("models/m/params/big.npy")
        let before = try FileManager.default.attributesOfItem(atPath: file.path)[.systemFileNumber] as? Int
        let result = try add(try writeBig("v2.safetensors", value: 2))
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertNotEqual(try FileManager.default.attributesOfItem(atPath: file.path)[.systemFileNumber] as? Int, before)
        try assertBig(equals: 2)
        XCTAssertEqual(try git("status", "--porcelain"), "?? v1.safetensors\n?? v2.safetensors")
        let trash = root.appendingPathComponent(".git/mv/trash")
        let deadline = Date().addingTimeInterval(10)
        while FileManager.default.fileExists(atPath: trash.path), Date() < deadline { usleep(20_000) }
        XCTAssertFalse(FileManager.default.fileExists(atPath: trash.path), "the old file was never deleted")
        try git("fsck", "--strict")
    }

    /// When the trash cannot be made (here a file stands where its folder goes), files are
    /// replaced and removed in place as before.
    func testAnUnusableTrashFallsBackToDeletingInPlace() throws {
        XCTAssertEqual(try add(try writeBig("v1.safetensors", value: 1)).status, 0)
        try Data("not a folder".utf8).write(to: root.appendingPathComponent(".git/mv/trash"))
        let result = try add(try writeBig("v2.safetensors", value: 3, small: false))
        XCTAssertEqual(result.status, 0, result.stderr)
        try assertBig(equals: 3)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/m/params/small.npy").path))
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        XCTAssertEqual(try String(contentsOf: root.appendingPathComponent(".git/mv/trash"), encoding: .utf8), "not a folder")
    }

    /// Tensors are compared with the previous version's bytes in two steps (the first 64 KiB
    /// at once, the rest in the background while changed tensors are stored): a change past the
    /// first 64 KiB, one at the very start and unchanged tensors must all come out right.
    func testChangesAnywhereInATensorAreFoundAndOnlyThoseStored() throws {
        func write(_ name: String, edits: String) throws -> URL {
            try writeSquareTensors(name, count: 4, side: 300, seed: 3, edits: edits)
        }
        XCTAssertEqual(try add(try write("v1.safetensors", edits: "pass")).status, 0)
        let before = try objectBytes()
        let v2 = try write("v2.safetensors", edits: "t['w1'][-1, -1] += 1; t['w2'][0, 0] += 1")
        let result = try add(v2)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(
            try changedPaths("m@v1.0.0", "m@v2.0.0"),
            ["models/m/README.md", "models/m/model.yaml", "models/m/params/w1.npy", "models/m/params/w2.npy"])
        let growth = try objectBytes() - before
        XCTAssertLessThan(growth, Int(1.1 * 2 * 360_128) + 8_192, "growth \(growth) bytes")
        let loaded = try Self.run(
            [
                "python3", "-c",
                """
                import sys, numpy as np
                from safetensors.numpy import load_file
                t = load_file(sys.argv[1])
                print(all((np.load(f'models/m/params/{k}.npy') == t[k]).all() for k in t))
                """, v2.path,
            ], in: root)
        XCTAssertEqual(loaded.stdout, "True\n", loaded.stderr)
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        XCTAssertEqual(try git("status", "--porcelain", "--", "models"), "")
        try git("fsck", "--strict")
    }

    /// `MV_TRACE=1` prints where a command's time went; without it nothing extra is printed.
    func testPhaseTraceIsPrintedOnlyWhenAsked() throws {
        let weights = try writeWeights("v1.safetensors")
        let traced = try mv(
            ["add", "m", "--weights", weights.path, "--quiet"],
            environment: GitTestCase.environment.merging(["MV_TRACE": "1"]) { $1 })
        XCTAssertEqual(traced.status, 0, traced.stderr)
        let marks = traced.stderr.split(separator: "\n").filter { $0.hasPrefix("mv-trace") }
        XCTAssertEqual(marks.first?.hasSuffix("main"), true, traced.stderr)
        XCTAssertTrue(marks.contains { $0.hasSuffix("ingest: pack finished") }, traced.stderr)
        XCTAssertEqual(marks.last?.hasSuffix("done"), true, traced.stderr)
        let quiet = try add(try writeWeights("v2.safetensors", changed: ["layer1.weight"]), "--quiet")
        XCTAssertEqual(quiet.status, 0, quiet.stderr)
        XCTAssertEqual(quiet.stderr, "")
    }

    func editTensor(_ path: String, _ assignment: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let edit = try Self.run(
            ["python3", "-c", "import numpy as np\na = np.load('\(path)'); \(assignment); np.save('\(path)', a)"], in: root)
        XCTAssertEqual(edit.status, 0, edit.stderr, file: file, line: line)
    }

    /// The work-tree embedding as numpy loads it equals the one in `weights`.
    func assertEmbedding(equals weights: URL, in folder: URL? = nil, file: StaticString = #filePath, line: UInt = #line) throws {
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import sys, numpy as np
                from safetensors.numpy import load_file
                a = np.load('models/m/params/embedding.npy'); b = load_file(sys.argv[1])['embedding']
                print('same' if a.shape == b.shape and (a == b).all() else 'different')
                """, weights.path,
            ], in: folder ?? root)
        XCTAssertEqual(check.stdout, "same\n", check.stderr, file: file, line: line)
    }
}

extension GitTestCase {
    /// A safetensors file of `count` float32 tensors `w0`… of `side`×`side` random values,
    /// after `edits` (Python on the dict `t`).
    func writeSquareTensors(_ name: String, count: Int, side: Int, seed: Int, edits: String = "pass") throws -> URL {
        let url = root.appendingPathComponent(name)
        let made = try Self.run(
            [
                "python3", "-c",
                """
                import sys, numpy as np
                from safetensors.numpy import save_file
                rng = np.random.default_rng(\(seed))
                t = {f'w{i}': rng.standard_normal((\(side), \(side))).astype('<f4') for i in range(\(count))}
                \(edits)
                save_file(t, sys.argv[1])
                """, url.path,
            ], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        return url
    }
}
