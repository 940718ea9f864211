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

extension Registry {
    /// The model a new version is for, refusing a first version under a name that the
    /// resolution of `mv show NAME` would confuse with something else: a revision git
    /// reserves (`HEAD`, `ORIG_HEAD`…), a branch or tag of this repository, a version
    /// shorthand (`v3`), or a number. A model that already has versions keeps its name.
    func modelToRegister(_ raw: String) throws -> ModelName {
        let model = try ModelName(raw)
        guard try versionNumbers(of: model).isEmpty else { return model }
        let name = model.value
        var clash: String?
        if name == "HEAD" || name.hasSuffix("_HEAD") {
            clash = "git's name for a revision"
        } else if name.allSatisfy(\.isNumber) {
            clash = "a number"
        } else if (try? SemanticVersion(userInput: name)) != nil {
            clash = "a version (v\(name.dropFirst()) of the only model)"
        } else if try repository.referenceTarget("refs/heads/\(name)") != nil {
            clash = "a branch of this repository"
        } else if name == "main" || name == "master" {
            clash = "the usual name of a branch"
        } else if try repository.referenceTarget("refs/tags/\(name)") != nil {
            clash = "a tag of this repository"
        }
        guard let clash else { return model }
        throw MVError(
            "cannot name a model '\(name)': that is also \(clash), so 'mv show \(name)' would be ambiguous",
            hint: "choose another name, e.g. '\(name)-model'")
    }
}
