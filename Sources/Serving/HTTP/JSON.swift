import Foundation

/// A parsed JSON document. Numbers keep their literal text, so a cell reaches the feature
/// schema spelled as the client sent it, exactly as a CSV cell would.
enum JSON: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSON])
    case object([(key: String, value: JSON)])

    subscript(key: String) -> JSON? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.key == key }?.value
    }

    var array: [JSON]? {
        if case .array(let values) = self { return values }
        return nil
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    var keys: [String] {
        if case .object(let pairs) = self { return pairs.map(\.key) }
        return []
    }

    /// What the value is, for messages.
    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "a list"
        case .object: "an object"
        }
    }

    /// Parses a whole document: strict RFC 8259 (no NaN, no trailing commas, no comments),
    /// UTF-8 only, nesting at most `maxDepth` deep, numbers within Double's range.
    static func parse(_ bytes: UnsafeRawBufferPointer, maxDepth: Int = 64) throws(ServeError) -> JSON {
        var parser = JSONParser(bytes: bytes, maxDepth: maxDepth)
        parser.skipSpace()
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.fail("unexpected text after the JSON value") }
        return value
    }
}

extension JSON {
    /// Whether `text` is a number as JSON spells one (so it can be written unquoted).
    static func isNumber(_ text: String) -> Bool {
        let utf8 = Array(text.utf8)
        return utf8.withUnsafeBytes { raw in
            var parser = JSONParser(bytes: raw, maxDepth: 1)
            guard !raw.isEmpty, raw[0] == UInt8(ascii: "-") || (raw[0] >= UInt8(ascii: "0") && raw[0] <= UInt8(ascii: "9")),
                (try? parser.number()) != nil
            else { return false }
            return parser.index == raw.count
        }
    }
}

extension JSON {
    static func parse(string: String) throws(ServeError) -> JSON {
        var result: Result<JSON, ServeError> = .failure(.badRequest("empty"))
        Array(string.utf8).withUnsafeBytes { raw in
            do throws(ServeError) { result = .success(try JSON.parse(raw)) } catch { result = .failure(error) }
        }
        return try result.get()
    }
}

/// A recursive-descent reader over the request body's bytes.
private struct JSONParser {
    let bytes: UnsafeRawBufferPointer
    let maxDepth: Int
    var index = 0

    init(bytes: UnsafeRawBufferPointer, maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
    }

    func fail(_ what: String) -> ServeError {
        .badRequest("malformed JSON at byte \(index): \(what)")
    }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(ServeError) -> JSON {
        guard depth < maxDepth else { throw fail("nested more than \(maxDepth) deep") }
        guard index < bytes.count else { throw fail("the body ends before a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth)
        case UInt8(ascii: "["): return try array(depth: depth)
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw fail("unexpected character '\(Unicode.Scalar(bytes[index]))'")
        }
    }

    mutating func literal(_ word: StaticString) throws(ServeError) {
        let length = word.utf8CodeUnitCount
        guard index + length <= bytes.count else { throw fail("expected \(word)") }
        for offset in 0..<length where bytes[index + offset] != word.utf8Start[offset] {
            throw fail("expected \(word)")
        }
        index += length
    }

    mutating func object(depth: Int) throws(ServeError) -> JSON {
        index += 1
        var pairs: [(key: String, value: JSON)] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(pairs)
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a quoted key") }
            let key = try string()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':' after a key") }
            index += 1
            skipSpace()
            pairs.append((key, try value(depth: depth + 1)))
            skipSpace()
            guard index < bytes.count else { throw fail("the body ends inside an object") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            index += 1
            return .object(pairs)
        }
    }

    mutating func array(depth: Int) throws(ServeError) -> JSON {
        index += 1
        var values: [JSON] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(values)
        }
        while true {
            skipSpace()
            values.append(try value(depth: depth + 1))
            skipSpace()
            guard index < bytes.count else { throw fail("the body ends inside a list") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            index += 1
            return .array(values)
        }
    }

    mutating func number() throws(ServeError) -> String {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let first = index
        guard digits() > 0 else { throw fail("a number needs digits") }
        guard bytes[first] != UInt8(ascii: "0") || index == first + 1 else { throw fail("a number with a leading zero") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw fail("a number needs digits after '.'") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw fail("a number needs digits in its exponent") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw fail("\(text.prefix(40)) is out of range") }
        return text
    }

    mutating func digits() -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    mutating func string() throws(ServeError) -> String {
        index += 1
        let start = index
        // Fast path: no escapes.
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = UnsafeRawBufferPointer(rebasing: bytes[start..<index])
                index += 1
                guard let decoded = String(validating: text, as: UTF8.self) else { throw fail("a string is not UTF-8") }
                return decoded
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw fail("a control character inside a string") }
            index += 1
        }
        index = start
        var out: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let decoded = String(validating: out, as: UTF8.self) else { throw fail("a string is not UTF-8") }
                return decoded
            case UInt8(ascii: "\\"):
                guard index < bytes.count else { break }
                let escape = bytes[index]
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                            throw fail("an unpaired surrogate in a string")
                        }
                        index += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("an unpaired surrogate in a string") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("an invalid \\u escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw fail("an invalid escape in a string")
                }
            default:
                if byte < 0x20 { throw fail("a control character inside a string") }
                out.append(byte)
            }
        }
        throw fail("the body ends inside a string")
    }

    mutating func hex4() throws(ServeError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("a short \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw fail("a bad hex digit in a \\u escape")
            }
            value = value << 4 | digit
        }
        return value
    }
}

/// Builds a JSON response body by appending, numbers printed so they read back exactly.
struct JSONWriter {
    var text = ""

    mutating func raw(_ part: String) { text += part }

    mutating func string(_ value: String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            default:
                if scalar.value < 0x20 {
                    text +=
                        "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count)
                        + String(scalar.value, radix: 16)
                } else {
                    text.unicodeScalars.append(scalar)
                }
            }
        }
        text += "\""
    }

    /// A finite number as Swift's shortest round-trip text; JSON has no NaN, so null.
    mutating func number(_ value: Double) {
        guard value.isFinite else {
            text += "null"
            return
        }
        if value == value.rounded(), abs(value) < 1e15 {
            text += String(Int64(value))
        } else {
            text += "\(value)"
        }
    }

    mutating func list<T>(_ values: some Sequence<T>, _ each: (inout JSONWriter, T) -> Void) {
        text += "["
        var first = true
        for value in values {
            if !first { text += "," }
            first = false
            each(&self, value)
        }
        text += "]"
    }
}
