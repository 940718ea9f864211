import Foundation

/// Element type of a tensor, limited to the types both `.npy` and safetensors can hold.
public enum DType: String, Sendable, CaseIterable {
    case float16, float32, float64
    case int8, int16, int32, int64
    case uint8, uint16, uint32, uint64
    case bool
    /// Brain float: numpy has none, so its .npy files hold the raw 16-bit patterns as
    /// uint16 and the manifest records `bfloat16` (listed last so `<u2` reads as uint16).
    case bfloat16

    /// The types an .npy header can name (bfloat16 is stored as uint16).
    public static let npyTypes: [DType] = allCases.filter { $0 != .bfloat16 }

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .int8, .uint8, .bool: return 1
        case .float16, .int16, .uint16, .bfloat16: return 2
        case .float32, .int32, .uint32: return 4
        case .float64, .int64, .uint64: return 8
        }
    }

    /// The little-endian numpy type string, spelled exactly as numpy writes it
    /// (one-byte types use `|` because byte order does not apply to them).
    public var npyDescr: String {
        switch self {
        case .float16: return "<f2"
        case .float32: return "<f4"
        case .float64: return "<f8"
        case .int8: return "|i1"
        case .int16: return "<i2"
        case .int32: return "<i4"
        case .int64: return "<i8"
        case .uint8: return "|u1"
        case .uint16, .bfloat16: return "<u2"
        case .uint32: return "<u4"
        case .uint64: return "<u8"
        case .bool: return "|b1"
        }
    }

    /// Accepts `<` for every type and `|` for one-byte types. `=` (native order) and `>`
    /// (big-endian) are refused because the bytes would then depend on the writer's machine.
    public init?(npyDescr: String) {
        guard npyDescr.count >= 2, let order = npyDescr.first else { return nil }
        let code = String(npyDescr.dropFirst())
        guard let type = DType.npyTypes.first(where: { String($0.npyDescr.dropFirst()) == code }) else {
            return nil
        }
        switch order {
        case "<": self = type
        case "|" where type.itemSize == 1: self = type
        default: return nil
        }
    }

    /// The dtype name used in safetensors headers.
    public var safetensorsName: String {
        switch self {
        case .float16: return "F16"
        case .float32: return "F32"
        case .float64: return "F64"
        case .int8: return "I8"
        case .int16: return "I16"
        case .int32: return "I32"
        case .int64: return "I64"
        case .uint8: return "U8"
        case .uint16: return "U16"
        case .uint32: return "U32"
        case .uint64: return "U64"
        case .bool: return "BOOL"
        case .bfloat16: return "BF16"
        }
    }

    public init?(safetensorsName: String) {
        guard let type = DType.allCases.first(where: { $0.safetensorsName == safetensorsName }) else {
            return nil
        }
        self = type
    }

    /// Safetensors dtypes that are valid in the format but have no numpy equivalent, so they get
    /// a "cannot hold yet" message rather than "unknown dtype".
    static let safetensorsOnlyNames: Set<String> = [
        "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4", "C64",
    ]
}
