import Foundation
import ModelFormat
import XCTest

@testable import TensorStore

/// Git LFS pointers as git-lfs writes and reads them, and the local store's layout.
final class LFSPointerTests: XCTestCase {
    let oid = String(repeating: "ab", count: 32)

    func testThePointerTextIsGitLFSsByteForByte() {
        let pointer = LFSPointer(oid: oid, size: 400_128)
        XCTAssertEqual(pointer.text, "version https://git-lfs.github.com/spec/v1\noid sha256:\(oid)\nsize 400128\n")
        XCTAssertEqual(LFSPointer(parsing: Data(pointer.text.utf8)), pointer)
    }

    func testOnlyWellFormedVersion1PointersParse() {
        let good = "version https://git-lfs.github.com/spec/v1\noid sha256:\(oid)\nsize 12\n"
        for bad in [
            good.replacingOccurrences(of: "spec/v1", with: "spec/v2"),
            good.replacingOccurrences(of: "\nsize 12\n", with: "\nsize 12"),  // no final newline
            good.replacingOccurrences(of: "size 12", with: "size -1"),
            good.replacingOccurrences(of: "size 12", with: "size twelve"),
            good.replacingOccurrences(of: oid, with: oid.uppercased()),
            good.replacingOccurrences(of: oid, with: String(oid.dropLast())),
            good.replacingOccurrences(of: "sha256:", with: "sha1:"),
            good + "ext-0-foo sha256:\(oid)\n",  // extensions: the object is not the file
            "\u{93}NUMPY\u{1}\u{0}v\u{0}{'descr': '<f4'}",
            "",
        ] {
            XCTAssertNil(LFSPointer(parsing: Data(bad.utf8)), bad)
        }
        XCTAssertNotNil(LFSPointer(parsing: Data(good.utf8)))
        XCTAssertNil(LFSPointer(parsing: Data(good.utf8) + Data(repeating: 0x20, count: 1024)), "over git-lfs's 1 KiB cut-off")
    }

    func testTheStoreKeepsObjectsWhereGitLFSDoesAndRefusesWrongBytes() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lfs-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let store = LFSObjectStore(gitDirectory: folder)
        let bytes = Data("tensor bytes".utf8)
        let real = ContentHash.sha256(bytes)
        let digest = ContentHash.sha256(Data("other bytes".utf8))
        try bytes.withUnsafeBytes { try store.store($0, oid: real) }
        XCTAssertEqual(store.url(of: real).path, folder.path + "/lfs/objects/\(real.prefix(2))/\(real.dropFirst(2).prefix(2))/\(real)")
        XCTAssertEqual(try Data(contentsOf: store.url(of: real)), bytes)
        XCTAssertTrue(store.contains(LFSPointer(oid: real, size: bytes.count)))
        XCTAssertFalse(store.contains(LFSPointer(oid: real, size: bytes.count + 1)), "a size that differs is not the object")

        // A download whose bytes are not the oid's never enters the store.
        let partial = try store.partialDownload(of: LFSPointer(oid: digest, size: bytes.count))
        try bytes.write(to: partial)
        XCTAssertThrowsError(try store.adopt(partial.path, as: LFSPointer(oid: digest, size: bytes.count))) { error in
            XCTAssertTrue("\(error)".contains("arrived with other bytes"), "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.url(of: digest).path))
        XCTAssertFalse(FileManager.default.fileExists(atPath: partial.path), "the bad download is dropped, not resumed")
    }
}
