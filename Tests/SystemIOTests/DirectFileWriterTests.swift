import Foundation
import SystemIO
import TestSupport
import XCTest

/// Files written around the page cache must hold exactly the bytes given, in order, whatever
/// the sizes of the pieces and of the file, and the observer must see those same bytes.
final class DirectFileWriterTests: GitTestCase {
    /// Pseudo-random bytes, eight at a time (a debug build is slow per byte).
    private func pattern(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var words = [UInt64](repeating: 0, count: (count + 7) / 8)
        for index in words.indices {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            words[index] = state ^ (state >> 29)
        }
        return words.withUnsafeBytes { Array($0.prefix(count)) }
    }

    func testWritesExactlyTheBytesGivenAtEverySize() throws {
        let buffer = 4 << 20
        let sizes = [0, 1, 4_095, 4_096, 4_097, buffer - 1, buffer, buffer + 1, 3 * buffer + 4_096, 13 * 1024 * 1024 + 7]
        for direct in [true, false] {
            for (index, size) in sizes.enumerated() {
                let bytes = pattern(size, seed: UInt64(index + 1))
                let url = root.appendingPathComponent("out-\(direct)-\(size)")
                let seen = SeenBytes()
                let writer = try DirectFileWriter(creating: url, direct: direct, observe: { seen.append($0) })
                // Pieces of awkward sizes, so buffers fill across piece boundaries.
                var offset = 0
                var piece = 1
                try bytes.withUnsafeBytes { all in
                    while offset < size {
                        let count = min(piece, size - offset)
                        try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)]))
                        offset += count
                        piece = piece * 7 + 3
                    }
                }
                try writer.finish(sync: index % 2 == 0)
                XCTAssertEqual(try Data(contentsOf: url), Data(bytes), "\(size) bytes, direct \(direct)")
                XCTAssertEqual(seen.bytes, Data(bytes), "observer saw \(size) bytes in order")
            }
        }
    }

    func testReplacesAnExistingFileAndReportsAnUnwritablePlace() throws {
        let url = root.appendingPathComponent("existing")
        try Data(repeating: 9, count: 10 << 20).write(to: url)
        let writer = try DirectFileWriter(creating: url)
        try Data([1, 2, 3]).withUnsafeBytes { try writer.write($0) }
        try writer.finish(sync: true)
        XCTAssertEqual(try Data(contentsOf: url), Data([1, 2, 3]), "truncated, not overwritten in part")

        XCTAssertThrowsError(try DirectFileWriter(creating: root.appendingPathComponent("missing/folder/file"))) {
            XCTAssertTrue("\($0)".contains("cannot open '\(root.path)/missing/folder/file': No such file or directory (open)"), "\($0)")
        }
    }
}

/// What a writer's observer was shown, in order.
final class SeenBytes: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var bytes = Data()

    func append(_ piece: UnsafeRawBufferPointer) {
        lock.lock()
        bytes.append(contentsOf: piece)
        lock.unlock()
    }
}
