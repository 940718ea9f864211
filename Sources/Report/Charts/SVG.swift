import Foundation

/// SVG text written element by element, every attribute value and text escaped.
public struct SVG: Sendable {
    public private(set) var text = ""

    public init() {}

    public static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }

    /// Numbers with at most two decimals: pixels need no more, and the file stays small.
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 100).rounded() / 100
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }

    public mutating func open(_ name: String, _ attributes: [(String, String)] = []) {
        text += "<\(name)" + Self.attributes(attributes) + ">"
    }

    public mutating func close(_ name: String) { text += "</\(name)>" }

    public mutating func element(_ name: String, _ attributes: [(String, String)], content: String? = nil) {
        if let content {
            text += "<\(name)" + Self.attributes(attributes) + ">" + Self.escape(content) + "</\(name)>"
        } else {
            text += "<\(name)" + Self.attributes(attributes) + "/>"
        }
    }

    static func attributes(_ pairs: [(String, String)]) -> String {
        pairs.map { " \($0.0)=\"\(escape($0.1))\"" }.joined()
    }
}

/// Okabe and Ito's eight colours, told apart with every common colour-vision deficiency;
/// black is kept for axes and text.
public enum Palette {
    public static let colors = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]

    public static func color(_ index: Int) -> String { colors[index % colors.count] }
}
