import Foundation
import TestSupport
import XCTest

/// `mv add`, `mv export --format safetensors`, `mv verify`: real weights in, the same bytes out.
final class ImportTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(try mv("init").status, 0)
    }

    /// A safetensors file written by hand (no torch here) with every dtype mv keeps,
    /// BF16 included, metadata, and a header in a non-sorted key order.
    func writeSafetensors(_ name: String, seed: Int = 0) throws -> URL {
        let url = root.appendingPathComponent(name)
        let script = """
            import json, struct, sys, numpy as np
            seed = int(sys.argv[2]); rng = np.random.default_rng(seed)
            f32 = rng.standard_normal((4, 3)).astype('<f4')
            f16 = rng.standard_normal(5).astype('<f2')
            bf16 = (rng.standard_normal(6).astype('<f4').view('<u4') >> 16).astype('<u2')
            i8 = np.arange(-3, 4, dtype='i1'); flags = np.array([True, False, True]); i64 = np.arange(4, dtype='<i8')
            tensors = [('zeta.weight', 'F32', f32), ('alpha/half', 'F16', f16), ('brain', 'BF16', bf16),
                       ('small.int', 'I8', i8), ('mask', 'BOOL', flags), ('ids', 'I64', i64)]
            header, offset, body = {'__metadata__': {'format': 'pt', 'source': 'test'}}, 0, b''
            for key, dtype, array in tensors:
                raw = array.tobytes(); header[key] = {'dtype': dtype, 'shape': list(array.shape), 'data_offsets': [offset, offset + len(raw)]}
                offset += len(raw); body += raw
            text = json.dumps(header).encode(); text += b' ' * ((8 - len(text) % 8) % 8)
            open(sys.argv[1], 'wb').write(struct.pack('<Q', len(text)) + text + body)
            """
        let result = try Self.run(["python3", "-c", script, url.path, String(seed)], in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        return url
    }

    /// Tensor names are the file's author's: '../../evil' must not make `mv export` write
    /// outside the export folder (it used to land two folders up).
    func testExportedTensorFilesStayInsideTheExportFolder() throws {
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            save_file({'../../evil': np.arange(4, dtype=np.float32), 'enc/layer.0': np.arange(3, dtype=np.float32)}, sys.argv[1])
            """
        let result = try Self.run(["python3", "-c", script, root.appendingPathComponent("crafted.safetensors").path], in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try mv("add", "m", "--weights", "crafted.safetensors").status, 0)
        let outer = root.appendingPathComponent("a")
        try FileManager.default.createDirectory(at: outer.appendingPathComponent("b"), withIntermediateDirectories: true)
        let export = try mv("export", "m@v1", "--format", "npy", "-o", "a/b/out")
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: outer.appendingPathComponent("b/out").path).sorted(),
            ["_.._.._evil.npy", "enc_layer.0.npy"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: outer.path), ["b"])
        let values = try Self.run(["python3", "-c", "import numpy as np; print(np.load('a/b/out/_.._.._evil.npy').tolist())"], in: root)
        XCTAssertEqual(values.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "[0.0, 1.0, 2.0, 3.0]", values.stderr)
    }

    /// A history crafted with a tree entry named '..' inside a model folder (git mktree
    /// takes it; neither git nor mv writes one): checkout refuses it before writing anything,
    /// in the work tree and with --to (it used to write the file next to the --to folder).
    func testCheckoutRefusesATreeEntryThatLeavesTheFolder() throws {
        let weights = try writeSafetensors("model.safetensors")
        XCTAssertEqual(try mv("add", "m", "--weights", weights.path).status, 0)
        let folder = try git("rev-parse", "m@v1.0.0:models/m")
        let evil = try Self.run(["sh", "-c", "echo evil | git hash-object -w --stdin"], in: root).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        func mktree(_ listing: String) throws -> String {
            let result = try Self.run(["sh", "-c", "printf '%s' \"$0\" | git mktree", listing], in: root)
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let inner = try mktree("100644 blob \(evil)\tevil.txt\n")
        let crafted = try mktree(try git("ls-tree", folder) + "\n040000 tree \(inner)\t..\n")
        let models = try mktree("040000 tree \(crafted)\tm\n")
        let top = try git("ls-tree", "HEAD").split(separator: "\n").filter { !$0.hasSuffix("\tmodels") }.joined(separator: "\n")
        let rootTree = try mktree(top + "\n040000 tree \(models)\tmodels\n")
        let commit = try git("commit-tree", rootTree, "-p", "HEAD", "-m", "crafted")
        try git("tag", "-a", "-m", "crafted", "m@v2.0.0", commit)

        let elsewhere = root.appendingPathComponent("elsewhere")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        for arguments in [["checkout", "m@v2", "--to", "elsewhere/out"], ["checkout", "m@v2"]] {
            let result = try mv(arguments)
            XCTAssertEqual(result.status, 1, result.stderr)
            XCTAssertTrue(result.stderr.contains("the version holds a file named '..', which mv refuses to write"), result.stderr)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: elsewhere.path), [])
        XCTAssertEqual(try git("status", "--porcelain"), "?? model.safetensors", "the work tree as it was")
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/evil.txt").path))
    }

    /// Past a file-size limit (as on a full disk) each writing command ends with one error
    /// line and status 1 — not killed by SIGXFSZ — and leaves nothing half-written: no
    /// temporary pack, no commit, no partial export or checkout folder.
    func testWritesPastAFileSizeLimitFailCleanly() throws {
        let script = """
            import sys, numpy as np
            from safetensors.numpy import save_file
            rng = np.random.default_rng(1)
            save_file({f't{i}': rng.standard_normal(1 << 20, dtype=np.float32) for i in range(4)}, sys.argv[1])
            """
        XCTAssertEqual(try Self.run(["python3", "-c", script, root.appendingPathComponent("w.safetensors").path], in: root).status, 0)
        let head = try git("rev-parse", "HEAD")
        func limited(_ kib: Int, _ arguments: String...) throws -> ProcessResult {
            try Self.run(["sh", "-c", "ulimit -f \(kib); exec \"$0\" \"$@\"", Self.mvBinary.path] + arguments, in: root)
        }
        func assertFailedCleanly(_ result: ProcessResult, file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
            XCTAssertTrue(
                result.stderr.hasPrefix("mv: error: ") && result.stderr.contains("File too large"), result.stderr,
                file: file, line: line)
        }

        // 16 MiB of tensors, 6 MB allowed per file: the pack cannot be written.
        assertFailedCleanly(try limited(6000, "add", "m", "--weights", "w.safetensors"))
        XCTAssertEqual(try git("rev-parse", "HEAD"), head)
        XCTAssertEqual(try git("tag", "-l"), "")
        XCTAssertEqual(try git("status", "--porcelain"), "?? w.safetensors", "the work tree as it was")
        let pack = root.appendingPathComponent(".git/objects/pack")
        XCTAssertEqual((try? FileManager.default.contentsOfDirectory(atPath: pack.path)) ?? [], [])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/mv/staging").path), [])
        try git("fsck", "--strict")

        XCTAssertEqual(try mv("add", "m", "--weights", "w.safetensors").status, 0)
        // Each tensor is 4 MiB: 3 MB allowed per file stops the first one.
        assertFailedCleanly(try limited(3000, "checkout", "m@v1", "--to", "copy"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("copy").path))
        assertFailedCleanly(try limited(3000, "export", "m@v1", "--format", "npy", "-o", "tensors"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("tensors").path))
        assertFailedCleanly(try limited(3000, "export", "m@v1", "--format", "safetensors", "-o", "out.safetensors"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.contains("out.safetensors") }, [])
        XCTAssertEqual(try git("status", "--porcelain"), "?? w.safetensors")
    }

    func testSafetensorsRoundTripsByteForByte() throws {
        let weights = try writeSafetensors("model.safetensors")
        _ = try write("accuracy: 0.91\nloss: 0.3\n", to: "holdout.yaml")
        _ = try write("lr: 0.001\nlayers: 6\n", to: "params.yaml")
        let added = try mv(
            "add", "bert", "--weights", weights.path, "--metrics", "holdout.yaml", "--params", "params.yaml", "--task", "classification")
        XCTAssertEqual(added.status, 0, added.stderr)
        XCTAssertTrue(try git("log", "-1", "--format=%s").hasPrefix("bert v1.0.0: accuracy 0.91, loss 0.3"))
        let files = try git("ls-tree", "-r", "--name-only", "HEAD", "models/bert").split(separator: "\n").map(String.init)
        XCTAssertTrue(files.contains("models/bert/params/alpha_half.npy"), "'/' in a tensor name becomes '_' in its file: \(files)")
        XCTAssertTrue(files.contains("models/bert/safetensors-header.json"), "\(files)")
        XCTAssertTrue(files.contains("models/bert/eval/holdout.yaml"), "\(files)")

        let exported = root.appendingPathComponent("out.safetensors")
        let export = try mv("export", "bert@v1", "--format", "safetensors", "-o", exported.path)
        XCTAssertEqual(export.status, 0, export.stderr)
        XCTAssertEqual(try Data(contentsOf: exported), try Data(contentsOf: weights), "export reproduces the imported file byte for byte")

        // numpy reads every tensor; BF16 comes back as its raw 16-bit patterns.
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import numpy as np, yaml
                from safetensors.numpy import load_file
                m = yaml.safe_load(open('models/bert/model.yaml')); rec = {p['name']: p for p in m['params']}
                assert rec['brain']['dtype'] == 'bfloat16' and rec['alpha/half']['dtype'] == 'float16', rec
                assert rec['mask']['dtype'] == 'bool' and rec['small.int']['dtype'] == 'int8'
                raw = open('model.safetensors', 'rb').read()
                import json, struct; n = struct.unpack('<Q', raw[:8])[0]; h = json.loads(raw[8:8+n])
                for name, r in rec.items():
                    a = np.load('models/bert/' + r['file'])
                    b, e = h[name]['data_offsets']
                    assert a.tobytes() == raw[8+n+b:8+n+e], name
                    assert list(a.shape) == r['shape'], name
                bf = np.load('models/bert/params/brain.npy')
                as_float = (bf.astype('<u4') << 16).view('<f4').astype('f8')
                assert abs(as_float.mean() - rec['brain']['mean']) < 1e-9, (as_float.mean(), rec['brain']['mean'])
                assert m['source']['format'] == 'safetensors' and m['source']['metadata'] == {'format': 'pt', 'source': 'test'}
                print('ok')
                """,
            ], in: root)
        XCTAssertEqual(check.stdout, "ok\n", check.stderr)

        let verify = try mv("verify", "bert@v1")
        XCTAssertEqual(verify.status, 0, verify.stderr)
        XCTAssertTrue(verify.stdout.contains("all 6 tensors match"), verify.stdout)
        // Every object mv wrote is reachable: no intermediate trees left dangling.
        XCTAssertEqual(try git("fsck", "--strict", "--no-reflogs"), "")
    }

    func testUnchangedTensorsAreStoredOnce() throws {
        let weights = try writeSafetensors("model.safetensors")
        XCTAssertEqual(try mv("add", "m", "--weights", weights.path).status, 0)
        let v1 = try git("ls-tree", "-r", "HEAD", "models/m/params")
        XCTAssertEqual(try mv("add", "m", "--weights", weights.path).status, 0)
        XCTAssertEqual(try git("ls-tree", "-r", "HEAD", "models/m/params"), v1, "the same weights are the same blobs")

        // Change one tensor: only its blob differs.
        try FileManager.default.createDirectory(at: root.appendingPathComponent("dir"), withIntermediateDirectories: true)
        let again = try Self.run(
            [
                "python3", "-c",
                """
                import numpy as np
                np.save('dir/zeta.weight.npy', np.ones((4, 3), dtype='<f4')); np.save('dir/ids.npy', np.arange(4, dtype='<i8'))
                """,
            ], in: root)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertEqual(try mv("add", "m", "--weights", "dir").status, 0)
        XCTAssertEqual(try mv("add", "m", "--weights", "dir", "--version", "v9").status, 0)
        let blobs = { (rev: String) throws -> [String: String] in
            Dictionary(
                uniqueKeysWithValues: try self.git("ls-tree", "-r", rev, "models/m/params").split(separator: "\n").map { line in
                    let parts = line.split(separator: "\t")
                    return (String(parts[1]), String(parts[0].split(separator: " ")[2]))
                })
        }
        let v3 = try blobs("m@v3.0.0")
        let v1Blobs = try blobs("m@v1.0.0")
        let v9 = try blobs("m@v9.0.0")
        XCTAssertEqual(v3, v9)
        XCTAssertEqual(v3["models/m/params/ids.npy"], v1Blobs["models/m/params/ids.npy"], "unchanged tensor, same blob")
        XCTAssertNotEqual(v3["models/m/params/zeta.weight.npy"], v1Blobs["models/m/params/zeta.weight.npy"])
        // Every object mv wrote is reachable: no intermediate trees left dangling.
        XCTAssertEqual(try git("fsck", "--strict", "--no-reflogs"), "")
    }

    func testVerifyNamesATamperedTensor() throws {
        let weights = try writeSafetensors("model.safetensors")
        XCTAssertEqual(try mv("add", "m", "--weights", weights.path).status, 0)
        // A commit by plain git (no hooks installed) that edits a tensor behind mv's back.
        let edit = try Self.run(
            [
                "python3", "-c",
                "import numpy as np; a = np.load('models/m/params/ids.npy'); a[0] = 42; np.save('models/m/params/ids.npy', a)",
            ], in: root)
        XCTAssertEqual(edit.status, 0, edit.stderr)
        try git("commit", "-q", "-am", "edit a tensor by hand")
        let verify = try mv("verify", "HEAD", "--model", "m")
        XCTAssertEqual(verify.status, 1)
        XCTAssertTrue(verify.stderr.contains("1 of 6 tensors do not match their sha256: 'ids' (params/ids.npy)"), verify.stderr)
        XCTAssertEqual(try mv("verify", "m@v1").status, 0, "the registered version is intact")
        let export = try mv("export", "HEAD", "--model", "m", "--format", "npy", "-o", "out")
        XCTAssertNotEqual(export.status, 0)
        XCTAssertTrue(export.stderr.contains("tensor 'ids'"), export.stderr)
        // Streamed safetensors export checks each tensor on the way and leaves nothing behind.
        let streamed = try mv("export", "HEAD", "--model", "m", "--format", "safetensors", "-o", "out.safetensors")
        XCTAssertNotEqual(streamed.status, 0)
        XCTAssertTrue(streamed.stderr.contains("tensor 'ids'") && streamed.stderr.contains("nothing was written"), streamed.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("out.safetensors").path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix(".out.safetensors") }, [])
    }

    /// Bytes altered inside mv's own pack, where export and verify read stored blocks
    /// directly (not through libgit2, which would also check zlib's Adler-32): the tensor's
    /// SHA-256 still names it, and export leaves nothing behind.
    func testBytesAlteredInThePackAreCaughtByVerifyAndExport() throws {
        let script = """
            import numpy as np, sys
            from safetensors.numpy import save_file
            rng = np.random.default_rng(3)
            save_file({'a': rng.standard_normal(40_000).astype('<f4'), 'b': rng.standard_normal(50_000).astype('<f4')}, sys.argv[1])
            """
        let weights = root.appendingPathComponent("model.safetensors")
        let made = try Self.run(["python3", "-c", script, weights.path], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
        XCTAssertEqual(try mv("add", "m", "--weights", weights.path).status, 0)
        let good = root.appendingPathComponent("good.safetensors")
        XCTAssertEqual(try mv("export", "m@v1", "--format", "safetensors", "-o", good.path).status, 0)
        XCTAssertEqual(try Data(contentsOf: good), try Data(contentsOf: weights))

        // Flip one byte of tensor 'b' where it lies in the pack: its last 4 bytes are unique.
        let packs = root.appendingPathComponent(".git/objects/pack")
        let pack = try XCTUnwrap(FileManager.default.contentsOfDirectory(atPath: packs.path).first { $0.hasSuffix(".pack") })
        let packURL = packs.appendingPathComponent(pack)
        var bytes = try Data(contentsOf: packURL)
        let file = try Data(contentsOf: weights)
        let tail = file.suffix(64)
        let found = try XCTUnwrap(bytes.range(of: tail), "tensor b's last bytes are stored as they are")
        bytes[found.lowerBound + 10] ^= 0x40
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: packURL.path)
        try bytes.write(to: packURL)

        let verify = try mv("verify", "m@v1")
        XCTAssertEqual(verify.status, 1, verify.stdout + verify.stderr)
        XCTAssertTrue(verify.stderr.contains("1 of 2 tensors do not match their sha256: 'b'"), verify.stderr)
        let exported = root.appendingPathComponent("out.safetensors")
        let export = try mv("export", "m@v1", "--format", "safetensors", "-o", exported.path)
        XCTAssertNotEqual(export.status, 0)
        XCTAssertTrue(export.stderr.contains("tensor 'b'") && export.stderr.contains("nothing was written"), export.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: exported.path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: root.path).filter { $0.hasPrefix(".out.safetensors") }, [])
    }

    func testBadWeightsAreRefusedWithoutAnyChange() throws {
        let cases: [(String, String, String)] = [
            (
                "truncated.safetensors",
                "import struct; h=b'{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}'; open(P,'wb').write(struct.pack('<Q',len(h))+h+b'\\0'*8)",
                "truncated"
            ),
            ("long.safetensors", "import struct; open(P,'wb').write(struct.pack('<Q', 10**9) + b'{}')", "long.safetensors"),
            (
                "overlap.safetensors",
                "import struct; h=b'{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}'; open(P,'wb').write(struct.pack('<Q',len(h))+h+b'\\0'*12)",
                "overlap"
            ),
            (
                "dtype.safetensors",
                "import struct; h=b'{\"a\":{\"dtype\":\"Q7\",\"shape\":[2],\"data_offsets\":[0,8]}}'; open(P,'wb').write(struct.pack('<Q',len(h))+h+b'\\0'*8)",
                "Q7"
            ),
            ("json.safetensors", "import struct; h=b'{not json}'; open(P,'wb').write(struct.pack('<Q',len(h))+h)", "JSON"),
            ("utf8.safetensors", "import struct; h=b'{\"\\xff\":1}'; open(P,'wb').write(struct.pack('<Q',len(h))+h)", "UTF-8"),
            ("fortran.npy", "import numpy as np; np.save(P, np.asfortranarray(np.ones((2, 3))))", "Fortran"),
            ("object.npy", "import numpy as np; np.save(P, np.array([{}, 1], dtype=object), allow_pickle=True)", "object"),
            (
                "short.npy", "import numpy as np; np.save(P, np.ones(100)); d = open(P,'rb').read(); open(P,'wb').write(d[:-40])",
                "short.npy"
            ),
        ]
        for (file, script, expected) in cases {
            let made = try Self.run(["python3", "-c", "P = '\(file)'\n" + script], in: root)
            XCTAssertEqual(made.status, 0, "\(file): \(made.stderr)")
            let before = try snapshot()
            let result = try mv("add", "m", "--weights", file)
            XCTAssertNotEqual(result.status, 0, file)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertTrue(lines.first?.hasPrefix("mv: error: ") == true && lines.count <= 2, "\(file): \(result.stderr)")
            XCTAssertTrue(result.stderr.localizedCaseInsensitiveContains(expected), "\(file): \(result.stderr)")
            XCTAssertEqual(try snapshot(), before, file)
            try FileManager.default.removeItem(at: root.appendingPathComponent(file))
        }
    }
}
