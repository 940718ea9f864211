import Foundation

/// The tag grammar mv writes and reads, shared with GTO (see docs/TAGS.md).
public enum TagNames {
    public static func version(_ model: ModelName, _ version: SemanticVersion) -> String { "\(model)@\(version)" }

    public static func versionRef(_ model: ModelName, _ version: SemanticVersion) -> String {
        "refs/tags/" + self.version(model, version)
    }

    /// Glob matching every version tag of `model` (and, harmlessly, a few non-version tags
    /// that `parseVersion` then rejects).
    public static func versionGlob(_ model: ModelName) -> String { "refs/tags/\(model)@v*" }
    public static let allVersionsGlob = "refs/tags/*@v*"

    /// Splits `refs/tags/churn@v1.2.3` into its model and version; nil for anything else,
    /// including GTO's deregistration tags (`churn@v1.2.3!`).
    public static func parseVersion(ref: String) -> (model: ModelName, version: SemanticVersion)? {
        guard ref.hasPrefix("refs/tags/") else { return nil }
        let name = ref.dropFirst("refs/tags/".count)
        guard let at = name.lastIndex(of: "@"),
              let model = try? ModelName(String(name[..<at])),
              let version = SemanticVersion(tag: String(name[name.index(after: at)...])) else { return nil }
        return (model, version)
    }
}
