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
        var digits = 0
        var index = bytes.startIndex
        func skipDigits() -> Int {
            var count = 0
            while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index = bytes.index(after: index)
                count += 1
            }
            return count
        }
        digits += skipDigits()
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") {
            index = bytes.index(after: index)
            digits += skipDigits()
        }
        guard digits > 0 else { return nil }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index = bytes.index(after: index)
            if index < bytes.endIndex, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                index = bytes.index(after: index)
            }
            guard skipDigits() > 0 else { return nil }
        }
        guard index == bytes.endIndex else { return nil }
        return Double(text)
    }
}
