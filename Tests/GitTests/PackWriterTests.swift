import Foundation
import TestSupport
import XCTest

@testable import Git

/// `BlobPack` writes its own pack and index: git itself (fsck, verify-pack, cat-file, gc,
/// repack) judges that what it wrote is a pack like any other.
final class PackWriterTests: GitTestCase {
    private let signature = Signature(
        name: "Test Author", email: "author@example.com",
        time: Date(timeIntervalSince1970: 1_700_000_000), offsetMinutes: 0)

    /// Edge sizes around the 65,535-byte stored block, compressible and incompressible data.
    private func makeFiles() throws -> [URL] {
        let specs: [(String, Data)] = [
            ("empty.bin", Data()),
            ("one.bin", Data([0x2A])),
            ("block.bin", Self.randomFloats(byteCount: 65_535, seed: 1)),
            ("block-plus-one.bin", Self.randomFloats(byteCount: 65_536, seed: 2)),
            ("three-blocks.bin", Self.randomFloats(byteCount: 3 * 65_535, seed: 3)),
            ("weights.f32", Self.randomFloats(byteCount: 3 * 1024 * 1024 + 17, seed: 4)),
            ("zeros.f32", Data(count: 2 * 1024 * 1024)),
            ("card.txt", Data(String(repeating: "accuracy: 0.93 on the churn test set\n", count: 20_000).utf8)),
        ]
        return try specs.map { name, data in
            let url = root.appendingPathComponent("data/\(name)")
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try data.write(to: url)
            return url
        }
    }

    /// Every file's bytes through one `BlobPack`, as `mv add` stores tensors.
    private func pack(_ files: [URL], into repo: Repository) throws -> [ObjectID] {
        let pack = try BlobPack(repo.objects, expectedObjects: files.count, expectedBytes: 0)
        let ids = try files.map { url in
            try Data(contentsOf: url).withUnsafeBytes { bytes -> ObjectID in
                let blob = try ObjectDatabase.hash(blob: bytes)
                try pack.add(blob)
                return blob.id
            }
        }
        try pack.finish()
        return ids
    }

    func testPackedBlobsAreWhatGitWouldStore() throws {
        let repo = try Repository.create(at: root.path)
        let files = try makeFiles()
        // Every file, even the empty one, goes into the pack.
        let ids = try pack(files, into: repo)

        XCTAssertEqual(ids.count, files.count)
        for (url, id) in zip(files, ids) {
            try assertStored(url, as: id)
            // The same open repository reads the new pack.
            XCTAssertEqual(try repo.objects.readBlob(id), try Data(contentsOf: url), url.lastPathComponent)
        }
        try git("fsck", "--strict", "--no-dangling")
        let packs = try packFiles()
        XCTAssertEqual(packs.count, 1)
        XCTAssertEqual(try looseObjectCount(), 0)

        // Deflate only where it pays: zeros and text shrink, random floats stay stored.
        let verify = try git("verify-pack", "-v", packs[0].path)
        func packedSize(_ name: String) throws -> Int {
            let id = ids[try XCTUnwrap(files.firstIndex { $0.lastPathComponent == name })].description
            let line = try XCTUnwrap(verify.split(separator: "\n").first { $0.hasPrefix(id) })
            return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[3]))
        }
        XCTAssertLessThan(try packedSize("zeros.f32"), 64 * 1024)
        XCTAssertLessThan(try packedSize("card.txt"), 100 * 1024)
        XCTAssertGreaterThan(try packedSize("weights.f32"), 3 * 1024 * 1024)
    }

    /// Blobs from memory (`BlobPack`): ids from `ObjectDatabase.hash(blob:)` equal git's, a
    /// tensor whose first rows compress is deflated only there, repeats and stored blobs are
    /// skipped, and git accepts the pack.
    func testBlobsFromMemoryArePackedAsGitWouldStoreThem() throws {
        let repo = try Repository.create(at: root.path)
        var mixed = Data(count: 256 * 1024)
        mixed.append(Self.randomFloats(byteCount: 6 * 1024 * 1024, seed: 9))
        let blobs: [(String, Data)] = [
            ("mixed", mixed), ("random", Self.randomFloats(byteCount: 2 * 1024 * 1024 + 3, seed: 10)),
            ("zeros", Data(count: 1024 * 1024)), ("tiny", Data([1, 2, 3])), ("empty", Data()),
        ]
        let pack = try BlobPack(repo.objects, expectedObjects: blobs.count + 1, expectedBytes: 10 << 20)
        var ids: [ObjectID] = []
        for (name, data) in blobs {
            let id = try data.withUnsafeBytes { bytes -> ObjectID in
                let hashed = try ObjectDatabase.hash(blob: bytes)
                XCTAssertTrue(try pack.add(hashed), name)
                XCTAssertFalse(try pack.add(hashed), "\(name) again is not written twice")
                return hashed.id
            }
            let url = root.appendingPathComponent(name)
            try data.write(to: url)
            XCTAssertEqual(id.description, try git("hash-object", url.path), name)
            ids.append(id)
        }
        try pack.finish()
        for ((name, data), id) in zip(blobs, ids) {
            XCTAssertEqual(try repo.objects.readBlob(id), data, name)
        }
        try git("fsck", "--strict", "--no-dangling")
        let packs = try packFiles()
        XCTAssertEqual(packs.count, 1)
        // The index, CRC-32s included, is byte for byte the one git computes from the pack.
        let gitIndex = root.appendingPathComponent("by-git.idx")
        try git("index-pack", "-o", gitIndex.path, packs[0].path)
        XCTAssertEqual(
            try Data(contentsOf: gitIndex),
            try Data(contentsOf: packs[0].deletingPathExtension().appendingPathExtension("idx")))
        let verify = try git("verify-pack", "-v", packs[0].path)
        func packedSize(_ id: ObjectID) throws -> Int {
            let line = try XCTUnwrap(verify.split(separator: "\n").first { $0.hasPrefix(id.description) })
            return try XCTUnwrap(Int(line.split(separator: " ", omittingEmptySubsequences: true)[3]))
        }
        // The zero rows shrink to almost nothing; the random part is stored, apart from the
        // one 1 MiB chunk that starts with zeros (deflate saves ~7% on random floats).
        XCTAssertLessThan(try packedSize(ids[0]), 6 * 1024 * 1024 + 8 * 1024)
        XCTAssertGreaterThan(try packedSize(ids[0]), 6 * 1024 * 1024 - 128 * 1024)
        XCTAssertGreaterThan(try packedSize(ids[1]), 2 * 1024 * 1024)
        XCTAssertLessThan(try packedSize(ids[2]), 16 * 1024)

        // A second pack of the same blobs writes nothing at all.
        let again = try BlobPack(repo.objects, expectedObjects: 1, expectedBytes: 0)
        try blobs[1].1.withUnsafeBytes { XCTAssertFalse(try again.add(try ObjectDatabase.hash(blob: $0))) }
        try again.finish()
        XCTAssertEqual(try packFiles().count, 1)
    }

    func testExistingAndRepeatedBlobsAreNotWrittenAgain() throws {
        let repo = try Repository.create(at: root.path)
        var files = try makeFiles()
        let first = try pack(files, into: repo)
        let packs = try packFiles()
        XCTAssertEqual(packs.count, 1)

        // Everything already stored: no new pack, no temporary left behind.
        XCTAssertEqual(try pack(files, into: repo), first)
        XCTAssertEqual(try packFiles(), packs)
        XCTAssertEqual(try leftovers(), [])

        // One new file among known ones and a repeat of it: a pack with exactly one object.
        let fresh = root.appendingPathComponent("data/fresh.f32")
        try Self.randomFloats(byteCount: 200_000, seed: 9).write(to: fresh)
        let copy = root.appendingPathComponent("data/fresh-copy.f32")
        try FileManager.default.copyItem(at: fresh, to: copy)
        files += [fresh, copy]
        let second = try pack(files, into: repo)
        XCTAssertEqual(Array(second.prefix(first.count)), first)
        XCTAssertEqual(second[second.count - 1], second[second.count - 2])
        let newPacks = try packFiles().filter { !packs.contains($0) }
        XCTAssertEqual(newPacks.count, 1)
        let verify = try git("verify-pack", "-v", try XCTUnwrap(newPacks.first).path)
        XCTAssertTrue(verify.contains("non delta: 1 object"), verify)
        try assertStored(fresh, as: second[second.count - 1])
        try git("fsck", "--strict", "--no-dangling")
        XCTAssertEqual(try leftovers(), [])
    }

    func testGcAndRepackKeepThePackedBlobs() throws {
        let repo = try Repository.create(at: root.path)
        let files = try makeFiles()
        let ids = try pack(files, into: repo)
        let entries = zip(files, ids).map { TreeEntry(name: $0.lastPathComponent, mode: .blob, id: $1) }
        let tree = try repo.writeTree(entries)
        let commit = try repo.createCommit(tree: tree, parents: [], message: "weights\n", author: signature, committer: signature)
        try repo.updateReference("refs/heads/main", to: commit, expecting: nil, logMessage: "test")

        try git("gc", "--quiet")
        try git("fsck", "--strict")
        try git("repack", "-adf", "--quiet")
        try git("fsck", "--strict", "--no-dangling")
        for (url, id) in zip(files, ids) { try assertStored(url, as: id) }
        XCTAssertEqual(try git("ls-tree", "-r", "--name-only", commit.description).split(separator: "\n").count, files.count)
    }

    func testAPackNotFinishedLeavesNothingBehind() throws {
        let repo = try Repository.create(at: root.path)
        let files = try makeFiles()
        let before = try packFiles()
        do {
            // A failure after some blobs went out: the writer is dropped without finish().
            let pack = try BlobPack(repo.objects, expectedObjects: files.count, expectedBytes: 1 << 20)
            for url in files.prefix(5) {
                _ = try Data(contentsOf: url).withUnsafeBytes { try pack.add(try ObjectDatabase.hash(blob: $0)) }
            }
        }
        XCTAssertEqual(try packFiles(), before)
        XCTAssertEqual(try leftovers(), [])
        try git("fsck", "--strict")
    }

    func testIndexPutsLargeOffsetsInTheWideTable() throws {
        var first = Array(repeating: UInt8(0), count: 20)
        var second = first
        first[0] = 0x01
        second[0] = 0xFE
        let near = PackIndexEntry(id: try XCTUnwrap(ObjectID(hex: hex(second))), crc32: 0xAABB_CCDD, offset: 12)
        let far = PackIndexEntry(id: try XCTUnwrap(ObjectID(hex: hex(first))), crc32: 7, offset: 0x1_2345_6789)
        let index = [UInt8](PackIndex.encode([near, far], packChecksum: Array(repeating: 0x55, count: 20)))

        func word(_ at: Int) -> UInt32 { index[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        XCTAssertEqual(Array(index[0..<8]), [0xFF, 0x74, 0x4F, 0x63, 0, 0, 0, 2])
        XCTAssertEqual(word(8 + 0 * 4), 0)
        XCTAssertEqual(word(8 + 1 * 4), 1)
        XCTAssertEqual(word(8 + 0xFE * 4), 2)
        XCTAssertEqual(word(8 + 255 * 4), 2)
        let ids = 8 + 1024
        let crcs = ids + 40
        let offsets = crcs + 8
        let wide = offsets + 8
        XCTAssertEqual(index[ids], 0x01)  // sorted: the far object's id comes first
        XCTAssertEqual(word(crcs), 7)
        XCTAssertEqual(word(crcs + 4), 0xAABB_CCDD)
        XCTAssertEqual(word(offsets), 0x8000_0000)
        XCTAssertEqual(word(offsets + 4), 12)
        XCTAssertEqual(UInt64(word(wide)) << 32 | UInt64(word(wide + 4)), 0x1_2345_6789)
        XCTAssertEqual(Array(index[(wide + 8)..<(wide + 28)]), Array(repeating: 0x55, count: 20))
        XCTAssertEqual(index.count, wide + 8 + 40)
    }

    // MARK: - Helpers

    private func assertStored(_ url: URL, as id: ObjectID, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(id.description, try git("hash-object", url.path), url.lastPathComponent, file: file, line: line)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
        XCTAssertEqual(try git("cat-file", "-s", id.description), size.map(String.init), file: file, line: line)
        let same = try Self.run(["sh", "-c", "git cat-file blob \(id) | cmp -s - '\(url.path)'"], in: root)
        XCTAssertEqual(same.status, 0, "cat-file -p of \(url.lastPathComponent) differs from the file", file: file, line: line)
    }

    private var packDirectory: URL { root.appendingPathComponent(".git/objects/pack") }

    private func packFiles() throws -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packDirectory.path)) ?? []
        return names.filter { $0.hasSuffix(".pack") }.sorted().map { packDirectory.appendingPathComponent($0) }
    }

    private func leftovers() throws -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: packDirectory.path)) ?? []
        return names.filter { $0.hasPrefix("tmp_") }
    }

    private func looseObjectCount() throws -> Int {
        let line = try git("count-objects", "-v").split(separator: "\n").first { $0.hasPrefix("count: ") }
        return Int(line?.dropFirst("count: ".count) ?? "") ?? -1
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    /// Float32 values in [-1, 1) from a fixed-seed generator: as incompressible as real weights.
    static func randomFloats(byteCount: Int, seed: UInt64) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var data = Data(count: byteCount)
        data.withUnsafeMutableBytes { (raw: UnsafeMutableRawBufferPointer) -> Void in
            var offset = 0
            while offset < byteCount {
                state ^= state << 13
                state ^= state >> 7
                state ^= state << 17
                let bits = (Float(Int32(truncatingIfNeeded: state >> 32)) / Float(Int32.max)).bitPattern
                for byte in 0..<min(4, byteCount - offset) {
                    raw[offset + byte] = UInt8(truncatingIfNeeded: bits >> (8 * UInt32(byte)))
                }
                offset += 4
            }
        }
        return data
    }
}
