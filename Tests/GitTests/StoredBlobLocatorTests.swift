import Foundation
import SystemIO
import TestSupport
import XCTest

@testable import Git

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

    /// The blob's bytes read from the pack file by the ranges, checked against the bytes the
    /// locator's own memory map shows for the same ranges.
    private func bytes(of stored: StoredBlob) throws -> Data {
        let pack = try Data(contentsOf: stored.packFile)
        let read = stored.segments.reduce(into: Data()) { $0.append(pack[$1]) }
        let mapped = stored.segments.reduce(into: Data()) { $0.append(contentsOf: stored.bytes($1)) }
        XCTAssertEqual(read, mapped, "the mapped bytes are the file's")
        return read
    }

    /// The content `readStored` hands out, pieces checked to arrive in order; nil when it
    /// declines.
    private func readStored(
        _ locator: StoredBlobLocator, _ id: ObjectID, size: Int?, prefix: Int? = nil,
        cachedOnly: Bool = false, window: Int = 4096
    ) throws -> Data? {
        var collected = Data()
        let outcome = try locator.readStored(
            id, size: size, prefix: prefix, cachedOnly: cachedOnly,
            window: ReadWindow(capacity: window)
        ) { piece, offset in
            XCTAssertEqual(offset, collected.count, "pieces arrive in order")
            collected.append(contentsOf: piece)
            return true
        }
        guard let outcome else { return nil }
        XCTAssertTrue(outcome)
        return collected
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
            let unsized = try XCTUnwrap(locator.locate(id), "found without knowing its size")
            XCTAssertEqual(unsized.size, data.count)
            XCTAssertEqual(try bytes(of: unsized), data)
            // Only the first bytes, as the quick comparison asks: exactly those, on any block edge.
            for prefix in [0, 1, 65_535, 65_536, 100_000] {
                let start = try XCTUnwrap(locator.locate(id, size: data.count, prefix: prefix), "\(prefix) of \(data.count)")
                XCTAssertEqual(try bytes(of: start), data.prefix(prefix), "\(prefix) of \(data.count)")
                XCTAssertEqual(
                    try readStored(locator, id, size: data.count, prefix: prefix), data.prefix(prefix), "\(prefix) of \(data.count)")
            }
            // Read with pread through windows smaller and larger than a block.
            for window in [4096, 100_000, 1 << 20] {
                XCTAssertEqual(try readStored(locator, id, size: data.count, window: window), data, "\(data.count) bytes, window \(window)")
            }
            XCTAssertEqual(try readStored(locator, id, size: nil), data)
            XCTAssertNil(try readStored(locator, id, size: data.count + 1), "a size that differs from the object's")
            do {
                let inMemory = try readStored(locator, id, size: data.count, cachedOnly: true)
                XCTAssertEqual(inMemory, data, "just written, so in memory")
            } catch ReadWindow.Failure.unsupported {}
            if !data.isEmpty {
                let stopped = try locator.readStored(id, size: data.count, cachedOnly: false, window: ReadWindow(capacity: 4096)) { _, _ in
                    false
                }
                XCTAssertEqual(stopped, false, "a piece the reader refuses ends the reading")
            }
        }
        XCTAssertNil(try readStored(locator, ids[floats.count], size: text.count), "deflated")
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

    /// A new repository holding one pack of one blob of `count` random float bytes.
    private func packedBlob(byteCount count: Int, seed: UInt64) throws -> (
        data: Data, id: ObjectID, locator: StoredBlobLocator, packFile: URL
    ) {
        let repo = try Repository.create(at: root.path)
        let data = PackWriterTests.randomFloats(byteCount: count, seed: seed)
        let id = try XCTUnwrap(packBlobs([data], into: repo).first)
        let locator = try StoredBlobLocator(repo.objects)
        return (data, id, locator, try XCTUnwrap(locator.locate(id, size: data.count)).packFile)
    }

    func testDeclinesATruncatedPack() throws {
        let (data, id, locator, packFile) = try packedBlob(byteCount: 500_000, seed: 9)
        // Cut inside the blob's blocks: the walk must stop at the file's end, never read past it.
        XCTAssertEqual(truncate(packFile.path, 300_000), 0)
        XCTAssertNil(locator.locate(id, size: data.count))
        XCTAssertNotNil(locator.locate(id, size: data.count, prefix: 65_536), "the first blocks are still whole")
        XCTAssertNil(try readStored(locator, id, size: data.count))
        XCTAssertEqual(try readStored(locator, id, size: data.count, prefix: 65_536), data.prefix(65_536))
    }

    /// How many pages of the file the page cache holds, every page asked.
    private func residentPages(_ fd: Int32, size: Int) throws -> Int {
        let mapping = try XCTUnwrap(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0))
        defer { munmap(mapping, size) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        var states = [UInt8](repeating: 0, count: (size + page - 1) / page)
        XCTAssertEqual(mincore(mapping, size, &states), 0)
        return states.filter { $0 & 1 != 0 }.count
    }

    func testInMemoryOnlyDeclinesAPackOutOfThePageCache() throws {
        let (data, id, locator, packFile) = try packedBlob(byteCount: 3 * 1024 * 1024, seed: 10)
        XCTAssertNotNil(locator.locate(id, size: data.count, inMemoryOnly: true), "just written")

        // Clean pages leave the cache on request; a file system that keeps them cannot run this test.
        let fd = open(packFile.path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        XCTAssertEqual(fsync(fd), 0)
        XCTAssertEqual(posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)), 0)
        let size = Int(lseek(fd, 0, SEEK_END))
        let mapping = try XCTUnwrap(mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0))
        let evicted = !PageCache.isResident(mapping, count: size)
        munmap(mapping, size)
        guard evicted else { throw XCTSkip("this file system keeps the pack in memory after POSIX_FADV_DONTNEED") }

        XCTAssertNil(locator.locate(id, size: data.count, inMemoryOnly: true), "reading from disk costs more than hashing")
        // The probe above may have started readahead: evict again right before the read that
        // must find nothing in memory, and check every page (isResident samples one per
        // 512 KiB) — a page kept (mapped elsewhere, or read back) would make the read succeed.
        XCTAssertEqual(posix_fadvise(fd, 0, 0, Int32(POSIX_FADV_DONTNEED)), 0)
        let resident = try residentPages(fd, size: size)
        guard resident == 0 else {
            throw XCTSkip("\(resident) pages of the pack stay in memory after POSIX_FADV_DONTNEED")
        }
        do {
            // A read that must not wait for the disk (preadv2 RWF_NOWAIT) may still start
            // readahead, and on a fast virtual disk that readahead can finish before the
            // kernel looks again: then the read succeeds, and its bytes must be right.
            let got = try readStored(locator, id, size: data.count, cachedOnly: true)
            XCTAssertEqual(got, data, "a cached-only read that succeeds returns the blob")
        } catch ReadWindow.Failure.notInMemory {
        } catch ReadWindow.Failure.unsupported {}
        XCTAssertEqual(try readStored(locator, id, size: data.count), data, "read from the disk when asked")
        let fromDisk = try XCTUnwrap(locator.locate(id, size: data.count), "found when asked regardless")
        XCTAssertEqual(try bytes(of: fromDisk), data)
        XCTAssertNotNil(locator.locate(id, size: data.count, inMemoryOnly: true), "back in memory once read")
    }

    /// Damage anywhere in the object's header and block headers: the walk either declines or
    /// returns ranges that lie inside the file and add up to the size asked for; it never
    /// reads past the end (a fault would crash the process).
    func testDamagedPacksAreDeclinedOrReadWithinTheFile() throws {
        let (data, id, locator, packFile) = try packedBlob(byteCount: 200_000, seed: 11)
        let original = try Data(contentsOf: packFile)
        // The pack header is 12 bytes; the object, its zlib header and the block headers follow.
        let headers = [12, 13, 14, 15, 16] + (0..<4).flatMap { block in (0..<5).map { 17 + block * 65_540 + $0 } }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for round in 0..<300 {
            var damaged = original
            let position = headers[Int(next() % UInt64(headers.count))]
            damaged[position] = UInt8(truncatingIfNeeded: next())
            if round % 3 == 0 { damaged = damaged.prefix(Int(next() % UInt64(original.count))) }
            try damaged.write(to: packFile)
            for prefix in [nil, 1, 70_000] as [Int?] {
                if let read = try readStored(locator, id, size: data.count, prefix: prefix) {
                    XCTAssertEqual(read.count, prefix ?? data.count, "round \(round)")
                }
                guard let stored = locator.locate(id, size: data.count, prefix: prefix) else { continue }
                XCTAssertEqual(stored.segments.reduce(0) { $0 + $1.count }, prefix ?? data.count, "round \(round)")
                XCTAssertTrue(stored.segments.allSatisfy { $0.lowerBound >= 0 && $0.upperBound <= damaged.count }, "round \(round)")
                _ = try bytes(of: stored)  // the mapped bytes are the file's
            }
        }
    }
}
