import Foundation
import Git
@testable import Registry
import TestSupport
import XCTest

/// The stat checks `mv add` relies on to notice an input file changing under it, and to
/// skip reading one that did not change since the last time.
final class WeightInputTests: GitTestCase {
    func testAFileRewrittenWhileStoredIsNoticed() throws {
        let url = root.appendingPathComponent("w.npy")
        try Data(repeating: 1, count: 4096).write(to: url)
        let stamp = try SourceStamp(of: url)
        XCTAssertNoThrow(try stamp.verifyUnchanged(url))
        Thread.sleep(forTimeInterval: 0.02)
        try Data(repeating: 2, count: 4096).write(to: url)
        XCTAssertThrowsError(try stamp.verifyUnchanged(url)) {
            XCTAssertTrue("\($0)".contains("'\(url.path)' changed while it was being stored; nothing was committed"), "\($0)")
        }
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
}
