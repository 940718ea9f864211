import Foundation
import TestSupport
import XCTest

/// Fingerprints of stored tensors (`.git/mv/fingerprints` under `.git/mv/fingerprint-key`):
/// recorded from the bytes mv hashed, computed as documented (checked here by an independent
/// Python implementation), and what `mv add` goes by to call a big tensor unchanged.
final class WeightFingerprintTests: GitTestCase {
    /// The definition in docs/ARCHITECTURE.md, written from it: the bytes zero-padded to a
    /// multiple of 256, read as 16-byte little-endian elements of GF(2^128) (modulus
    /// x^128 + x^7 + x^2 + x + 1) and evaluated as a polynomial at the key's first half (the
    /// first block the highest power), then SHA-256 of (key's second half, that value, the
    /// length as 8 little-endian bytes), first 16 bytes in hex.
    static let python = """
        import hashlib, sys

        def reduce(r):
            for i in range(r.bit_length() - 1, 127, -1):
                if (r >> i) & 1:
                    r ^= (1 << i) | (0x87 << (i - 128))
            return r

        def mul_slow(a, b):
            r = 0
            for i in range(128):
                if (b >> i) & 1:
                    r ^= a << i
            return reduce(r)

        def fingerprint(data, key):
            h = int.from_bytes(key[:16], 'little')
            # byte j of the accumulator holding v contributes (v * x^(8j)) * h
            table = [[mul_slow(v << (8 * j), h) for v in range(256)] for j in range(16)]
            padded = data + bytes(-len(data) % 256)
            acc = 0
            for i in range(0, len(padded), 16):
                a = acc.to_bytes(16, 'little')
                product = 0
                for j in range(16):
                    product ^= table[j][a[j]]
                acc = product ^ int.from_bytes(padded[i:i + 16], 'little')
            digest = hashlib.sha256(key[16:] + acc.to_bytes(16, 'little') + len(data).to_bytes(8, 'little'))
            return digest.hexdigest()[:32]
        """

    override func setUpWithError() throws {
        try super.setUpWithError()
        // mv keeps fingerprints only where the CPU computes them fast (wide carry-less multiplies).
        let cpu = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        guard cpu.contains(" vpclmulqdq"), cpu.contains(" avx2") else {
            throw XCTSkip("this CPU has no VPCLMULQDQ: mv compares bytes instead of fingerprints")
        }
        XCTAssertEqual(try mv("init").status, 0)
    }

    /// Four float32 tensors of 300×300 (360,128 bytes as .npy, far past the 64 KiB that are
    /// compared first), plus `edits` (Python on dict `t`).
    func writeWeights(_ name: String, edits: String = "pass") throws -> URL {
        try writeSquareTensors(name, count: 4, side: 300, seed: 5, edits: edits)
    }

    func add(_ file: URL) throws {
        let result = try mv("add", "m", "--weights", file.path, "--quiet")
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    var keyFile: URL { root.appendingPathComponent(".git/mv/fingerprint-key") }
    var recordFile: URL { root.appendingPathComponent(".git/mv/fingerprints") }

    func records() throws -> [String: String] {
        let text = try String(contentsOf: recordFile, encoding: .utf8)
        var result: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            XCTAssertEqual(fields.count, 2, "line '\(line)'")
            XCTAssertEqual(fields.last?.count, 32)
            result[fields[0]] = fields.last
        }
        return result
    }

    /// Fingerprints by an independent implementation: of the given blobs' bytes (`git cat-file`),
    /// with the last four bytes replaced where `lastFloat` is given.
    func pythonFingerprints(_ blobs: [String], lastFloat: Float? = nil) throws -> [String] {
        let result = try Self.run(
            [
                "python3", "-c",
                Self.python + """

                    import subprocess, struct
                    key = open(sys.argv[1], 'rb').read()
                    for blob in sys.argv[3:]:
                        data = subprocess.run(['git', 'cat-file', 'blob', blob], check=True, capture_output=True).stdout
                        if sys.argv[2]:
                            data = data[:-4] + struct.pack('<f', float(sys.argv[2]))
                        print(fingerprint(data, key))
                    """, keyFile.path, lastFloat.map { String($0) } ?? "",
            ] + blobs, in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        return result.stdout.split(separator: "\n").map(String.init)
    }

    func blob(_ revision: String, _ tensor: String) throws -> String {
        try git("rev-parse", "\(revision):models/m/params/\(tensor).npy")
    }

    func testEveryStoredTensorGetsTheDocumentedFingerprintUnderAPrivateKey() throws {
        try add(try writeWeights("v1.safetensors"))
        let key = try Data(contentsOf: keyFile)
        XCTAssertEqual(key.count, 32)
        let mode = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: keyFile.path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o077, 0, "the key is readable by its owner only")
        let blobs = try (0..<4).map { try blob("m@v1.0.0", "w\($0)") }
        let recorded = try records()
        XCTAssertEqual(Set(recorded.keys), Set(blobs))
        XCTAssertEqual(try blobs.map { recorded[$0] ?? "" }, try pythonFingerprints(blobs))
        // Not pushed: the files live in .git/mv, outside every commit.
        XCTAssertEqual(try git("ls-tree", "-r", "--name-only", "HEAD").contains("fingerprint"), false)
    }

    /// The record is trusted: a fingerprint planted for a stored blob makes a tensor with those
    /// bytes count as that blob. (This is what makes the shortcut sound only with a secret key
    /// and a record nobody else writes; see docs/ARCHITECTURE.md.)
    func testAMatchingFingerprintIsWhatCallsATensorUnchanged() throws {
        try add(try writeWeights("v1.safetensors"))
        let old = try blob("m@v1.0.0", "w1")
        // v2 changes w1's very last value, past what the first quick comparison reads.
        let value: Float = 12.5
        let planted = try XCTUnwrap(try pythonFingerprints([old], lastFloat: value).first)
        try Data("\(old) \(planted)\n".utf8).write(to: recordFile, options: .atomic)
        try add(try writeWeights("v2.safetensors", edits: "t['w1'][-1, -1] = \(value)"))
        XCTAssertEqual(try blob("m@v2.0.0", "w1"), old, "the planted fingerprint matched the new bytes")
        XCTAssertEqual(try git("diff", "--name-only", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params"), "")
    }

    func testAWrongFingerprintOnlyCostsAHashAndGetsCorrected() throws {
        try add(try writeWeights("v1.safetensors"))
        let blobs = try (0..<4).map { try blob("m@v1.0.0", "w\($0)") }
        let correct = try records()
        // Every record wrong: each tensor is hashed again and found to be the same blob.
        try Data(blobs.map { "\($0) \(String(repeating: "0", count: 32))\n" }.joined().utf8).write(to: recordFile, options: .atomic)
        let packs = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path)
        try add(try writeWeights("v2.safetensors", edits: "t['w3'][-1, -1] += 1"))
        XCTAssertEqual(try (0..<3).map { try blob("m@v2.0.0", "w\($0)") }, Array(blobs[..<3]))
        XCTAssertNotEqual(try blob("m@v2.0.0", "w3"), blobs[3])
        XCTAssertEqual(try git("diff", "--name-only", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params"), "models/m/params/w3.npy")
        let newPacks = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(".git/objects/pack").path)
        XCTAssertEqual(newPacks.count, packs.count + 2, "one new pack (and index) holding only w3")
        // The later, correct lines win.
        let now = try records()
        for blob in blobs[..<3] { XCTAssertEqual(now[blob], correct[blob]) }
        XCTAssertEqual(try mv("verify", "m@v2").status, 0)
        try git("fsck", "--strict")
    }

    /// Chunks of a big tensor get fingerprints too, and a chunk whose new bytes have the
    /// fingerprint on record for the previous version's chunk keeps that chunk, without the
    /// work-tree file (which mv wrote around the page cache) being read.
    func testChunksAreFingerprintedAndMatchedByFingerprint() throws {
        let environment = WeightStorageTests.chunkEnvironment
        func add(_ file: URL, force: Bool = false) throws {
            let result = try mv(["add", "m", "--weights", file.path, "--quiet"] + (force ? ["--force"] : []), environment: environment)
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        func chunks(_ revision: String, _ tensor: String) throws -> [String] {
            try git("ls-tree", "--object-only", "\(revision):models/m/params/\(tensor).npy.chunks").split(separator: "\n").map(String.init)
        }
        try add(try writeWeights("v1.safetensors"))
        let w1 = try chunks("m@v1.0.0", "w1")
        XCTAssertGreaterThan(w1.count, 10, "300×300 float32 in 16 KiB chunks")
        let all = try (0..<4).flatMap { try chunks("m@v1.0.0", "w\($0)") }
        XCTAssertEqual(try records().filter { Set(all).contains($0.key) }.count, Set(all).count, "every chunk on record")
        XCTAssertEqual(try w1.map { try records()[$0] ?? "" }, try pythonFingerprints(w1))

        // A planted record for w1's last chunk matching the changed bytes of v2 decides.
        let value: Float = 12.5
        let last = try XCTUnwrap(w1.last)
        let planted = try XCTUnwrap(try pythonFingerprints([last], lastFloat: value).first)
        let handle = try FileHandle(forWritingTo: recordFile)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("\(last) \(planted)\n".utf8))
        try handle.close()
        try add(try writeWeights("v2.safetensors", edits: "t['w1'][-1, -1] = \(value)"))
        XCTAssertEqual(try chunks("m@v2.0.0", "w1"), w1, "the planted fingerprint kept the old chunk")
        // The manifest's SHA-256 is of the bytes given, so verification notices.
        let verify = try mv("verify", "m@v2")
        XCTAssertNotEqual(verify.status, 0)
        XCTAssertTrue(verify.stdout.contains("w1") || verify.stderr.contains("w1"), verify.stdout + verify.stderr)

        // Without a work-tree copy to compare with, unchanged chunks are still found by
        // fingerprint: only w0's changed last chunk is new.
        try add(try writeWeights("v3.safetensors", edits: "t['w0'][-1, -1] += 1"), force: true)
        try FileManager.default.removeItem(at: root.appendingPathComponent("models/m/params/w2.npy"))
        try add(try writeWeights("v4.safetensors", edits: "t['w0'][-1, -1] += 2"), force: true)
        let (w0v3, w0v4) = (try chunks("m@v3.0.0", "w0"), try chunks("m@v4.0.0", "w0"))
        XCTAssertEqual(w0v4.dropLast(), w0v3.dropLast())
        XCTAssertNotEqual(w0v4.last, w0v3.last)
        XCTAssertEqual(try chunks("m@v4.0.0", "w2"), try chunks("m@v3.0.0", "w2"))
        XCTAssertEqual(try mv("verify", "m@v4").status, 0)
        try git("fsck", "--strict")
    }

    func testANewKeyDiscardsTheOldFingerprints() throws {
        try add(try writeWeights("v1.safetensors"))
        let oldKey = try Data(contentsOf: keyFile)
        try FileManager.default.removeItem(at: keyFile)
        try add(try writeWeights("v2.safetensors", edits: "t['w0'][-1, -1] += 1"))
        XCTAssertNotEqual(try Data(contentsOf: keyFile), oldKey)
        // Only the tensor hashed under the new key is on record, with the new key's fingerprint.
        let w0 = try blob("m@v2.0.0", "w0")
        XCTAssertEqual(try records(), [w0: try XCTUnwrap(try pythonFingerprints([w0]).first)])
        XCTAssertEqual(try git("diff", "--name-only", "m@v1.0.0", "m@v2.0.0", "--", "models/m/params"), "models/m/params/w0.npy")
    }
}
