import Foundation

/// The subset of Python literals an .npy header dict can contain. numpy reads the header with
/// `ast.literal_eval`, so we parse the same grammar rather than pattern-matching numpy's own
/// spelling, which other writers do not always follow.
indirect enum NpyPythonLiteral: Equatable {
    case string(String)
    case int(Int)
    case bool(Bool)
    case none
    case tuple([NpyPythonLiteral])
    case list([NpyPythonLiteral])
    case dict([(key: NpyPythonLiteral, value: NpyPythonLiteral)])

    static func == (lhs: NpyPythonLiteral, rhs: NpyPythonLiteral) -> Bool {
        switch (lhs, rhs) {
        case (.string(let a), .string(let b)): return a == b
        case (.int(let a), .int(let b)): return a == b
        case (.bool(let a), .bool(let b)): return a == b
        case (.none, .none): return true
        case (.tuple(let a), .tuple(let b)), (.list(let a), .list(let b)): return a == b
        case (.dict(let a), .dict(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// Parses exactly one literal; anything but whitespace after it is an error.
    static func parse(_ text: String) throws(NpyLiteralSyntaxError) -> NpyPythonLiteral {
        var parser = NpyLiteralParser(scalars: Array(text.unicodeScalars))
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.position < parser.scalars.count {
            throw parser.error("unexpected text after the dict")
        }
        return value
    }
}

struct NpyLiteralSyntaxError: Error {
    let message: String
}

private struct NpyLiteralParser {
    let scalars: [Unicode.Scalar]
    var position = 0

    func error(_ message: String) -> NpyLiteralSyntaxError {
        // At the end, what was expected matters less than the fact that the dict never closed.
        if position >= scalars.count { return NpyLiteralSyntaxError(message: "the header ends before the dict is closed") }
        return NpyLiteralSyntaxError(message: "\(message) at character \(position)")
    }

    var current: Unicode.Scalar? { position < scalars.count ? scalars[position] : nil }

    mutating func skipWhitespace() {
        while let c = current, c == " " || c == "\t" || c == "\n" || c == "\r" || c == "\u{0C}" {
            position += 1
        }
    }

    mutating func parseValue() throws(NpyLiteralSyntaxError) -> NpyPythonLiteral {
        skipWhitespace()
        guard let c = current else { throw error("expected a value") }
        switch c {
        case "{": return try parseDict()
        case "(": return try parseTupleOrGroup()
        case "[":
            position += 1
            return .list(try parseSequence(closing: "]").items)
        case "'", "\"": return .string(try parseString())
        case "-", "+", "0"..."9": return .int(try parseInt())
        default:
            if c.properties.isAlphabetic || c == "_" { return try parseName() }
            throw error("unexpected character '\(c)'")
        }
    }

    mutating func parseDict() throws(NpyLiteralSyntaxError) -> NpyPythonLiteral {
        position += 1
        var entries: [(key: NpyPythonLiteral, value: NpyPythonLiteral)] = []
        while true {
            skipWhitespace()
            if current == "}" {
                position += 1
                return .dict(entries)
            }
            let key = try parseValue()
            skipWhitespace()
            guard current == ":" else { throw error("expected ':' after a dict key") }
            position += 1
            let value = try parseValue()
            entries.append((key, value))
            skipWhitespace()
            if current == "," {
                position += 1
                continue
            }
            if current == "}" {
                position += 1
                return .dict(entries)
            }
            throw error("expected ',' or '}' in the dict")
        }
    }

    /// `(3)` is just 3 in Python; only a comma (or `()`) makes a tuple.
    mutating func parseTupleOrGroup() throws(NpyLiteralSyntaxError) -> NpyPythonLiteral {
        position += 1
        let (items, sawComma) = try parseSequence(closing: ")")
        if items.count == 1 && !sawComma { return items[0] }
        return .tuple(items)
    }

    mutating func parseSequence(closing: Unicode.Scalar) throws(NpyLiteralSyntaxError) -> (items: [NpyPythonLiteral], sawComma: Bool) {
        var items: [NpyPythonLiteral] = []
        var sawComma = false
        while true {
            skipWhitespace()
            if current == closing {
                position += 1
                return (items, sawComma)
            }
            items.append(try parseValue())
            skipWhitespace()
            if current == "," {
                position += 1
                sawComma = true
                continue
            }
            if current == closing {
                position += 1
                return (items, sawComma)
            }
            throw error("expected ',' or '\(closing)'")
        }
    }

    mutating func parseString() throws(NpyLiteralSyntaxError) -> String {
        guard let quote = current else { throw error("expected a string") }
        position += 1
        var result = String.UnicodeScalarView()
        while let c = current {
            position += 1
            if c == quote { return String(result) }
            if c == "\n" { break }
            if c == "\\" {
                guard let escaped = current else { break }
                position += 1
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                case "r": result.append("\r")
                case "0": result.append("\0")
                default: result.append(escaped)
                }
            } else {
                result.append(c)
            }
        }
        throw error("unterminated string")
    }

    mutating func parseInt() throws(NpyLiteralSyntaxError) -> Int {
        var text = ""
        if let sign = current, sign == "-" || sign == "+" {
            text.unicodeScalars.append(sign)
            position += 1
            skipWhitespace()
        }
        var digits = 0
        while let c = current, ("0"..."9").contains(c) || c == "_" {
            if c != "_" {
                text.unicodeScalars.append(c)
                digits += 1
            }
            position += 1
        }
        // Python 2 era numpy wrote long dimensions as `3L`.
        if current == "L" || current == "l" { position += 1 }
        guard digits > 0 else { throw error("expected digits") }
        guard let value = Int(text) else { throw error("integer '\(text)' is too large") }
        return value
    }

    mutating func parseName() throws(NpyLiteralSyntaxError) -> NpyPythonLiteral {
        let start = position
        while let c = current, c.properties.isAlphabetic || c == "_" || ("0"..."9").contains(c) {
            position += 1
        }
        let name = String(String.UnicodeScalarView(scalars[start..<position]))
        switch name {
        case "True": return .bool(true)
        case "False": return .bool(false)
        case "None": return .none
        default:
            position = start
            throw error("unexpected name '\(name)'")
        }
    }
}
