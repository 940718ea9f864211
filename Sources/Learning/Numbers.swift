import Foundation

/// How a cell of a CSV file is read as a number: decimal notation only — an optional sign,
/// digits with an optional fraction, an optional exponent — plus `nan` and `inf`/`infinity`
/// (which callers refuse by name). Swift's `Double(String)` also takes hexadecimal (`0x10`
/// is 16) and is what C's strtod accepts; a data file meaning 16 would not write `0x10`.
public enum Number {
    public static func parse(_ text: String) -> Double? {
        var bytes = text.utf8[...]
        guard !bytes.isEmpty else { return nil }
        if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let lowered = String(decoding: bytes, as: UTF8.self).lowercased()
        if lowered == "nan" || lowered == "inf" || lowered == "infinity" { return Double(text) }
        var copy = text
        return copy.withUTF8 { decimal($0) }
    }

    private static let powers: [Double] = (0...22).map { Foundation.pow(10, Double($0)) }

    /// Decimal notation only, from bytes (no nan or inf): nil for anything else. Exact: up to
    /// 15 significant digits and a power of ten up to 22 are computed directly (correctly
    /// rounded, as both are exact doubles), the rest by Swift's parser.
    public static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        let n = bytes.count
        guard n > 0 else { return nil }
        var i = 0
        var negative = false
        if bytes[0] == 43 || bytes[0] == 45 {
            negative = bytes[0] == 45
            i = 1
        }
        var mantissa: UInt64 = 0
        var digits = 0
        var significant = 0
        var scale = 0
        while i < n, bytes[i] &- 48 < 10 {
            if significant > 0 || bytes[i] != 48 { significant += 1 }
            if significant <= 19 { mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48) } else { scale += 1 }
            digits += 1
            i += 1
        }
        if i < n, bytes[i] == 46 {
            i += 1
            while i < n, bytes[i] &- 48 < 10 {
                if significant > 0 || bytes[i] != 48 { significant += 1 }
                if significant <= 19 {
                    mantissa = mantissa &* 10 &+ UInt64(bytes[i] &- 48)
                    scale -= 1
                }
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < n, bytes[i] == 101 || bytes[i] == 69 {
            i += 1
            var exponentNegative = false
            if i < n, bytes[i] == 43 || bytes[i] == 45 {
                exponentNegative = bytes[i] == 45
                i += 1
            }
            var exponent = 0
            var exponentDigits = 0
            while i < n, bytes[i] &- 48 < 10 {
                if exponent < 100_000 { exponent = exponent * 10 + Int(bytes[i] &- 48) }
                exponentDigits += 1
                i += 1
            }
            guard exponentDigits > 0 else { return nil }
            scale += exponentNegative ? -exponent : exponent
        }
        guard i == n else { return nil }
        if significant <= 15, Swift.abs(scale) <= 22 {
            let value = scale < 0 ? Double(mantissa) / powers[-scale] : Double(mantissa) * powers[scale]
            return negative ? -value : value
        }
        return Double(String(decoding: bytes, as: UTF8.self))
    }
}
