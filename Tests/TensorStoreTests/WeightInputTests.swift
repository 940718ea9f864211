import Foundation
import Git
import ModelFormat
import SystemIO
import TestSupport
import XCTest

@testable import TensorStore

/// What `mv add` relies on about its inputs: one rewritten while it is stored is refused
/// before anything is visible, one untouched since the last time need not be read, and a
/// tensor is compared with its previous version where that lies in a pack.
final class WeightInputTests: GitTestCase {
    /// An input replaced while its tensors are being stored: refused before the pack is
    /// published, so nothing is left in the object database.
    func testAnInputReplacedDuringIngestLeavesNoPack() throws {
        let repo = try Repository.create(at: root.path)
        let inputs = try (0..<3).map { index -> URL in
            let values = (0..<100_000).map { Float($0 % 977) * 0.37 + Float(index) }
            let url = root.appendingPathComponent("w\(index).npy")
            try (Data(NpyHeader.encode(dtype: .float32, shape: [values.count])) + values.withUnsafeBytes { Data($0) }).write(to: url)
            return url
        }
        let staging = root.appendingPathComponent("staging")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        var ingest = PackIngest(
            plans: try WeightPlanner.plan(inputs).plans, previous: [:], staging: staging,
            objects: repo.objects, state: StateFiles(gitDirectory: repo.gitDirectory))
        var replaced = false
        ingest.progress = { done in
            guard done > 0, !replaced else { return }
            replaced = true
            // A new file under the same name, as editors and np.save through a temporary do.
            try? Data(contentsOf: inputs[2]).write(to: inputs[2], options: .atomic)
        }
        XCTAssertThrowsError(try ingest.run()) {
            XCTAssertTrue("\($0)".contains("changed while it was being stored; nothing was committed"), "\($0)")
        }
        XCTAssertTrue(replaced)
        let packs = try FileManager.default.contentsOfDirectory(atPath: repo.gitDirectory.appendingPathComponent("objects/pack").path)
        XCTAssertEqual(packs.filter { $0.hasSuffix(".pack") || $0.hasSuffix(".idx") }, [], "no pack published")
        try git("fsck", "--strict")
    }

    /// An input cut short while mapped (SIGBUS) ends mv with its usual two lines
    /// (SystemIOTests.FaultGuardTests shows the guard prints them and exits 1).
    func testACutShortInputEndsWithMvsErrorAndHint() {
        XCTAssertEqual(
            "\(PackTensorStore.faultMessage)",
            "mv: error: a file mv was reading was cut short by another program; nothing was committed\n"
                + "hint: wait for whatever writes it to finish, then run the command again\n")
    }

    func testOnlyFilesQuietForASecondAreTrustedByTheirStamp() throws {
        let url = root.appendingPathComponent("w.npy")
        try Data(repeating: 1, count: 4096).write(to: url)
        XCTAssertNil(InputCache.stamp(url), "just written: a write in the same clock tick would keep the stamp")
        XCTAssertNotNil(InputCache.stamp(url, now: Date().addingTimeInterval(2)))
        let later = try XCTUnwrap(InputCache.stamp(url, now: Date().addingTimeInterval(2)))
        Thread.sleep(forTimeInterval: 0.02)
        try Data(repeating: 2, count: 4096).write(to: url)
        XCTAssertNotEqual(InputCache.stamp(url, now: Date().addingTimeInterval(2)), later, "a rewrite with the same size changes the stamp")
    }

    /// A tensor of a new safetensors file compared with the previous version's blob where it
    /// lies in the pack: equal bytes are found equal, one changed byte (in the .npy header mv
    /// writes or in the data) is not.
    func testATensorIsComparedWithItsStoredBlobInThePack() throws {
        let repo = try Repository.create(at: root.path)
        // Noise, as trained weights look: it goes into the pack as stored blocks.
        var state: UInt64 = 42
        let values = (0..<50_000).map { _ -> Float in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float(bitPattern: UInt32(truncatingIfNeeded: state >> 33) & 0x3FFF_FFFF | 0x3C00_0000)
        }
        let body = values.withUnsafeBytes { Data($0) }
        let prefix = [UInt8](NpyHeader.encode(dtype: .float32, shape: [values.count]))
        let source = root.appendingPathComponent("model.safetensors")
        let offset = 4_099
        try (Data(repeating: 7, count: offset) + body + Data([1, 2, 3])).write(to: source)
        func plan(prefix: [UInt8]) -> TensorPlan {
            TensorPlan(
                name: "w", dtype: .float32, header: NpyHeader(dtype: .float32, shape: [values.count], headerLength: prefix.count),
                prefix: prefix, source: source, sourceOffset: offset, size: prefix.count + body.count, file: "w.npy", chunkBytes: nil)
        }
        let pack = try BlobPack(repo.objects, expectedObjects: 1, expectedBytes: 0)
        let id = try (Data(prefix) + body).withUnsafeBytes { bytes -> ObjectID in
            let blob = try ObjectDatabase.hash(blob: bytes)
            try pack.add(blob)
            return blob.id
        }
        try pack.finish()
        let stored = try XCTUnwrap(StoredBlobLocator(repo.objects).locate(id, size: prefix.count + body.count))
        XCTAssertEqual(try ByteComparison.equal(plan(prefix: prefix), stored: stored), true)

        var otherPrefix = prefix
        otherPrefix[20] ^= 1
        XCTAssertEqual(try ByteComparison.equal(plan(prefix: otherPrefix), stored: stored), false)

        let handle = try FileHandle(forUpdating: source)
        try handle.seek(toOffset: UInt64(offset + body.count - 1))
        try handle.write(contentsOf: Data([body[body.count - 1] ^ 0x80]))
        try handle.close()
        XCTAssertEqual(try ByteComparison.equal(plan(prefix: prefix), stored: stored), false, "the last data byte differs")
    }
}
