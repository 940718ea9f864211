import Foundation
import SystemIO
import TestSupport
import XCTest

/// A file stamp tells a rewritten file from an untouched one without reading either.
final class FileStampTests: GitTestCase {
    func testARewriteChangesTheStampAndALinkDoesNot() throws {
        let url = root.appendingPathComponent("w.npy")
        try Data(repeating: 1, count: 4096).write(to: url)
        let before = try FileStamp.of(url.path)
        XCTAssertEqual(before.size, 4096)
        XCTAssertFalse(try FileStamp.of(url.path).contentMayDiffer(from: before))
        // A second name changes the change time, not the content.
        try FileSystem.link(url, as: root.appendingPathComponent("other"))
        let linked = try FileStamp.of(url.path)
        XCTAssertFalse(linked.contentMayDiffer(from: before))
        Thread.sleep(forTimeInterval: 0.02)
        try Data(repeating: 2, count: 4096).write(to: url)
        XCTAssertTrue(try FileStamp.of(url.path).contentMayDiffer(from: before), "same size, rewritten in place")
        // A new file under the same name, as editors and np.save through a temporary do.
        let rewritten = try FileStamp.of(url.path)
        try Data(repeating: 2, count: 4096).write(to: url, options: .atomic)
        XCTAssertTrue(try FileStamp.of(url.path).contentMayDiffer(from: rewritten), "replaced by rename")
    }

    func testAStampTakenInTheSameSecondAsAWriteIsNotSettled() throws {
        let url = root.appendingPathComponent("w")
        try Data([1]).write(to: url)
        let stamp = try FileStamp.of(url.path)
        XCTAssertFalse(stamp.isSettled(), "just written: a write in the same clock tick would keep the stamp")
        XCTAssertTrue(stamp.isSettled(at: Date().addingTimeInterval(2)))
        XCTAssertNil(FileStamp(path: root.appendingPathComponent("missing").path))
        XCTAssertThrowsError(try FileStamp.of(root.appendingPathComponent("missing").path)) {
            XCTAssertEqual("\($0)", "cannot read '\(root.appendingPathComponent("missing").path)': No such file or directory (stat)")
        }
    }
}
