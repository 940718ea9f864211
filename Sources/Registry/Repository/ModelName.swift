import Foundation

/// A validated model name: letters, digits, '-' and '_', starting and ending with a letter
/// or digit. That is GTO's artifact-name rule without '/', so a name is always a single
/// folder and a valid tag prefix.
public struct ModelName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String

    public static let rule = "letters, digits, '-' and '_', starting and ending with a letter or digit, at most 100 characters"

    public init(_ raw: String) throws {
        let allowed = raw.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII && (CharacterSet.alphanumerics.contains(scalar) || scalar == "-" || scalar == "_")
        }
        let edgesOK =
            raw.first.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
            && raw.last.map { $0.isASCII && ($0.isLetter || $0.isNumber) } == true
        guard !raw.isEmpty, raw.count <= 100, allowed, edgesOK else {
            throw MVError("invalid model name '\(raw)': use \(ModelName.rule)")
        }
        value = raw
    }

    public var description: String { value }
    public static func < (lhs: ModelName, rhs: ModelName) -> Bool { lhs.value < rhs.value }
}
