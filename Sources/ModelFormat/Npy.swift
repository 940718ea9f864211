import Foundation

/// Convenience readers and writers for whole `.npy` arrays, plus a streaming reader for big ones.
public enum Npy {
    /// A complete float64 `.npy` file, byte-identical to `numpy.save` of the same array.
    /// `values.count` must equal the product of `shape`; this is a programming error otherwise.
    public static func data(float64 values: [Double], shape: [Int]) -> Data {
        precondition(TensorFileIO.product(shape) == values.count, "shape does not match the number of values")
        var out = NpyHeader.encode(dtype: .float64, shape: shape)
        out.reserveCapacity(out.count + values.count * 8)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        }
        return out
    }

    /// Parses an in-memory `.npy` file and converts every element to Double.
    public static func values(from data: Data, fileName: String) throws -> (header: NpyHeader, values: [Double]) {
        let header = try NpyHeader.parse(prefix: data, fileName: fileName, fileSize: data.count)
        let start = data.startIndex + header.headerLength
        let body = data[start..<(start + header.dataLength)]
        return (header, TensorElementDecoding.decode(body, dtype: header.dtype))
    }

    /// Reads a whole `.npy` file as Doubles. Meant for small arrays; use `streamValues` for big ones.
    public static func values(fileAt url: URL) throws -> (header: NpyHeader, values: [Double]) {
        var values: [Double] = []
        let header = try streamValues(fileAt: url) { values.append(contentsOf: $0) }
        return (header, values)
    }

    /// Validates the header, then hands `body` the elements as Doubles in ~1 MiB chunks.
    /// `logical` reads the elements as another type of the same size (bfloat16 stored as uint16).
    @discardableResult
    public static func streamValues(fileAt url: URL, as logical: DType? = nil, _ body: ([Double]) throws -> Void) throws -> NpyHeader {
        let header = try NpyHeader.read(fileAt: url)
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        try TensorElementDecoding.streamValues(
            handle, url: url, offset: header.headerLength, length: header.dataLength,
            dtype: header.dtype(as: logical), body)
        return header
    }

    /// Like `streamValues`, but hands `body` the raw little-endian bytes of whole elements
    /// (~1 MiB at a time) and the type to read them as, for callers that need no Doubles.
    @discardableResult
    static func streamRaw(
        fileAt url: URL, as logical: DType? = nil, _ body: (UnsafeRawBufferPointer, DType) throws -> Void
    ) throws -> NpyHeader {
        let header = try NpyHeader.read(fileAt: url)
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        let dtype = header.dtype(as: logical)
        try TensorFileIO.forEachChunk(handle, url: url, offset: header.headerLength, length: header.dataLength) { chunk in
            try chunk.withUnsafeBytes { try body($0, dtype) }
        }
        return header
    }
}

extension NpyHeader {
    /// `logical` if it names another type of the same size (bfloat16 stored as uint16), else the stored type.
    func dtype(as logical: DType?) -> DType {
        logical.flatMap { $0.itemSize == dtype.itemSize ? $0 : nil } ?? dtype
    }
}
