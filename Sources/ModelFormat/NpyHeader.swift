import Foundation

/// The parsed header of a `.npy` file: element type, C-order shape and where the data starts.
public struct NpyHeader: Sendable, Equatable {
    public let dtype: DType
    public let shape: [Int]
    /// Bytes before the array data: magic, version, length field and the padded dict.
    public let headerLength: Int

    public init(dtype: DType, shape: [Int], headerLength: Int) {
        self.dtype = dtype
        self.shape = shape
        self.headerLength = headerLength
    }

    /// Number of elements (1 for a 0-d array, as in numpy).
    public var elementCount: Int { shape.reduce(1, *) }

    /// Bytes of array data following the header.
    public var dataLength: Int { elementCount * dtype.itemSize }

    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY
    /// numpy aligns the data start to 64 bytes so memory-mapped arrays are aligned.
    static let alignment = 64
    /// numpy leaves room for the first axis to grow to this many digits so the header can be
    /// rewritten in place when appending; copying it keeps our bytes identical to numpy's.
    static let growthAxisMaxDigits = 21
    /// Far beyond any real header (numpy itself refuses more than 10000 by default); guards
    /// against allocating gigabytes for a corrupt length field.
    static let maxHeaderLength = 1 << 24

    /// The exact header bytes `numpy.save` writes (numpy ≥ 1.16): version 1.0, or 2.0 when the
    /// padded dict does not fit a 16-bit length.
    public static func encode(dtype: DType, shape: [Int]) -> Data {
        let shapeText = TensorFormatError.tupleText(shape)
        var dict = "{'descr': '\(dtype.npyDescr)', 'fortran_order': False, 'shape': \(shapeText), }"
        if let first = shape.first {
            dict += String(repeating: " ", count: max(0, growthAxisMaxDigits - String(first).count))
        }
        let dictBytes = Array(dict.utf8)
        for (major, lengthFieldSize) in [(1, 2), (2, 4)] {
            let unpadded = magic.count + 2 + lengthFieldSize + dictBytes.count + 1
            let padding = (alignment - unpadded % alignment) % alignment
            let dictLength = dictBytes.count + padding + 1
            if lengthFieldSize == 2 && dictLength > Int(UInt16.max) { continue }
            var out = Data(magic)
            out.append(contentsOf: [UInt8(major), 0])
            for byte in 0..<lengthFieldSize { out.append(UInt8(truncatingIfNeeded: dictLength >> (8 * byte))) }
            out.append(contentsOf: dictBytes)
            out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
            out.append(UInt8(ascii: "\n"))
            return out
        }
        // Unreachable: a 4-byte length holds any dict a shape can produce.
        return Data()
    }

    /// Bytes of header prefix needed to learn the full header length.
    static let fixedPrefixLength = 12

    /// Decodes magic, version and the header length field. Returns nil if `bytes` is too short.
    static func headerLength(of bytes: [UInt8], fileName: String) throws -> (major: Int, total: Int)? {
        let probe = Array(bytes.prefix(magic.count))
        guard probe == Array(magic.prefix(probe.count)) else { throw TensorFormatError.npyBadMagic(file: fileName) }
        guard bytes.count >= 8 else { return nil }
        let major = Int(bytes[6])
        let minor = Int(bytes[7])
        guard (1...3).contains(major), minor == 0 else {
            throw TensorFormatError.npyUnsupportedVersion(file: fileName, major: major, minor: minor)
        }
        let fieldSize = major == 1 ? 2 : 4
        guard bytes.count >= 8 + fieldSize else { return nil }
        var dictLength = 0
        for i in 0..<fieldSize { dictLength |= Int(bytes[8 + i]) << (8 * i) }
        guard dictLength <= maxHeaderLength else {
            throw TensorFormatError.npyHeaderTooLarge(file: fileName, length: dictLength)
        }
        return (major, 8 + fieldSize + dictLength)
    }

    /// Parses and validates a header from the start of a file. `prefix` may hold more than the
    /// header (for example the whole file); `fileSize`, when given, is checked against the shape
    /// so truncated files and trailing bytes are caught before anyone reads the body.
    public static func parse(prefix: Data, fileName: String, fileSize: Int?) throws -> NpyHeader {
        let head = [UInt8](prefix.prefix(fixedPrefixLength))
        // Too short even for the magic: it is not a .npy file rather than a truncated one.
        if head.count < magic.count { throw TensorFormatError.npyBadMagic(file: fileName) }
        guard let (major, total) = try headerLength(of: head, fileName: fileName), prefix.count >= total else {
            throw TensorFormatError.npyTruncatedHeader(file: fileName)
        }
        let fieldEnd = major == 1 ? 10 : 12
        let dictBytes = prefix[(prefix.startIndex + fieldEnd)..<(prefix.startIndex + total)]
        // Versions 1 and 2 are latin-1; 3 is UTF-8. Only ASCII is meaningful in either.
        let text: String
        if major == 3 {
            guard let decoded = String(data: dictBytes, encoding: .utf8) else {
                throw TensorFormatError.npyMalformedHeader(file: fileName, detail: "header is not valid UTF-8")
            }
            text = decoded
        } else {
            text = String(decoding: dictBytes.map { $0 }, as: Unicode.ASCII.self)
            if dictBytes.contains(where: { $0 >= 0x80 }) {
                throw TensorFormatError.npyMalformedHeader(file: fileName, detail: "header has non-ASCII bytes")
            }
        }
        let (dtype, shape) = try interpret(text, fileName: fileName)
        guard let count = TensorFileIO.product(shape),
            case (let dataLength, let overflow) = count.multipliedReportingOverflow(by: dtype.itemSize), !overflow,
            !total.addingReportingOverflow(dataLength).overflow
        else { throw TensorFormatError.sizeOverflow(file: fileName) }
        if let fileSize {
            let body = fileSize - total
            if body < dataLength {
                throw TensorFormatError.npyTruncatedBody(file: fileName, expected: dataLength, actual: body)
            }
            if body > dataLength {
                throw TensorFormatError.npyTrailingData(file: fileName, extra: body - dataLength)
            }
        }
        return NpyHeader(dtype: dtype, shape: shape, headerLength: total)
    }

    private static func interpret(_ text: String, fileName: String) throws -> (DType, [Int]) {
        func malformed(_ detail: String) -> TensorFormatError {
            .npyMalformedHeader(file: fileName, detail: detail)
        }
        let literal: NpyPythonLiteral
        do {
            literal = try NpyPythonLiteral.parse(text)
        } catch {
            throw malformed(error.message)
        }
        guard case .dict(let entries) = literal else { throw malformed("header is not a dict") }
        var fields: [String: NpyPythonLiteral] = [:]
        for entry in entries {
            guard case .string(let key) = entry.key else { throw malformed("dict key is not a string") }
            guard fields[key] == nil else { throw malformed("key '\(key)' appears twice") }
            fields[key] = entry.value
        }
        let expected: Set<String> = ["descr", "fortran_order", "shape"]
        guard Set(fields.keys) == expected else {
            let missing = expected.subtracting(fields.keys).sorted()
            let extra = Set(fields.keys).subtracting(expected).sorted()
            var parts: [String] = []
            if !missing.isEmpty { parts.append("missing " + missing.map { "'\($0)'" }.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("unexpected " + extra.map { "'\($0)'" }.joined(separator: ", ")) }
            throw malformed("keys must be 'descr', 'fortran_order' and 'shape' (\(parts.joined(separator: "; ")))")
        }

        guard case .bool(let fortran)? = fields["fortran_order"] else {
            throw malformed("'fortran_order' is not True or False")
        }

        let descr: String
        switch fields["descr"] {
        case .string(let value)?: descr = value
        case .list?, .tuple?: throw TensorFormatError.npyStructuredDType(file: fileName)
        default: throw malformed("'descr' is not a string")
        }

        guard case .tuple(let dims)? = fields["shape"] else { throw malformed("'shape' is not a tuple") }
        var shape: [Int] = []
        for dim in dims {
            guard case .int(let value) = dim else { throw malformed("'shape' holds a non-integer") }
            shape.append(value)
        }

        if descr.hasPrefix(">") && descr.count > 2 && !descr.hasSuffix("1") {
            throw TensorFormatError.npyBigEndian(file: fileName, descr: descr)
        }
        if descr.dropFirst() == "O" || descr == "O" {
            throw TensorFormatError.npyObjectDType(file: fileName)
        }
        // One-byte types have no byte order, so '>i1' is harmless; accept it as numpy does.
        let normalized = descr.hasPrefix(">") && descr.hasSuffix("1") ? "|" + descr.dropFirst() : descr
        guard let dtype = DType(npyDescr: normalized) else {
            throw TensorFormatError.npyUnknownDType(file: fileName, descr: descr)
        }
        if fortran { throw TensorFormatError.npyFortranOrder(file: fileName) }
        if shape.contains(where: { $0 < 0 }) {
            throw TensorFormatError.npyNegativeDimension(file: fileName, shape: shape)
        }
        return (dtype, shape)
    }

    /// Reads and validates just the header of the file at `url`, checking the file size against it.
    public static func read(fileAt url: URL) throws -> NpyHeader {
        let name = TensorFileIO.fileName(url)
        let handle = try TensorFileIO.openForReading(url)
        defer { try? handle.close() }
        let size = try TensorFileIO.fileSize(handle, url: url)
        var prefix = try TensorFileIO.read(handle, count: fixedPrefixLength, url: url)
        if let (_, total) = try headerLength(of: [UInt8](prefix), fileName: name), total > prefix.count {
            prefix.append(try TensorFileIO.read(handle, count: total - prefix.count, url: url))
        }
        return try parse(prefix: prefix, fileName: name, fileSize: size)
    }
}
