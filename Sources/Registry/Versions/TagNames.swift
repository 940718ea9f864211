import Foundation

/// The tag grammar mv writes and reads, shared with GTO (see docs/TAGS.md): every tag name
/// mv writes is made here, and every one it reads is parsed here.
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
            let version = SemanticVersion(tag: String(name[name.index(after: at)...]))
        else { return nil }
        return (model, version)
    }

    /// `churn#production#3`: assigns a stage; the counter is the model's next (GTO's `#N`).
    public static func assignment(_ model: ModelName, stage: String, counter: Int) -> String { "\(model)#\(stage)#\(counter)" }

    /// `churn#production!#4`: unassigns a stage.
    public static func unassignment(_ model: ModelName, stage: String, counter: Int) -> String { "\(model)#\(stage)!#\(counter)" }

    /// `churn@v1.0.0!`: deregisters (deprecates) a version.
    public static func deregistration(_ model: ModelName, _ version: SemanticVersion) -> String { "\(model)@\(version)!" }

    /// Globs matching every registry event tag of `model` (versions, stages, deprecations).
    public static func eventGlobs(_ model: ModelName) -> [String] { ["refs/tags/\(model)@*", "refs/tags/\(model)#*"] }

    /// Evaluation tags: `eval/<model>/<version>/<N>`. GTO ignores this shape (it is neither
    /// `name@version` nor `name#stage`), so the version tag stays the only GTO tag involved.
    /// The evaluation tags of one version of `model`, or of all its versions.
    public static func evaluationGlob(_ model: ModelName, _ version: SemanticVersion?) -> String {
        version.map { "refs/tags/eval/\(model)/\($0)/*" } ?? "refs/tags/eval/\(model)/*"
    }

    public static func evaluation(_ model: ModelName, _ version: SemanticVersion, _ number: Int) -> String {
        "eval/\(model)/\(version)/\(number)"
    }

    public static func parseEvaluation(ref: String) -> (model: ModelName, version: SemanticVersion, number: Int)? {
        parseNumbered(ref: ref, prefix: "eval")
    }

    /// `refs/tags/<prefix>/<model>/<version>/<N>`, the shape of evaluation and monitoring tags.
    static func parseNumbered(ref: String, prefix: String) -> (model: ModelName, version: SemanticVersion, number: Int)? {
        let parts = ref.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "refs", parts[1] == "tags", parts[2] == prefix,
            let model = try? ModelName(String(parts[3])), let version = SemanticVersion(tag: String(parts[4])),
            let number = Int(parts[5]), number > 0
        else { return nil }
        return (model, version, number)
    }

    /// Monitoring tags: `monitor/<model>/<version>/<N>`, a shape GTO ignores, as evaluation tags.
    public static func monitoringGlob(_ model: ModelName, _ version: SemanticVersion?) -> String {
        version.map { "refs/tags/monitor/\(model)/\($0)/*" } ?? "refs/tags/monitor/\(model)/*"
    }

    public static func monitoring(_ model: ModelName, _ version: SemanticVersion, _ number: Int) -> String {
        "monitor/\(model)/\(version)/\(number)"
    }

    public static func parseMonitoring(ref: String) -> (model: ModelName, version: SemanticVersion, number: Int)? {
        parseNumbered(ref: ref, prefix: "monitor")
    }

    /// Parses a tag name (without `refs/tags/`); nil for anything that is not a registry
    /// event of a model mv can name.
    public static func parseEvent(_ name: String) -> (
        model: ModelName, kind: RegistryEvent.Kind, version: SemanticVersion?, stage: String?, counter: Int?
    )? {
        guard let split = name.firstIndex(where: { $0 == "@" || $0 == "#" }),
            let model = try? ModelName(String(name[..<split]))
        else { return nil }
        var rest = Substring(name[split...])
        var counter: Int?
        // A trailing `#N` counter (a stage tag without one is `#stage`, so look past it).
        if let hash = rest.lastIndex(of: "#"), hash != rest.startIndex, let number = Int(rest[rest.index(after: hash)...]),
            rest[rest.index(after: hash)...].allSatisfy(\.isNumber)
        {
            counter = number
            rest = rest[..<hash]
        }
        let cancel = rest.hasSuffix("!")
        if cancel { rest = rest.dropLast() }
        if rest.hasPrefix("@") {
            let body = rest.dropFirst()
            if body == "deprecated" { return cancel ? nil : (model, .deprecation, nil, nil, counter) }
            guard let version = SemanticVersion(tag: String(body)) else { return nil }
            return (model, cancel ? .deregistration : .registration, version, nil, counter)
        }
        let stage = String(rest.dropFirst())
        guard (try? ModelName(stage)) != nil else { return nil }
        return (model, cancel ? .unassignment : .assignment, nil, stage, counter)
    }
}
