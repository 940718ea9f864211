import CGit2
import CZlib
import Crypto
import Foundation
import XCTest
@testable import Git
import TestSupport

/// Timing of `writeBlobs` against the loose path on 64 × 8 MiB of random float32, skipped
/// unless MV_PACK_BENCH=1. Build and run in release:
///   swift build -c release --build-tests
///   MV_PACK_BENCH=1 swift test -c release --skip-build --disable-swift-testing --filter PackWriterBench
/// MV_PACK_BENCH_HUGE=1 adds one 4 GiB file (needs ~12 GiB of free disk).
final class PackWriterBench: GitTestCase {
    private static let fileCount = 64
    private static let fileSize = 8 << 20

    func testWriteBlobsVersusLoose() throws {
        guard ProcessInfo.processInfo.environment["MV_PACK_BENCH"] == "1" else {
            throw XCTSkip("set MV_PACK_BENCH=1 to run the pack writer benchmark")
        }
        let data = root.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        let files = (0..<Self.fileCount).map { data.appendingPathComponent("tensor-\($0).f32") }
        for (index, url) in files.enumerated() {
            try PackWriterTests.randomFloats(byteCount: Self.fileSize, seed: UInt64(index + 1)).write(to: url)
        }
        let megabytes = Double(Self.fileCount * Self.fileSize) / Double(1 << 20)
        print("pack-bench: \(Self.fileCount) files × \(Self.fileSize >> 20) MiB = \(Int(megabytes)) MiB, warm page cache, \(ProcessInfo.processInfo.activeProcessorCount) cores")

        var packedIDs: [ObjectID] = []
        for workers in [1, 2] {
            let repo = try Repository.create(at: root.appendingPathComponent("packed-\(workers)-\(UUID().uuidString)").path)
            let (ids, seconds, peak) = try Self.measure { try repo.objects.writeBlobs(files: files, packingFrom: 65_536, hashWorkers: workers, progress: nil) }
            packedIDs = ids
            print(String(format: "pack-bench: writeBlobs, %d hash thread(s): %.3f s (%.0f MiB/s), peak RSS %d MiB", workers, seconds, megabytes / seconds, peak >> 10))
            let (_, again, againPeak) = try Self.measure { try repo.objects.writeBlobs(files: files, packingFrom: 65_536, hashWorkers: workers, progress: nil) }
            print(String(format: "pack-bench: writeBlobs again (all stored, no pack written): %.3f s, peak RSS %d MiB", again, againPeak >> 10))
            try git("fsck", "--strict", in: URL(fileURLWithPath: repo.gitDirectory.path))
        }

        if ProcessInfo.processInfo.environment["MV_PACK_BENCH_PARTS"] == "1" {
            try measureParts(files, megabytes: megabytes)
        }

        let loose = try Repository.create(at: root.appendingPathComponent("loose").path)
        let (looseIDs, looseSeconds, loosePeak) = try Self.measure { try files.map { try loose.objects.writeBlob(fileAt: $0) } }
        print(String(format: "pack-bench: writeBlob(fileAt:) loose: %.3f s (%.0f MiB/s), peak RSS %d MiB", looseSeconds, megabytes / looseSeconds, loosePeak >> 10))
        XCTAssertEqual(looseIDs, packedIDs)

        if ProcessInfo.processInfo.environment["MV_PACK_BENCH_HUGE"] == "1" {
            let huge = data.appendingPathComponent("huge.f32")
            try Self.writeHuge(huge, bytes: 4 << 30)
            let repo = try Repository.create(at: root.appendingPathComponent("huge-repo").path)
            let (ids, seconds, peak) = try Self.measure { try repo.objects.writeBlobs(files: [huge], progress: nil) }
            print(String(format: "pack-bench: one 4 GiB file: %.3f s (%.0f MiB/s), peak RSS %d MiB", seconds, 4096 / seconds, peak >> 10))
            XCTAssertEqual(ids.first?.description, try git("hash-object", huge.path))
            try FileManager.default.removeItem(at: huge)
        }
    }

    /// The stages one at a time, on one thread: hashing, pack writing, sealing (fsync, index,
    /// renames).
    private func measureParts(_ files: [URL], megabytes: Double) throws {
        let (ids, hashing, _) = try Self.measure {
            try files.map { url -> ObjectID in
                var oid = git_oid()
                try check(git_odb_hashfile(&oid, url.path, GIT_OBJECT_BLOB), "hashing")
                return ObjectID(oid)
            }
        }
        print(String(format: "pack-bench: part: sha1dc ids alone: %.3f s (%.0f MiB/s)", hashing, megabytes / hashing))
        let repo = try Repository.create(at: root.appendingPathComponent("parts").path)
        let writer = try PackWriter(packDirectory: repo.gitDirectory.appendingPathComponent("objects/pack"), expectedObjects: files.count,
                                    expectedBytes: UInt64(files.count) * PackWriter.storedSize(of: UInt64(Self.fileSize)))
        let (_, writing, _) = try Self.measure {
            for (url, id) in zip(files, ids) {
                let handle = try FileHandle(forReadingFrom: url)
                defer { try? handle.close() }
                let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
                let mark = try writer.appendBlob(from: handle.fileDescriptor, size: UInt64(size), name: url.path) { _ in }
                writer.record(id: id, for: mark)
            }
        }
        print(String(format: "pack-bench: part: pack writing alone (read, stored blocks, Adler-32, CRC-32, SHA-1, write): %.3f s", writing))
        let (_, sealing, _) = try Self.measure { _ = try writer.finish() }
        print(String(format: "pack-bench: part: finish (fsync, index, renames): %.3f s", sealing))
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        for index in 0..<buffer.count { buffer[index] = UInt8(truncatingIfNeeded: index &* 7919) }
        let rounds = Int(megabytes)
        let (_, sha, _) = try Self.measure {
            var hasher = Insecure.SHA1()
            for _ in 0..<rounds { hasher.update(bufferPointer: UnsafeRawBufferPointer(buffer)) }
            _ = hasher.finalize()
        }
        let base = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let (_, crc, _) = try Self.measure { var c: UInt = 0; for _ in 0..<rounds { c = crc32(c, base, UInt32(buffer.count)) }; return c }
        let (_, adler, _) = try Self.measure { var c: UInt = 1; for _ in 0..<rounds { c = adler32(c, base, UInt32(buffer.count)) }; return c }
        let out = root.appendingPathComponent("raw-write.bin")
        let fd = open(out.path, O_CREAT | O_WRONLY | O_TRUNC, 0o644)
        _ = posix_fallocate(fd, 0, off_t(rounds << 20))
        let (_, writes, _) = try Self.measure { for _ in 0..<rounds { _ = Glibc.write(fd, buffer.baseAddress!, buffer.count) } }
        close(fd)
        print(String(format: "pack-bench: part: SHA-1 (swift-crypto) %.3f s, CRC-32 %.3f s, Adler-32 %.3f s, write() of 512 MiB %.3f s", sha, crc, adler, writes))
        try git("fsck", "--strict", in: repo.gitDirectory)
    }

    /// Runs `body` after a sync and with the peak RSS reset (writing 5 to
    /// /proc/self/clear_refs), so time and peak are this step's, not the data generation's.
    private static func measure<T>(_ body: () throws -> T) throws -> (T, Double, Int) {
        // Earlier steps' dirty pages would otherwise be written back during this one.
        sync()
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        let start = DispatchTime.now().uptimeNanoseconds
        let value = try body()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (value, seconds, peakResidentKiB())
    }

    private static func peakResidentKiB() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return -1 }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
    }

    private static func writeHuge(_ url: URL, bytes: Int) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        let chunk = 64 << 20
        for index in 0..<(bytes / chunk) {
            try handle.write(contentsOf: PackWriterTests.randomFloats(byteCount: chunk, seed: UInt64(1000 + index)))
        }
    }
}
