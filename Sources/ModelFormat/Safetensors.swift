import Foundation

/// One tensor entry of a safetensors header.
public struct SafetensorsTensor: Sendable, Equatable {
    public let name: String
    public let dtype: DType
    public let shape: [Int]
    /// Byte range of the tensor, relative to the start of the data area (after the header).
    public let dataBegin: Int
    public let dataEnd: Int

    public init(name: String, dtype: DType, shape: [Int], dataBegin: Int, dataEnd: Int) {
        self.name = name
        self.dtype = dtype
        self.shape = shape
        self.dataBegin = dataBegin
        self.dataEnd = dataEnd
    }

    public var elementCount: Int { shape.reduce(1, *) }
    public var byteLength: Int { dataEnd - dataBegin }
}

/// A validated safetensors file: its header is parsed, the tensor bodies stay on disk.
public struct SafetensorsFile: Sendable, Equatable {
    public let url: URL
    /// Length N of the JSON header (the data area starts at byte 8 + N).
    public let headerLength: Int
    public let metadata: [String: String]
    /// In the order they appear in the header JSON text.
    public let tensors: [SafetensorsTensor]

    /// Same limit as the reference implementation, to refuse hostile headers before allocating.
    static let maxHeaderLength: UInt64 = 100_000_000
    static let metadataKey = "__metadata__"

    /// Absolute file offset of the data area.
    public var dataStart: Int { 8 + headerLength }

    public func tensor(named name: String) -> SafetensorsTensor? {
        tensors.first { $0.name == name }
    }

    /// Reads and validates the header per the safetensors spec: every tensor's byte length must
    /// match its dtype and shape, and the tensors must tile the data area exactly, with no
    /// overlaps and no unused bytes.
    public static func open(_ url: URL) throws -> SafetensorsFile {
        let name = TensorFileIO.fileName(url)
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        let fileSize = try TensorFileIO.fileSize(handle, url: url)
        let sizeField = try TensorFileIO.read(handle, count: 8, url: url)
        guard sizeField.count == 8 else { throw TensorFormatError.safetensorsTooShort(file: name, size: fileSize) }
        var declared: UInt64 = 0
        for (i, byte) in sizeField.enumerated() { declared |= UInt64(byte) << (8 * UInt64(i)) }
        let available = fileSize - 8
        guard declared <= UInt64(available) else {
            throw TensorFormatError.safetensorsHeaderBeyondFile(file: name, declared: declared, available: available)
        }
        guard declared <= maxHeaderLength else {
            throw TensorFormatError.safetensorsHeaderTooLarge(file: name, declared: declared)
        }
        let headerLength = Int(declared)
        let headerBytes = [UInt8](try TensorFileIO.read(handle, count: headerLength, url: url))
        return try parseHeader(headerBytes, url: url, dataLength: available - headerLength)
    }

    static func parseHeader(_ bytes: [UInt8], url: URL, dataLength: Int) throws -> SafetensorsFile {
        let name = TensorFileIO.fileName(url)
        func invalid(_ detail: String) -> TensorFormatError {
            .safetensorsInvalidHeader(file: name, detail: detail)
        }
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw TensorFormatError.safetensorsHeaderNotUTF8(file: name)
        }
        let json: OrderedJSON
        do {
            json = try OrderedJSON.parse(bytes)
        } catch {
            throw TensorFormatError.safetensorsHeaderNotJSON(file: name, detail: error.message)
        }
        guard case .object(let members) = json else {
            throw invalid("the header is \(json.kindName), not a JSON object")
        }

        var metadata: [String: String] = [:]
        var tensors: [SafetensorsTensor] = []
        var seen: Set<String> = []
        for (key, value) in members {
            guard seen.insert(key).inserted else { throw TensorFormatError.duplicateTensorName(file: name, tensor: key) }
            if key == metadataKey {
                guard case .object(let entries) = value else { throw invalid("'__metadata__' is \(value.kindName), not an object") }
                for (metaKey, metaValue) in entries {
                    guard case .string(let text) = metaValue else {
                        throw invalid("'__metadata__' entry '\(metaKey)' is \(metaValue.kindName), not a string")
                    }
                    metadata[metaKey] = text
                }
                continue
            }
            tensors.append(try parseTensor(key, value, fileName: name, dataLength: dataLength))
        }
        try checkCoverage(tensors, fileName: name, dataLength: dataLength)
        return SafetensorsFile(url: url, headerLength: bytes.count, metadata: metadata, tensors: tensors)
    }

    private static func parseTensor(
        _ tensorName: String, _ value: OrderedJSON, fileName: String, dataLength: Int
    ) throws -> SafetensorsTensor {
        func invalid(_ detail: String) -> TensorFormatError {
            .safetensorsInvalidHeader(file: fileName, detail: "tensor '\(tensorName)' \(detail)")
        }
        guard case .object(let fields) = value else { throw invalid("is \(value.kindName), not an object") }
        var byKey: [String: OrderedJSON] = [:]
        for (key, field) in fields { byKey[key] = field }

        guard let dtypeField = byKey["dtype"] else { throw invalid("has no 'dtype'") }
        guard case .string(let dtypeName) = dtypeField else { throw invalid("has a 'dtype' that is not a string") }
        guard let dtype = DType(safetensorsName: dtypeName) else {
            if DType.safetensorsOnlyNames.contains(dtypeName) {
                throw TensorFormatError.dtypeNotRepresentable(file: fileName, tensor: tensorName, dtype: dtypeName)
            }
            throw TensorFormatError.safetensorsUnknownDType(file: fileName, tensor: tensorName, dtype: dtypeName)
        }

        guard let shapeField = byKey["shape"] else { throw invalid("has no 'shape'") }
        guard case .array(let dims) = shapeField else { throw invalid("has a 'shape' that is not an array") }
        var shape: [Int] = []
        for dim in dims {
            guard let size = dim.nonNegativeInt else { throw invalid("has a 'shape' entry that is not a non-negative integer") }
            shape.append(size)
        }

        guard let offsetsField = byKey["data_offsets"] else { throw invalid("has no 'data_offsets'") }
        guard case .array(let offsets) = offsetsField, offsets.count == 2,
            let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt
        else { throw invalid("has 'data_offsets' that are not two non-negative integers") }

        guard begin <= end, end <= dataLength else {
            throw TensorFormatError.tensorOffsetsOutOfRange(
                file: fileName, tensor: tensorName, begin: begin, end: end, dataLength: dataLength)
        }
        guard let count = TensorFileIO.product(shape),
            case (let expected, let overflow) = count.multipliedReportingOverflow(by: dtype.itemSize), !overflow
        else { throw TensorFormatError.sizeOverflow(file: fileName) }
        guard expected == end - begin else {
            throw TensorFormatError.tensorByteLengthMismatch(
                file: fileName, tensor: tensorName, expected: expected, actual: end - begin)
        }
        return SafetensorsTensor(name: tensorName, dtype: dtype, shape: shape, dataBegin: begin, dataEnd: end)
    }

    private static func checkCoverage(_ tensors: [SafetensorsTensor], fileName: String, dataLength: Int) throws {
        // Zero-length tensors occupy no bytes, so they can neither overlap nor fill a hole.
        let sorted = tensors.filter { $0.byteLength > 0 }.sorted { ($0.dataBegin, $0.dataEnd) < ($1.dataBegin, $1.dataEnd) }
        var covered = 0
        var previous: SafetensorsTensor?
        for tensor in sorted {
            if tensor.dataBegin < covered, let previous {
                throw TensorFormatError.tensorsOverlap(file: fileName, first: previous.name, second: tensor.name)
            }
            if tensor.dataBegin > covered {
                throw TensorFormatError.safetensorsDataHole(file: fileName, begin: covered, end: tensor.dataBegin)
            }
            covered = tensor.dataEnd
            previous = tensor
        }
        if covered < dataLength {
            throw TensorFormatError.safetensorsDataHole(file: fileName, begin: covered, end: dataLength)
        }
    }

    /// Writes one tensor as a `.npy` file, copying its bytes in 1 MiB chunks (both formats are
    /// little-endian C order, so no conversion is needed).
    public func writeNpy(_ tensor: SafetensorsTensor, to destination: URL) throws {
        let input = try TensorFileIO.openForReading(url)
        defer { try? input.close() }
        try TensorFileIO.writeAtomically(to: destination) { output in
            try TensorFileIO.write(output, NpyHeader.encode(dtype: tensor.dtype, shape: tensor.shape), url: destination)
            try TensorFileIO.forEachChunk(input, url: url, offset: dataStart + tensor.dataBegin, length: tensor.byteLength) {
                try TensorFileIO.write(output, $0, url: destination)
            }
        }
    }

    /// Statistics of one tensor, streamed from the file.
    public func statistics(of tensor: SafetensorsTensor) throws -> TensorStatistics {
        let input = try TensorFileIO.openForReading(url)
        defer { try? input.close() }
        var accumulator = TensorStatistics.Accumulator()
        // Chunks are a multiple of every item size, so each holds whole elements.
        try TensorFileIO.forEachChunk(input, url: url, offset: dataStart + tensor.dataBegin, length: tensor.byteLength) { chunk in
            chunk.withUnsafeBytes { accumulator.add(raw: $0, dtype: tensor.dtype) }
        }
        return accumulator.result
    }

    /// SHA-256 of one tensor's raw bytes, so identical tensors can be recognised across files
    /// and formats (an `.npy` body and a safetensors slice with the same bytes hash the same).
    public func sha256(of tensor: SafetensorsTensor) throws -> String {
        try ContentHash.sha256(fileAt: url, offset: dataStart + tensor.dataBegin, length: tensor.byteLength)
    }
}

/// Writes safetensors files from `.npy` inputs without loading any tensor whole.
public enum SafetensorsWriter {
    /// The reference implementation's dtype order (its enum order, descending); matching it makes
    /// our files byte-identical to `safetensors.numpy.save_file`'s.
    static func layoutRank(_ dtype: DType) -> Int {
        switch dtype {
        case .uint64: return 0
        case .int64: return 1
        case .float64: return 2
        case .float32: return 3
        case .uint32: return 4
        case .int32: return 5
        case .bfloat16: return 6
        case .float16: return 7
        case .uint16: return 8
        case .int16: return 9
        case .int8: return 10
        case .uint8: return 11
        case .bool: return 12
        }
    }

    /// Lays out tensors as the reference implementation does (largest item size first, then by
    /// name) so every tensor is aligned to its item size for zero-copy loading, writes the compact
    /// JSON header padded with spaces to a multiple of 8 bytes, then streams each `.npy` body.
    /// `dtypes` names the real type of tensors whose .npy holds them as another type of the
    /// same size (bfloat16 stored as uint16).
    public static func write(
        tensors: [(name: String, npyFile: URL)], metadata: [String: String],
        dtypes: [String: DType] = [:], to destination: URL
    ) throws {
        var headers: [String: (url: URL, header: NpyHeader)] = [:]
        var described: [(name: String, dtype: DType, shape: [Int])] = []
        for (name, npyFile) in tensors {
            let stored = try NpyHeader.read(fileAt: npyFile)
            let header = dtypes[name].map { NpyHeader(dtype: $0, shape: stored.shape, headerLength: stored.headerLength) } ?? stored
            headers[name] = (npyFile, header)
            described.append((name, header.dtype, header.shape))
        }
        let layout = try self.layout(described, metadata: metadata, fileName: TensorFileIO.fileName(destination))
        var prefix = Data()
        let length = UInt64(layout.header.count)
        for i in 0..<8 { prefix.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        prefix.append(layout.header)
        try writeFile(prefix: prefix, bodies: layout.order.compactMap { headers[$0] }, to: destination)
    }

    /// The JSON header (padded with spaces to a multiple of 8 bytes, without the 8-byte length
    /// before it) and the order of the tensors' bytes after it, as the reference writer lays
    /// them out: largest item size first, then by name.
    public static func layout(
        _ tensors: [(name: String, dtype: DType, shape: [Int])], metadata: [String: String],
        fileName: String
    ) throws -> (header: Data, order: [String]) {
        var seen: Set<String> = []
        for tensor in tensors {
            guard !tensor.name.isEmpty, tensor.name != SafetensorsFile.metadataKey else {
                throw TensorFormatError.invalidTensorName(file: fileName, tensor: tensor.name)
            }
            guard seen.insert(tensor.name).inserted else {
                throw TensorFormatError.duplicateTensorName(file: fileName, tensor: tensor.name)
            }
        }
        let entries = tensors.sorted { a, b in
            let (rankA, rankB) = (layoutRank(a.dtype), layoutRank(b.dtype))
            if rankA != rankB { return rankA < rankB }
            return Array(a.name.utf8).lexicographicallyPrecedes(Array(b.name.utf8))
        }

        var json = "{"
        var parts: [String] = []
        if !metadata.isEmpty {
            // Sorted so the same inputs always produce the same bytes (and the same hash).
            let items = metadata.keys.sorted().map { key in
                OrderedJSON.quoted(key) + ":" + OrderedJSON.quoted(metadata[key] ?? "")
            }
            parts.append(OrderedJSON.quoted(SafetensorsFile.metadataKey) + ":{" + items.joined(separator: ",") + "}")
        }
        var offset = 0
        for entry in entries {
            guard let count = TensorFileIO.product(entry.shape),
                case (let length, let overflow) = count.multipliedReportingOverflow(by: entry.dtype.itemSize), !overflow
            else {
                throw TensorFormatError.sizeOverflow(file: fileName)
            }
            let end = offset + length
            let shape = entry.shape.map(String.init).joined(separator: ",")
            parts.append(
                OrderedJSON.quoted(entry.name)
                    + ":{\"dtype\":\"\(entry.dtype.safetensorsName)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        json += parts.joined(separator: ",") + "}"
        var headerBytes = Array(json.utf8)
        headerBytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - headerBytes.count % 8) % 8))
        return (Data(headerBytes), entries.map(\.name))
    }

    private static func writeFile(prefix: Data, bodies: [(url: URL, header: NpyHeader)], to destination: URL) throws {
        try TensorFileIO.writeAtomically(to: destination) { output in
            try TensorFileIO.write(output, prefix, url: destination)
            for body in bodies {
                let input = try TensorFileIO.openForReading(body.url)
                defer { try? input.close() }
                try TensorFileIO.forEachChunk(input, url: body.url, offset: body.header.headerLength, length: body.header.dataLength) {
                    try TensorFileIO.write(output, $0, url: destination)
                }
            }
        }
    }
}
