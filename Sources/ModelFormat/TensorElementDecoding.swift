import Foundation

/// Converts raw little-endian tensor bytes to Double, chunk by chunk.
enum TensorElementDecoding {
    /// IEEE 754 binary16 to Double by bit manipulation, because `Float16` is unavailable on
    /// some platforms (notably x86_64 macOS) and we want one code path everywhere.
    static func halfToDouble(_ bits: UInt16) -> Double {
        let sign: Double = (bits & 0x8000) != 0 ? -1 : 1
        let exponent = Int((bits >> 10) & 0x1F)
        let mantissa = Double(bits & 0x03FF)
        switch exponent {
        case 0:
            // Subnormal (or zero): no implicit leading 1, fixed exponent 2^-14.
            return sign * mantissa * 0x1p-24
        case 0x1F:
            return mantissa == 0 ? sign * .infinity : .nan
        default:
            return sign * (1 + mantissa / 1024) * Double(sign: .plus, exponent: exponent - 15, significand: 1)
        }
    }

    /// IEEE binary16 to Float (which holds every half exactly) without branches, so a loop of
    /// them vectorizes; `halfToDouble` is the plainer reference it must agree with.
    /// Unlike multiplying by 2^112, it never feeds a subnormal float to the FPU, which is slow on
    /// some x86 chips. (`Float16` is unavailable on x86_64 macOS.)
    @inline(__always)
    static func halfToFloat(_ half: UInt16) -> Float {
        let bits = UInt32(half)
        let shifted = (bits & 0x7FFF) << 13
        let exponent = shifted & 0x0F80_0000
        let rebiased = shifted &+ 0x3800_0000  // exponent + (127 - 15)
        // Infinity and NaN keep their mantissa and get the all-ones exponent.
        let special = rebiased &+ 0x3800_0000
        // Zero and subnormals: read as 2^-14 · (1 + m/1024), then subtract 2^-14, which is exact.
        let tiny = (Float(bitPattern: rebiased &+ 0x0080_0000) - Float(bitPattern: 113 << 23)).bitPattern
        let magnitude = exponent == 0x0F80_0000 ? special : (exponent == 0 ? tiny : rebiased)
        return Float(bitPattern: magnitude | (bits & 0x8000) << 16)
    }

    /// Appends every element of `raw` (whose length must be a multiple of the item size) to `out`.
    static func decode(_ raw: UnsafeRawBufferPointer, dtype: DType, into out: inout [Double]) {
        let count = raw.count / dtype.itemSize
        out.reserveCapacity(out.count + count)
        switch dtype {
        case .bool:
            for i in 0..<count { out.append(raw[i] != 0 ? 1 : 0) }
        case .uint8:
            for i in 0..<count { out.append(Double(raw[i])) }
        case .int8:
            for i in 0..<count { out.append(Double(Int8(bitPattern: raw[i]))) }
        case .float16:
            for i in 0..<count {
                out.append(halfToDouble(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
            }
        case .int16:
            for i in 0..<count {
                out.append(Double(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: Int16.self))))
            }
        case .uint16:
            for i in 0..<count {
                out.append(Double(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))))
            }
        case .bfloat16:
            // The upper half of an IEEE float32.
            for i in 0..<count {
                let bits = UInt32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self))) << 16
                out.append(Double(Float(bitPattern: bits)))
            }
        case .float32:
            for i in 0..<count {
                let bits = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
                out.append(Double(Float(bitPattern: bits)))
            }
        case .int32:
            for i in 0..<count {
                out.append(Double(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: Int32.self))))
            }
        case .uint32:
            for i in 0..<count {
                out.append(Double(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))))
            }
        case .float64:
            for i in 0..<count {
                let bits = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
                out.append(Double(bitPattern: bits))
            }
        case .int64:
            for i in 0..<count {
                out.append(Double(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: Int64.self))))
            }
        case .uint64:
            for i in 0..<count {
                out.append(Double(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))))
            }
        }
    }

    static func decode(_ data: Data, dtype: DType) -> [Double] {
        var out: [Double] = []
        data.withUnsafeBytes { decode($0, dtype: dtype, into: &out) }
        return out
    }

    /// Streams `length` bytes at `offset` of an open file, handing `body` the decoded values of
    /// each ~1 MiB chunk so memory stays bounded whatever the tensor size.
    static func streamValues(
        _ handle: FileHandle, url: URL, offset: Int, length: Int, dtype: DType,
        _ body: ([Double]) throws -> Void
    ) throws {
        var buffer: [Double] = []
        try TensorFileIO.forEachChunk(handle, url: url, offset: offset, length: length) { chunk in
            buffer.removeAll(keepingCapacity: true)
            chunk.withUnsafeBytes { decode($0, dtype: dtype, into: &buffer) }
            try body(buffer)
        }
    }
}

extension DType {
    /// Appends the elements of `raw` (little-endian values of this type, a whole number of
    /// them) to `out` as Doubles; bfloat16 and float16 are widened exactly.
    public func appendValues(of raw: UnsafeRawBufferPointer, to out: inout [Double]) {
        TensorElementDecoding.decode(raw, dtype: self, into: &out)
    }
}
