import ModelFormat

/// Request bodies are read by ModelFormat's `OrderedJSON` (also the safetensors header
/// reader): numbers keep their literal text, so a cell reaches the feature schema spelled as
/// the client sent it, exactly as a CSV cell would.
typealias JSON = OrderedJSON

extension OrderedJSON {
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

    /// Parses a request body; a failure is the client's 400, naming the byte.
    static func parse(_ bytes: UnsafeRawBufferPointer) throws(ServeError) -> JSON {
        try parseBody(Array(bytes))
    }

    static func parse(string: String) throws(ServeError) -> JSON {
        try parseBody(Array(string.utf8))
    }

    private static func parseBody(_ bytes: [UInt8]) throws(ServeError) -> JSON {
        do {
            return try OrderedJSON.parse(bytes)
        } catch {
            throw .badRequest("malformed JSON: \(error.message)")
        }
    }

    /// Whether `text` is a number as JSON spells one (so it can be written unquoted).
    static func isNumber(_ text: String) -> Bool {
        guard let first = text.utf8.first, first == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first),
            case .number? = try? OrderedJSON.parse(Array(text.utf8))
        else { return false }
        return true
    }
}

/// Builds a JSON response body by appending, numbers printed so they read back exactly.
struct JSONWriter {
    var text = ""

    mutating func raw(_ part: String) { text += part }

    mutating func string(_ value: String) {
        text += OrderedJSON.quoted(value)
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
