import CPackChecksums
import CZlib
import Foundation
import XCTest

/// The vector CRC-32 and Adler-32 must agree with zlib's on every length, alignment and
/// starting value, including the sums' worst case (all bytes 0xFF) and multi-GiB-style runs.
final class ChecksumTests: XCTestCase {
    private func zlibCRC(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(crc32(uLong(start), bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    private func zlibAdler(_ start: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(adler32(uLong(start), bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count)))
    }

    func testAgreesWithZlibOnEveryShape() {
        var generator = SystemRandomNumberGenerator()
        var data = [UInt8](repeating: 0, count: 300_000)
        for index in data.indices { data[index] = UInt8.random(in: 0...255, using: &generator) }
        data.withUnsafeBytes { all in
            for round in 0..<3_000 {
                let offset = Int.random(in: 0..<64, using: &generator)
                let count = round < 600 ? round : Int.random(in: 0..<(all.count - 64), using: &generator)
                let slice = UnsafeRawBufferPointer(rebasing: all[offset..<(offset + count)])
                let crcStart = round < 100 ? 0 : UInt32.random(in: 0...UInt32.max, using: &generator)
                let adlerStart = round < 100 ? 1 : UInt32.random(in: 0..<65521) << 16 | UInt32.random(in: 0..<65521)
                XCTAssertEqual(
                    mv_crc32(crcStart, slice.baseAddress, slice.count), zlibCRC(crcStart, slice), "crc32 of \(count) bytes at +\(offset)")
                XCTAssertEqual(
                    mv_adler32(adlerStart, slice.baseAddress, slice.count), zlibAdler(adlerStart, slice),
                    "adler32 of \(count) bytes at +\(offset)")
            }
        }
    }

    func testWorstCaseSumsOverManyBlocks() {
        let ones = [UInt8](repeating: 0xFF, count: 9 << 20)
        ones.withUnsafeBytes { bytes in
            XCTAssertEqual(mv_adler32(1, bytes.baseAddress, bytes.count), zlibAdler(1, bytes))
            XCTAssertEqual(mv_crc32(0, bytes.baseAddress, bytes.count), zlibCRC(0, bytes))
        }
    }

    func testUsesTheVectorPathWhereTheCPUHasIt() throws {
        #if arch(x86_64)
        let flags = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if flags.contains(" pclmulqdq") && flags.contains(" sse4_1") { XCTAssertEqual(mv_crc32_is_accelerated(), 1) }
        if flags.contains(" avx2") { XCTAssertEqual(mv_adler32_is_accelerated(), 1) }
        #else
        throw XCTSkip("vector checksums are x86-64 only")
        #endif
    }
}
