import Foundation

/// A JSON value that keeps object members in document order and numbers as their text: the
/// reader of safetensors headers (whose tensor order is how the file was written, which
/// JSONSerialization discards) and of `mv serve`'s request bodies (where a cell reaches the
/// feature schema spelled as the client sent it). Strict RFC 8259: no NaN, no trailing
/// commas, UTF-8 only, nesting at most 64 deep.
public indirect enum OrderedJSON: Sendable, Equatable {
    case object([(key: String, value: OrderedJSON)])
    case array([OrderedJSON])
    case string(String)
    /// Kept as text so 64-bit offsets are not rounded through Double.
    case number(String)
    case bool(Bool)
    case null

    public static func == (lhs: OrderedJSON, rhs: OrderedJSON) -> Bool {
        switch (lhs, rhs) {
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        case (.array(let a), .array(let b)): return a == b
        case (.string(let a), .string(let b)), (.number(let a), .number(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.null, .null): return true
        default: return false
        }
    }

    /// A non-negative integer, or nil for anything else (fractions, exponents, negatives, overflow).
    public var nonNegativeInt: Int? {
        guard case .number(let text) = self, let value = Int(text), value >= 0 else { return nil }
        return value
    }

    public var kindName: String {
        switch self {
        case .object: return "an object"
        case .array: return "an array"
        case .string: return "a string"
        case .number: return "a number"
        case .bool: return "a boolean"
        case .null: return "null"
        }
    }

    /// Parses a whole document; the message of a failure ends with the byte offset.
    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> OrderedJSON {
        guard String(validating: bytes, as: UTF8.self) != nil else {
            throw JSONSyntaxError(message: "the text is not UTF-8")
        }
        var parser = OrderedJSONParser(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        if parser.position < bytes.count { throw parser.error("unexpected text after the JSON value") }
        return value
    }

    /// Compact JSON the way serde_json writes it (the safetensors reference implementation), so
    /// files we write match files it writes byte for byte.
    public static func quoted(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

/// Why a JSON text could not be read, with the byte offset.
public struct JSONSyntaxError: Error, Sendable {
    public let message: String
}

private struct OrderedJSONParser {
    let bytes: [UInt8]
    var position = 0
    /// Deep nesting never occurs in a real header; the cap keeps hostile input from overflowing the stack.
    static let maxDepth = 64

    func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message: "\(message) at byte \(position)")
    }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipWhitespace() {
        while let c = current, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { position += 1 }
    }

    mutating func expect(_ literal: String) throws(JSONSyntaxError) {
        for byte in literal.utf8 {
            guard current == byte else { throw error("invalid literal") }
            position += 1
        }
    }

    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> OrderedJSON {
        guard depth < Self.maxDepth else { throw error("nesting too deep") }
        guard let c = current else { throw error("unexpected end of the text") }
        switch c {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expect("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expect("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expect("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected character '\(Character(Unicode.Scalar(c)))'")
        }
    }

    mutating func parseObject(depth: Int) throws(JSONSyntaxError) -> OrderedJSON {
        position += 1
        var members: [(key: String, value: OrderedJSON)] = []
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if current == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            throw error("expected ',' or '}'")
        }
    }

    mutating func parseArray(depth: Int) throws(JSONSyntaxError) -> OrderedJSON {
        position += 1
        var items: [OrderedJSON] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .array(items)
        }
        while true {
            skipWhitespace()
            items.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if current == UInt8(ascii: ",") {
                position += 1
                continue
            }
            if current == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            throw error("expected ',' or ']'")
        }
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = position
        func isDigit(_ c: UInt8?) -> Bool { c.map { (0x30...0x39).contains($0) } ?? false }
        if current == UInt8(ascii: "-") { position += 1 }
        guard isDigit(current) else { throw error("invalid number") }
        if current == UInt8(ascii: "0") {
            position += 1
        } else {
            while isDigit(current) { position += 1 }
        }
        if current == UInt8(ascii: ".") {
            position += 1
            guard isDigit(current) else { throw error("invalid number") }
            while isDigit(current) { position += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard isDigit(current) else { throw error("invalid number") }
            while isDigit(current) { position += 1 }
        }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let c = current, let digit = Int(String(Unicode.Scalar(c)), radix: 16) else {
                throw error("invalid \\u escape")
            }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        position += 1
        var out = String.UnicodeScalarView()
        var runStart = position
        func flush(_ end: Int, into out: inout String.UnicodeScalarView) {
            // Already-validated UTF-8, so decoding the raw run cannot fail.
            out.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while let c = current {
            if c == UInt8(ascii: "\"") {
                flush(position, into: &out)
                position += 1
                return String(out)
            }
            if c < 0x20 { throw error("unescaped control character in string") }
            if c != UInt8(ascii: "\\") {
                position += 1
                continue
            }
            flush(position, into: &out)
            position += 1
            guard let escaped = current else { break }
            position += 1
            switch escaped {
            case UInt8(ascii: "\""): out.append("\"")
            case UInt8(ascii: "\\"): out.append("\\")
            case UInt8(ascii: "/"): out.append("/")
            case UInt8(ascii: "b"): out.append("\u{08}")
            case UInt8(ascii: "f"): out.append("\u{0C}")
            case UInt8(ascii: "n"): out.append("\n")
            case UInt8(ascii: "r"): out.append("\r")
            case UInt8(ascii: "t"): out.append("\t")
            case UInt8(ascii: "u"):
                var code = try parseHex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard current == UInt8(ascii: "\\") else { throw error("unpaired surrogate") }
                    position += 1
                    guard current == UInt8(ascii: "u") else { throw error("unpaired surrogate") }
                    position += 1
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("unpaired surrogate") }
                out.append(scalar)
            default:
                throw error("invalid escape")
            }
            runStart = position
        }
        throw error("unterminated string")
    }
}
