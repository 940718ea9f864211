import Foundation
import Git
import TestSupport
import XCTest

@testable import TensorStore

/// The record of tensors whose SHA-256 mv saw agree with their blobs, which lets `mv diff`
/// read only the chunks two versions do not share.
final class VerifiedTensorsTests: GitTestCase {
    private func id(_ number: Int) throws -> ObjectID {
        try XCTUnwrap(ObjectID(hex: String(format: "%040x", number)))
    }

    func testAPairIsKnownOnlyWithTheSameDigestAndTheSameBlobsInOrder() throws {
        let state = StateFiles(gitDirectory: root.appendingPathComponent(".git"))
        let blobs = [try id(1), try id(2)]
        VerifiedTensors.remember([(String(repeating: "a", count: 64), blobs)], state: state)
        let known = VerifiedTensors(state)
        XCTAssertTrue(known.contains(sha256: String(repeating: "a", count: 64), blobs: blobs))
        XCTAssertFalse(known.contains(sha256: String(repeating: "b", count: 64), blobs: blobs), "another digest")
        XCTAssertFalse(known.contains(sha256: String(repeating: "a", count: 64), blobs: blobs.reversed()), "the chunks swapped")
        XCTAssertFalse(known.contains(sha256: String(repeating: "a", count: 64), blobs: [blobs[0], try id(3)]), "a chunk replaced")
        XCTAssertFalse(
            VerifiedTensors(StateFiles(gitDirectory: root.appendingPathComponent("elsewhere"))).contains(
                sha256: String(repeating: "a", count: 64), blobs: blobs), "nothing recorded there")
    }

    /// Past its size limit the file keeps its newer half: it cannot grow without bound, and
    /// what is dropped is only read in full again later.
    func testTheRecordKeepsItsNewerHalfPastItsLimit() throws {
        let state = StateFiles(gitDirectory: root.appendingPathComponent(".git"))
        let count = VerifiedTensors.limit / 65 + 1_000
        let pairs = try (0..<count).map { (String(format: "%064x", $0), [try id($0)]) }
        for start in stride(from: 0, to: count, by: 10_000) {
            VerifiedTensors.remember(Array(pairs[start..<min(count, start + 10_000)]), state: state)
        }
        let size = try XCTUnwrap(try FileManager.default.attributesOfItem(atPath: state.verifiedTensors.path)[.size] as? Int)
        XCTAssertLessThanOrEqual(size, VerifiedTensors.limit)
        let known = VerifiedTensors(state)
        XCTAssertTrue(known.contains(sha256: pairs[count - 1].0, blobs: pairs[count - 1].1), "the newest entry stays")
        XCTAssertFalse(known.contains(sha256: pairs[0].0, blobs: pairs[0].1), "the oldest went")
    }
}
