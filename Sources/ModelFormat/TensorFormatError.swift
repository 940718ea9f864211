import Foundation

/// Why a tensor file (`.npy` or `.safetensors`) could not be read or written.
/// Every message is a single line naming the file or tensor and what is wrong.
public enum TensorFormatError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    case cannotRead(file: String, reason: String)
    case cannotWrite(file: String, reason: String)

    // .npy
    case npyBadMagic(file: String)
    case npyUnsupportedVersion(file: String, major: Int, minor: Int)
    case npyTruncatedHeader(file: String)
    case npyHeaderTooLarge(file: String, length: Int)
    case npyMalformedHeader(file: String, detail: String)
    case npyFortranOrder(file: String)
    case npyBigEndian(file: String, descr: String)
    case npyObjectDType(file: String)
    case npyStructuredDType(file: String)
    case npyUnknownDType(file: String, descr: String)
    case npyNegativeDimension(file: String, shape: [Int])
    case sizeOverflow(file: String)
    case npyTruncatedBody(file: String, expected: Int, actual: Int)
    case npyTrailingData(file: String, extra: Int)

    // .safetensors
    case safetensorsTooShort(file: String, size: Int)
    case safetensorsHeaderBeyondFile(file: String, declared: UInt64, available: Int)
    case safetensorsHeaderTooLarge(file: String, declared: UInt64)
    case safetensorsHeaderNotUTF8(file: String)
    case safetensorsHeaderNotJSON(file: String, detail: String)
    case safetensorsInvalidHeader(file: String, detail: String)
    case safetensorsUnknownDType(file: String, tensor: String, dtype: String)
    case dtypeNotRepresentable(file: String, tensor: String, dtype: String)
    case tensorByteLengthMismatch(file: String, tensor: String, expected: Int, actual: Int)
    case tensorOffsetsOutOfRange(file: String, tensor: String, begin: Int, end: Int, dataLength: Int)
    case tensorsOverlap(file: String, first: String, second: String)
    case safetensorsDataHole(file: String, begin: Int, end: Int)
    case duplicateTensorName(file: String, tensor: String)
    case invalidTensorName(file: String, tensor: String)
    case tensorNotFound(file: String, tensor: String)

    public var description: String {
        switch self {
        case .cannotRead(let file, let reason):
            return "cannot read '\(file)': \(reason)"
        case .cannotWrite(let file, let reason):
            return "cannot write '\(file)': \(reason)"
        case .npyBadMagic(let file):
            return "'\(file)' is not a .npy file (it does not start with \\x93NUMPY)"
        case .npyUnsupportedVersion(let file, let major, let minor):
            return "'\(file)' uses .npy format version \(major).\(minor); only 1.0, 2.0 and 3.0 are supported"
        case .npyTruncatedHeader(let file):
            return "'\(file)' ends inside its .npy header; the file is truncated"
        case .npyHeaderTooLarge(let file, let length):
            return "'\(file)' declares a \(length)-byte .npy header, larger than any real array needs"
        case .npyMalformedHeader(let file, let detail):
            return "'\(file)' has a malformed .npy header: \(detail)"
        case .npyFortranOrder(let file):
            return "'\(file)' is stored in Fortran order; save it with numpy.ascontiguousarray first"
        case .npyBigEndian(let file, let descr):
            return "'\(file)' has big-endian dtype '\(descr)'; save it with a.astype(a.dtype.newbyteorder('<')) first"
        case .npyObjectDType(let file):
            return "'\(file)' holds Python objects (dtype '|O'); save a numeric array instead"
        case .npyStructuredDType(let file):
            return "'\(file)' has a structured dtype; save each field as its own array"
        case .npyUnknownDType(let file, let descr):
            let supported = DType.npyTypes.map(\.npyDescr).joined(separator: ", ")
            return "'\(file)' has unsupported dtype '\(descr)'; supported dtypes are \(supported)"
        case .npyNegativeDimension(let file, let shape):
            return "'\(file)' has a negative dimension in shape \(TensorFormatError.tupleText(shape))"
        case .sizeOverflow(let file):
            return "'\(file)' declares a shape whose byte size does not fit in 64 bits"
        case .npyTruncatedBody(let file, let expected, let actual):
            return "'\(file)' is truncated: its header promises \(expected) data bytes but only \(actual) follow"
        case .npyTrailingData(let file, let extra):
            return "'\(file)' has \(extra) unexpected bytes after the array data"
        case .safetensorsTooShort(let file, let size):
            return "'\(file)' is \(size) bytes, too short to be a safetensors file (it needs an 8-byte header size)"
        case .safetensorsHeaderBeyondFile(let file, let declared, let available):
            return
                "'\(file)' declares a \(declared)-byte header but only \(available) bytes follow the size field; the file is truncated or not safetensors"
        case .safetensorsHeaderTooLarge(let file, let declared):
            return "'\(file)' declares a \(declared)-byte header, over the 100000000-byte safetensors limit"
        case .safetensorsHeaderNotUTF8(let file):
            return "'\(file)' has a safetensors header that is not valid UTF-8"
        case .safetensorsHeaderNotJSON(let file, let detail):
            return "'\(file)' has a safetensors header that is not valid JSON: \(detail)"
        case .safetensorsInvalidHeader(let file, let detail):
            return "'\(file)' has an invalid safetensors header: \(detail)"
        case .safetensorsUnknownDType(let file, let tensor, let dtype):
            return "tensor '\(tensor)' in '\(file)' has unknown dtype '\(dtype)'"
        case .dtypeNotRepresentable(let file, let tensor, let dtype):
            return "tensor '\(tensor)' in '\(file)' has dtype \(dtype), which .npy cannot hold yet"
        case .tensorByteLengthMismatch(let file, let tensor, let expected, let actual):
            return "tensor '\(tensor)' in '\(file)' spans \(actual) bytes but its dtype and shape need \(expected)"
        case .tensorOffsetsOutOfRange(let file, let tensor, let begin, let end, let dataLength):
            return "tensor '\(tensor)' in '\(file)' has data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data area"
        case .tensorsOverlap(let file, let first, let second):
            return "tensors '\(first)' and '\(second)' in '\(file)' overlap"
        case .safetensorsDataHole(let file, let begin, let end):
            return "'\(file)' has \(end - begin) bytes at data offsets \(begin)..<\(end) that belong to no tensor"
        case .duplicateTensorName(let file, let tensor):
            return "tensor name '\(tensor)' appears more than once in '\(file)'"
        case .invalidTensorName(let file, let tensor):
            return "'\(tensor)' cannot be a tensor name in '\(file)'; it is reserved or empty"
        case .tensorNotFound(let file, let tensor):
            return "'\(file)' has no tensor named '\(tensor)'"
        }
    }

    public var errorDescription: String? { description }

    /// Python's tuple spelling, so messages match what the user sees in numpy.
    static func tupleText(_ shape: [Int]) -> String {
        switch shape.count {
        case 0: return "()"
        case 1: return "(\(shape[0]),)"
        default: return "(" + shape.map(String.init).joined(separator: ", ") + ")"
        }
    }
}
