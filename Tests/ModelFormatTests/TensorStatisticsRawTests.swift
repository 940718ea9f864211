import Foundation
import XCTest

@testable import ModelFormat

/// The raw-bytes statistics path against the reference: decode to Doubles, then `add(_:)`.
final class TensorStatisticsRawTests: XCTestCase {
    /// Deterministic, so a failure reproduces.
    struct SplitMix64: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func normal() -> Double {
            let u = Double.random(in: Double.ulpOfOne..<1, using: &self)
            let v = Double.random(in: 0..<1, using: &self)
            return (-2 * Foundation.log(u)).squareRoot() * Foundation.cos(2 * Double.pi * v)
        }
    }

    static func bytes<T>(_ values: [T]) -> [UInt8] {
        values.withUnsafeBytes { Array($0) }
    }

    static func reference(_ bytes: [UInt8], _ dtype: DType) -> TensorStatistics {
        var values: [Double] = []
        bytes.withUnsafeBytes { TensorElementDecoding.decode($0, dtype: dtype, into: &values) }
        return TensorStatistics.compute(values: values)
    }

    /// Feeds the bytes in calls of the given element counts (the rest in a last call).
    static func raw(_ bytes: [UInt8], _ dtype: DType, pieces: [Int] = []) -> TensorStatistics {
        var accumulator = TensorStatistics.Accumulator()
        bytes.withUnsafeBytes { all in
            var offset = 0
            for piece in pieces {
                let length = min(piece * dtype.itemSize, all.count - offset)
                accumulator.add(raw: UnsafeRawBufferPointer(rebasing: all[offset..<(offset + length)]), dtype: dtype)
                offset += length
            }
            accumulator.add(raw: UnsafeRawBufferPointer(rebasing: all[offset...]), dtype: dtype)
        }
        return accumulator.result
    }

    static func relativeDifference(_ a: Double, _ b: Double) -> Double {
        let scale = max(abs(a), abs(b))
        return scale == 0 ? 0 : abs(a - b) / scale
    }

    func assertMatches(
        _ actual: TensorStatistics, _ expected: TensorStatistics, _ what: String,
        tolerance: Double = 1e-9, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(actual.count, expected.count, "\(what) count", file: file, line: line)
        XCTAssertEqual(actual.nonFiniteCount, expected.nonFiniteCount, "\(what) non-finite", file: file, line: line)
        // Exactly, including the sign of a zero extreme.
        XCTAssertEqual(
            actual.min.bitPattern, expected.min.bitPattern, "\(what) min: \(actual.min) vs \(expected.min)", file: file, line: line)
        XCTAssertEqual(
            actual.max.bitPattern, expected.max.bitPattern, "\(what) max: \(actual.max) vs \(expected.max)", file: file, line: line)
        // A mean that cancels to about 0 is compared at the scale of the values (their RMS), the
        // only accuracy a floating-point sum can promise.
        let finite = Double(expected.count - expected.nonFiniteCount)
        let rms = finite > 0 ? expected.l2Norm / finite.squareRoot() : 0
        for (name, a, b, floor) in [
            ("mean", actual.mean, expected.mean, rms.isFinite ? rms : 0),
            ("std", actual.std, expected.std, 0), ("l2", actual.l2Norm, expected.l2Norm, 0),
        ] {
            if !a.isFinite || !b.isFinite {
                XCTAssertTrue(a == b || (a.isNaN && b.isNaN), "\(what) \(name): \(a) vs \(b)", file: file, line: line)
                continue
            }
            let difference = abs(a - b) / max(abs(a), abs(b), floor, .leastNormalMagnitude)
            XCTAssertLessThanOrEqual(difference, tolerance, "\(what) \(name): \(a) vs \(b)", file: file, line: line)
        }
    }

    /// Whole, in odd-sized pieces that straddle the 4096-element blocks, and one element at a time
    /// for a short prefix: all must agree with the reference.
    func check(_ bytes: [UInt8], _ dtype: DType, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let expected = Self.reference(bytes, dtype)
        assertMatches(Self.raw(bytes, dtype), expected, "\(what) whole", file: file, line: line)
        assertMatches(
            Self.raw(bytes, dtype, pieces: [1, 7, 4095, 4097, 3, 1, 8191, 13]), expected, "\(what) pieces", file: file, line: line)
        assertMatches(Self.raw(bytes, dtype, pieces: Array(repeating: 1, count: 37)), expected, "\(what) singles", file: file, line: line)
    }

    static let length = 20_011

    func testFloat32() {
        var rng = SplitMix64(state: 1)
        var values = (0..<Self.length).map { _ in Float(rng.normal() * 0.02 + 0.001) }
        check(Self.bytes(values), .float32, "float32 normal")
        let offset = (0..<Self.length).map { _ in Float(1e4 + rng.normal()) }
        check(Self.bytes(offset), .float32, "float32 offset mean")
        // Every kind of bit pattern: subnormals, huge values, NaN payloads, ±Inf, ±0. One in 256
        // is NaN or ±Inf, so nearly every block takes the fallback; the finite ones take the fast path.
        let patterns = (0..<Self.length).map { _ in Float(bitPattern: UInt32.random(in: .min ... .max, using: &rng)) }
        check(Self.bytes(patterns), .float32, "float32 bit patterns")
        check(Self.finiteBits(Self.length, itemSize: 4, &rng), .float32, "float32 finite bit patterns")
        for (index, special) in [(0, Float.nan), (5000, .infinity), (9000, -.infinity), (12_289, -.nan), (Self.length - 1, .nan)] {
            values[index] = special
        }
        check(Self.bytes(values), .float32, "float32 with non-finite")
        check(Self.bytes([Float](repeating: .nan, count: 5000)), .float32, "float32 all NaN")
    }

    func testFloat16() {
        // Every half, forwards and backwards, which moves the block boundaries against the NaN runs.
        let all = (0...UInt16.max).map { $0 }
        check(Self.bytes(all), .float16, "float16 all patterns")
        check(Self.bytes(all.reversed()), .float16, "float16 all patterns reversed")
        var rng = SplitMix64(state: 2)
        check(Self.finiteBits(Self.length, itemSize: 2, &rng), .float16, "float16 finite")
    }

    func testHalfToFloatIsExact() {
        for bits in 0...UInt16.max {
            let fast = Double(TensorElementDecoding.halfToFloat(bits))
            let reference = TensorElementDecoding.halfToDouble(bits)
            if reference.isNaN {
                XCTAssertTrue(fast.isNaN, "\(bits)")
            } else {
                XCTAssertEqual(fast.bitPattern, reference.bitPattern, "\(bits): \(fast) vs \(reference)")
            }
        }
    }

    func testBFloat16() {
        var rng = SplitMix64(state: 3)
        let normal = (0..<Self.length).map { _ in UInt16(Float(rng.normal()).bitPattern >> 16) }
        check(Self.bytes(normal), .bfloat16, "bfloat16 normal")
        let patterns = (0..<Self.length).map { _ in UInt16.random(in: .min ... .max, using: &rng) }
        check(Self.bytes(patterns), .bfloat16, "bfloat16 bit patterns")
        check(Self.finiteBits(Self.length, itemSize: 2, exponentBits: 8, &rng), .bfloat16, "bfloat16 finite bit patterns")
    }

    func testFloat64() {
        var rng = SplitMix64(state: 4)
        var values = (0..<Self.length).map { _ in 1e9 + rng.normal() * 0.5 }
        check(Self.bytes(values), .float64, "float64 offset mean")
        values[3] = .nan
        values[8000] = -.infinity
        check(Self.bytes(values), .float64, "float64 with non-finite")
        check(Self.bytes(Self.wideDoubles(&rng, nonFinite: false)), .float64, "float64 wide range")
        check(Self.bytes(Self.wideDoubles(&rng, nonFinite: true)), .float64, "float64 wide range with non-finite")
        // Squares overflow: the block falls back to the reference and both give Inf.
        let huge = (0..<Self.length).map { _ in rng.normal() * 1e200 }
        check(Self.bytes(huge), .float64, "float64 huge")
    }

    /// Random little-endian IEEE values of `itemSize` bytes with every exponent but the all-ones
    /// one (NaN and ±Inf), so blocks of them take the fast path.
    static func finiteBits(_ count: Int, itemSize: Int, exponentBits: Int? = nil, _ rng: inout SplitMix64) -> [UInt8] {
        let bits = itemSize * 8
        let exponentWidth = exponentBits ?? (itemSize == 2 ? 5 : 8)
        let exponentMask = UInt64((1 << exponentWidth) - 1) << (bits - 1 - exponentWidth)
        var out: [UInt8] = []
        for _ in 0..<count {
            var value = UInt64.random(in: 0..<(1 << UInt64(bits)), using: &rng)
            if value & exponentMask == exponentMask { value &= ~(UInt64(1) << (bits - 2)) }
            for byte in 0..<itemSize { out.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        }
        return out
    }

    /// Doubles of both signs and every exponent from subnormal to 2^500, whose squares still sum
    /// without overflow, so the fast path takes them; `nonFinite` puts NaN or ±Inf in every block.
    static func wideDoubles(_ rng: inout SplitMix64, nonFinite: Bool) -> [Double] {
        (0..<length).map { index in
            switch index % 1000 {
            case 17 where nonFinite: return .nan
            case 500 where nonFinite: return index % 2000 == 500 ? .infinity : -.infinity
            default:
                return Double(
                    sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -1074...500, using: &rng),
                    significand: Double.random(in: 1..<2, using: &rng))
            }
        }
    }

    func testIntegers() {
        var rng = SplitMix64(state: 5)
        let n = Self.length
        check(Self.bytes((0..<n).map { _ in Int8.random(in: .min ... .max, using: &rng) }), .int8, "int8")
        check(Self.bytes((0..<n).map { _ in UInt8.random(in: .min ... .max, using: &rng) }), .uint8, "uint8")
        check(Self.bytes((0..<n).map { _ in Int16.random(in: .min ... .max, using: &rng) }), .int16, "int16")
        check(Self.bytes((0..<n).map { _ in UInt16.random(in: .min ... .max, using: &rng) }), .uint16, "uint16")
        check(Self.bytes((0..<n).map { _ in Int32.random(in: .min ... .max, using: &rng) }), .int32, "int32")
        check(Self.bytes((0..<n).map { _ in UInt32.random(in: .min ... .max, using: &rng) }), .uint32, "uint32")
        check(Self.bytes((0..<n).map { _ in Int64.random(in: .min ... .max, using: &rng) }), .int64, "int64")
        check(Self.bytes((0..<n).map { _ in UInt64.random(in: .min ... .max, using: &rng) }), .uint64, "uint64")
        // The extremes of each type, where exact integer sums would overflow first.
        check(Self.bytes([Int8](repeating: .min, count: n)), .int8, "int8 min")
        check(Self.bytes([UInt8](repeating: .max, count: n)), .uint8, "uint8 max")
        check(Self.bytes([Int16](repeating: .min, count: n)), .int16, "int16 min")
        check(Self.bytes([UInt16](repeating: .max, count: n)), .uint16, "uint16 max")
        check(Self.bytes((0..<n).map { $0 % 2 == 0 ? UInt16.max : 0 }), .uint16, "uint16 alternating")
        check(Self.bytes((0..<n).map { $0 % 2 == 0 ? Int64.max : .min }), .int64, "int64 alternating")
    }

    func testBoolIsZeroOrOne() {
        var rng = SplitMix64(state: 6)
        // Any non-zero byte is true, as numpy reads it.
        let bytes = (0..<Self.length).map { _ in UInt8.random(in: 0...3, using: &rng) == 0 ? 0 : UInt8.random(in: 1...255, using: &rng) }
        check(bytes, .bool, "bool")
        let stats = Self.raw([0, 2, 255, 0], .bool)
        XCTAssertEqual(stats, TensorStatistics(count: 4, min: 0, max: 1, mean: 0.5, std: 0.5, l2Norm: 2.0.squareRoot(), nonFiniteCount: 0))
    }

    func testEmptyAndSingleElements() {
        let empty = TensorStatistics(count: 0, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 0)
        for dtype in DType.allCases {
            var accumulator = TensorStatistics.Accumulator()
            accumulator.add(raw: UnsafeRawBufferPointer(start: nil, count: 0), dtype: dtype)
            XCTAssertEqual(accumulator.result, empty, dtype.rawValue)
            XCTAssertEqual(Self.raw([], dtype), empty, dtype.rawValue)
            for seed in 0..<20 {
                var rng = SplitMix64(state: UInt64(seed))
                let one = (0..<dtype.itemSize).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
                assertMatches(Self.raw(one, dtype), Self.reference(one, dtype), "\(dtype.rawValue) single \(one)")
            }
        }
        let zero = Self.raw(Self.bytes([Float(-0.0)]), .float32)
        XCTAssertEqual(zero.min.sign, .minus)
        XCTAssertEqual(zero.max.sign, .minus)
        XCTAssertEqual(zero.std, 0)
        XCTAssertEqual(
            Self.raw(Self.bytes([Float.infinity, .nan]), .float32),
            TensorStatistics(count: 2, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 2))
    }

    func testZeroExtremesKeepTheFirstSign() {
        // The largest value is a zero; which sign comes first decides the recorded max.
        for first in [Float(0), -0.0] {
            var values = (0..<Self.length).map { Float(-1 - $0 % 7) }
            values[4500] = first
            values[9000] = -first
            values[70] = first == 0 ? -.nan : .nan
            let stats = Self.raw(Self.bytes(values), .float32)
            XCTAssertEqual(stats.max.sign, first.sign)
            check(Self.bytes(values), .float32, "zero max \(first)")
            check(Self.bytes(values.map { -$0 }), .float32, "zero min \(first)")
            check(Self.bytes(values.map { Double($0) }), .float64, "zero max \(first) float64")
        }
    }

    func testMisalignedBuffers() {
        var rng = SplitMix64(state: 7)
        for dtype in [DType.float32, .float64, .float16, .bfloat16, .int16, .int32, .uint64] {
            let bytes: [UInt8]
            switch dtype {
            case .float64: bytes = Self.bytes(Self.wideDoubles(&rng, nonFinite: false))
            case .float32, .float16: bytes = Self.finiteBits(Self.length, itemSize: dtype.itemSize, &rng)
            case .bfloat16: bytes = Self.finiteBits(Self.length, itemSize: 2, exponentBits: 8, &rng)
            default: bytes = (0..<(Self.length * dtype.itemSize)).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
            }
            let expected = Self.reference(bytes, dtype)
            for shift in 1..<8 {
                let padded = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + 8, alignment: 64)
                defer { padded.deallocate() }
                let slice = UnsafeMutableRawBufferPointer(rebasing: padded[shift..<(shift + bytes.count)])
                slice.copyBytes(from: bytes)
                var accumulator = TensorStatistics.Accumulator()
                accumulator.add(raw: UnsafeRawBufferPointer(slice), dtype: dtype)
                assertMatches(accumulator.result, expected, "\(dtype.rawValue) at offset \(shift)")
            }
        }
    }

    func testMixedWithDoubleChunks() {
        var rng = SplitMix64(state: 8)
        let values = (0..<Self.length).map { _ in rng.normal() + 3 }
        var accumulator = TensorStatistics.Accumulator()
        accumulator.add(Array(values[..<5000]))
        Self.bytes(Array(values[5000...])).withUnsafeBytes { accumulator.add(raw: $0, dtype: .float64) }
        assertMatches(accumulator.result, TensorStatistics.compute(values: values), "mixed")
    }

    /// Several MiB through the file readers, which now stream raw chunks.
    func testStreamingEntryPoints() throws {
        let dir = try TensorTestDir()
        var rng = SplitMix64(state: 9)
        let values = (0..<1_500_000).map { _ in Float(rng.normal() * 0.05) }
        let bits = values.map { UInt16($0.bitPattern >> 16) }
        let url = dir.file("w.npy")
        var data = NpyHeader.encode(dtype: .float32, shape: [values.count])
        data.append(contentsOf: Self.bytes(values))
        try data.write(to: url)
        let bfURL = dir.file("bf.npy")
        var bfData = NpyHeader.encode(dtype: .uint16, shape: [bits.count])
        bfData.append(contentsOf: Self.bytes(bits))
        try bfData.write(to: bfURL)

        for (file, logical) in [(url, DType?.none), (bfURL, .bfloat16), (bfURL, nil)] {
            var decoded: [Double] = []
            try Npy.streamValues(fileAt: file, as: logical) { decoded.append(contentsOf: $0) }
            let (header, stats) = try TensorStatistics.compute(npyFileAt: file, as: logical)
            XCTAssertEqual(header.elementCount, values.count)
            assertMatches(stats, TensorStatistics.compute(values: decoded), "\(file.lastPathComponent) as \(logical?.rawValue ?? "stored")")
        }
    }

    /// 8M float32 normals, the size the accuracy target was set at, fed in 1 MiB calls as the
    /// file readers do; prints the differences for the record.
    func testAccuracyOnEightMillionFloats() {
        var rng = SplitMix64(state: 10)
        let values = (0..<(8 << 20)).map { _ in Float(rng.normal() * 0.02 + 1e-4) }
        let bytes = Self.bytes(values)
        let expected = Self.reference(bytes, .float32)
        let actual = Self.raw(bytes, .float32, pieces: Array(repeating: 1 << 18, count: 31))
        assertMatches(actual, expected, "8M float32")
        print(
            "8M float32 relative differences from the reference: mean \(Self.relativeDifference(actual.mean, expected.mean)), "
                + "std \(Self.relativeDifference(actual.std, expected.std)), l2 \(Self.relativeDifference(actual.l2Norm, expected.l2Norm))")
    }

    /// Throughput, only with MV_STATS_BENCH=1 (and meaningful only in a release build).
    func testBenchmark() throws {
        guard ProcessInfo.processInfo.environment["MV_STATS_BENCH"] == "1" else {
            throw XCTSkip("set MV_STATS_BENCH=1 to measure throughput")
        }
        var rng = SplitMix64(state: 11)
        let normals = (0..<(1 << 20)).map { _ in Float(rng.normal() * 0.02) }
        // 256 MiB of each type, made from the same normals.
        func buffer<T>(_ convert: (Float) -> T) -> [UInt8] {
            let count = (256 << 20) / MemoryLayout<T>.size
            return Self.bytes((0..<count).map { convert(normals[$0 & (normals.count - 1)]) })
        }
        let buffers: [(DType, () -> [UInt8])] = [
            (.float32, { buffer { $0 } }),
            (
                .float16,
                {
                    buffer { value -> UInt16 in
                        // Truncated to half precision; normal halves only, which is all the timing needs.
                        let bits = value.bitPattern
                        let sign = UInt16(truncatingIfNeeded: bits >> 16) & 0x8000
                        let exponent = Int((bits >> 23) & 0xFF) - 127 + 15
                        guard exponent > 0 else { return sign }
                        return sign | UInt16(exponent << 10) | UInt16(truncatingIfNeeded: (bits >> 13) & 0x3FF)
                    }
                }
            ),
            (.bfloat16, { buffer { UInt16(truncatingIfNeeded: $0.bitPattern >> 16) } }),
            (.float64, { buffer { Double($0) } }),
            (.int8, { buffer { Int8(clamping: Int(($0 * 3000).rounded())) } }),
            (.int16, { buffer { Int16(clamping: Int(($0 * 300_000).rounded())) } }),
            (.int32, { buffer { Int32($0 * 1e6) } }),
        ]
        for (dtype, make) in buffers {
            let bytes = make()
            var best = Double.infinity
            var stats = TensorStatistics(count: 0, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 0)
            for _ in 0..<5 {
                let start = DispatchTime.now().uptimeNanoseconds
                var accumulator = TensorStatistics.Accumulator()
                bytes.withUnsafeBytes { all in
                    // 1 MiB calls, as the file readers make them.
                    var offset = 0
                    while offset < all.count {
                        let end = min(all.count, offset + (1 << 20))
                        accumulator.add(raw: UnsafeRawBufferPointer(rebasing: all[offset..<end]), dtype: dtype)
                        offset = end
                    }
                }
                stats = accumulator.result
                best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let reference = Self.reference(Array(bytes[..<(bytes.count / 8)]), dtype)
            let referenceSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9 * 8
            print(
                String(
                    format: "MV_STATS_BENCH %@: raw %.2f GB/s, decode + add(_:) %.2f GB/s (mean %.3g, %d values)",
                    dtype.rawValue, Double(bytes.count) / best / 1e9, Double(bytes.count) / referenceSeconds / 1e9,
                    stats.mean, reference.count))
            if dtype == .float32 {
                // The whole file path, from the page cache: reads, chunking and statistics.
                let dir = try TensorTestDir()
                let url = dir.file("bench.npy")
                var data = NpyHeader.encode(dtype: .float32, shape: [bytes.count / 4])
                data.append(contentsOf: bytes)
                try data.write(to: url)
                var fileBest = Double.infinity
                for _ in 0..<3 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    _ = try TensorStatistics.compute(npyFileAt: url)
                    fileBest = min(fileBest, Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9)
                }
                print(String(format: "MV_STATS_BENCH float32 compute(npyFileAt:): %.2f GB/s", Double(bytes.count) / fileBest / 1e9))
            }
        }
    }
}
