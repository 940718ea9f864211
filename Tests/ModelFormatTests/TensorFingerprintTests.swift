import CPolyHash
import XCTest

@testable import ModelFormat

final class TensorFingerprintTests: XCTestCase {
    /// GF(2^128) modulo x^128 + x^7 + x^2 + x + 1 the slow way: shift and add, one bit at a time.
    struct Element: Equatable {
        var lo: UInt64 = 0, hi: UInt64 = 0

        static func * (a: Element, b: Element) -> Element {
            var result = Element()
            var shifted = a
            for bit in 0..<128 {
                let set = bit < 64 ? (b.lo >> UInt64(bit)) & 1 : (b.hi >> UInt64(bit - 64)) & 1
                if set == 1 {
                    result.lo ^= shifted.lo
                    result.hi ^= shifted.hi
                }
                // shifted *= x
                let carry = shifted.hi >> 63
                shifted.hi = shifted.hi << 1 | shifted.lo >> 63
                shifted.lo <<= 1
                if carry == 1 { shifted.lo ^= 0x87 }
            }
            return result
        }

        init(lo: UInt64 = 0, hi: UInt64 = 0) { (self.lo, self.hi) = (lo, hi) }
        init(_ bytes: ArraySlice<UInt8>) {
            for (index, byte) in bytes.enumerated() {
                if index < 8 { lo |= UInt64(byte) << UInt64(8 * index) } else { hi |= UInt64(byte) << UInt64(8 * (index - 8)) }
            }
        }
        var bytes: [UInt8] {
            (0..<16).map { (index: Int) -> UInt8 in
                let word: UInt64 = index < 8 ? lo : hi
                return UInt8(truncatingIfNeeded: word >> UInt64(8 * (index % 8)))
            }
        }
    }

    /// The documented definition: blocks of the message zero-padded to 256 bytes, Horner's
    /// rule from the first block (so the first gets the highest power, the last H^0).
    static func reference(_ message: [UInt8], key: [UInt8]) -> [UInt8] {
        let h = Element(key[0..<16])
        var padded = message
        if padded.count % 256 != 0 { padded += [UInt8](repeating: 0, count: 256 - padded.count % 256) }
        var acc = Element()
        for start in stride(from: 0, to: padded.count, by: 16) {
            let product = acc * h
            let block = Element(padded[start..<(start + 16)])
            acc = Element(lo: product.lo ^ block.lo, hi: product.hi ^ block.hi)
        }
        return acc.bytes
    }

    static func raw(_ message: [UInt8], key: [UInt8], path: Int32, pieces: [Int]) -> [UInt8]? {
        var state = mv_polyhash_state()
        guard key.withUnsafeBufferPointer({ mv_polyhash_init(&state, $0.baseAddress, path) }) == 0 else { return nil }
        var offset = 0
        for piece in pieces + [message.count] where offset < message.count {
            let count = min(piece, message.count - offset)
            message.withUnsafeBytes { mv_polyhash_update(&state, $0.baseAddress! + offset, count) }
            offset += count
        }
        var out = [UInt8](repeating: 0, count: 16)
        mv_polyhash_final(&state, &out)
        XCTAssertEqual(state.length, UInt64(message.count))
        return out
    }

    static func randomBytes(_ count: Int, _ rng: inout some RandomNumberGenerator) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
    }

    func testEveryImplementationComputesTheDefinedPolynomial() {
        var rng = SystemRandomNumberGenerator()
        let key = Self.randomBytes(32, &rng)
        let lengths = [0, 1, 15, 16, 17, 255, 256, 257, 511, 1023, 1024, 1025, 2048 + 256 + 17, 5 * 1024 + 3]
        var implementations = 0
        for implementation in TensorFingerprinter.Implementation.allCases {
            guard Self.raw([], key: key, path: implementation.rawValue, pieces: []) != nil else { continue }
            implementations += 1
            for length in lengths {
                let message = Self.randomBytes(length, &rng)
                let expected = Self.reference(message, key: key)
                XCTAssertEqual(
                    Self.raw(message, key: key, path: implementation.rawValue, pieces: [length]), expected,
                    "\(implementation), \(length) bytes in one piece")
                let pieces = (0..<8).map { _ in Int.random(in: 0...300, using: &rng) }
                XCTAssertEqual(
                    Self.raw(message, key: key, path: implementation.rawValue, pieces: pieces), expected,
                    "\(implementation), \(length) bytes in pieces \(pieces)")
            }
        }
        XCTAssertGreaterThanOrEqual(implementations, 1)
        #if arch(x86_64)
        XCTAssertGreaterThanOrEqual(implementations, 2, "x86-64 machines have at least PCLMULQDQ")
        #endif
    }

    func testFingerprintsAgreeAcrossPiecesAndImplementationsAndDifferOtherwise() throws {
        var rng = SystemRandomNumberGenerator()
        let key = try XCTUnwrap(FingerprintKey(bytes: Self.randomBytes(32, &rng)))
        let message = Self.randomBytes(300_000, &rng)
        let whole = try XCTUnwrap(message.withUnsafeBytes { TensorFingerprinter.fingerprint(of: $0, key: key) })
        XCTAssertEqual(whole.count, 32)
        XCTAssertTrue(whole.allSatisfy(\.isHexDigit))

        for implementation in TensorFingerprinter.Implementation.allCases {
            guard let fingerprinter = TensorFingerprinter(key: key, implementation: implementation) else { continue }
            var offset = 0
            while offset < message.count {
                let count = min(Int.random(in: 1...70_000, using: &rng), message.count - offset)
                message[offset..<(offset + count)].withUnsafeBytes { fingerprinter.update($0) }
                offset += count
            }
            XCTAssertEqual(fingerprinter.finalize(), whole, "\(implementation)")
            // finalize leaves it empty, ready for the next message.
            fingerprinter.update(message)
            XCTAssertEqual(fingerprinter.finalize(), whole, "\(implementation), reused")
        }

        func fingerprint(_ bytes: [UInt8], _ key: FingerprintKey) -> String? {
            bytes.withUnsafeBytes { TensorFingerprinter.fingerprint(of: $0, key: key) }
        }
        var flipped = message
        flipped[123_456] ^= 0x10
        XCTAssertNotEqual(fingerprint(flipped, key), whole)
        // Trailing zeros are padding inside the polynomial, but the length tells them apart.
        XCTAssertNotEqual(fingerprint(message + [0], key), whole)
        XCTAssertNotEqual(fingerprint([], key), fingerprint([0], key))
        let other = try XCTUnwrap(FingerprintKey(bytes: Self.randomBytes(32, &rng)))
        XCTAssertNotEqual(fingerprint(message, other), whole)
        // The same polynomial key with another whitening half gives another fingerprint.
        let rewhitened = try XCTUnwrap(FingerprintKey(bytes: Array(key.bytes[..<16]) + Self.randomBytes(16, &rng)))
        XCTAssertNotEqual(fingerprint(message, rewhitened), whole)
    }

    func testKeysMustBeWholeAndNotZero() {
        XCTAssertNil(FingerprintKey(bytes: [UInt8](repeating: 0, count: 32)), "a zero polynomial key hashes all messages of a length alike")
        XCTAssertNil(FingerprintKey(bytes: [UInt8](repeating: 1, count: 31)))
        XCTAssertNotNil(FingerprintKey(bytes: [UInt8](repeating: 0, count: 15) + [1] + [UInt8](repeating: 0, count: 16)))
        XCTAssertNotEqual(FingerprintKey.random(), FingerprintKey.random())
    }
}
