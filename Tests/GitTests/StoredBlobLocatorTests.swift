import Foundation
import XCTest
@testable import Git
import TestSupport

/// `StoredBlobLocator` reads packs itself: the ranges it returns must be exactly the blob's
/// bytes, in packs mv wrote and in packs git rewrote, and it must decline everything else.
final class StoredBlobLocatorTests: GitTestCase {
    private func packBlobs(_ contents: [Data], into repo: Repository) throws -> [ObjectID] {
        let pack = try BlobPack(repo.objects, expectedObjects: contents.count, expectedBytes: 0)
        let ids = try contents.map { data in
            try data.withUnsafeBytes { bytes -> ObjectID in
                let blob = try ObjectDatabase.hash(blob: bytes)
                try pack.add(blob)
                return blob.id
            }
        }
        try pack.finish()
        return ids
    }

    private func bytes(of stored: StoredBlob) throws -> Data {
        let pack = try Data(contentsOf: stored.packFile)
        return stored.segments.reduce(into: Data()) { $0.append(pack[$1]) }
    }

    func testFindsExactlyTheBytesOfStoredBlobs() throws {
        let repo = try Repository.create(at: root.path)
        let sizes: [Int] = [0, 1, 65_535, 65_536, 3 * 65_535 + 7, 2 * 1024 * 1024 + 3]
        var floats: [Data] = []
        for (index, size) in sizes.enumerated() {
            floats.append(PackWriterTests.randomFloats(byteCount: size, seed: UInt64(index + 1)))
        }
        let text = Data(String(repeating: "accuracy: 0.93 on the churn test set\n", count: 20_000).utf8)
        let ids = try packBlobs(floats + [text], into: repo)
        let locator = try StoredBlobLocator(repo.objects)
        for (data, id) in zip(floats, ids) {
            let stored = try XCTUnwrap(locator.locate(id, size: data.count), "\(data.count) bytes")
            XCTAssertEqual(try bytes(of: stored), data, "\(data.count) bytes")
            XCTAssertNil(locator.locate(id, size: data.count + 1), "a size that differs from the object's")
            // Only the first bytes, as the quick comparison asks: exactly those, on any block edge.
            for prefix in [0, 1, 65_535, 65_536, 100_000] {
                let start = try XCTUnwrap(locator.locate(id, size: data.count, prefix: prefix), "\(prefix) of \(data.count)")
                XCTAssertEqual(try bytes(of: start), data.prefix(prefix), "\(prefix) of \(data.count)")
            }
        }
        // Deflated (compressible) data is not laid out as stored blocks.
        XCTAssertNil(locator.locate(ids[floats.count], size: text.count))
        let absent = try XCTUnwrap(ObjectID(hex: String(repeating: "ab", count: 20)))
        XCTAssertNil(locator.locate(absent, size: 4))
    }

    func testReadsPacksGitRewroteAndDeclinesLooseObjects() throws {
        let repo = try Repository.create(at: root.path)
        let data = PackWriterTests.randomFloats(byteCount: 300_000, seed: 7)
        let id = try XCTUnwrap(packBlobs([data], into: repo).first)
        // Keep the blob reachable so repack carries it into git's own pack.
        try git("update-index", "--add", "--cacheinfo", "100644,\(id),w.npy")
        try git("commit", "-q", "-m", "weights")
        try git("repack", "-a", "-d", "-q")
        let stored = try XCTUnwrap(StoredBlobLocator(repo.objects).locate(id, size: data.count), "git reuses stored data as it is")
        XCTAssertEqual(try bytes(of: stored), data)
        XCTAssertTrue(stored.packFile.lastPathComponent.hasPrefix("pack-"))

        let loose = try repo.objects.writeBlob(Data(PackWriterTests.randomFloats(byteCount: 5_000, seed: 8)))
        XCTAssertNil(try StoredBlobLocator(repo.objects).locate(loose, size: 5_000))
    }
}
