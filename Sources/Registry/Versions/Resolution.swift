import Foundation
import Git
import ModelFormat

/// A reference to one model version, resolved to the commit that holds it.
public struct ResolvedVersion: Sendable {
    public let model: ModelName
    /// The registered version, nil for a plain revision that no version tag names.
    public let version: SemanticVersion?
    public let commit: ObjectID
    /// How the user named it, for messages.
    public let spelled: String

    public var label: String { version.map { "\(model)@\($0)" } ?? "\(model) at \(commit.short)" }
}

extension Registry {
    /// Resolves what a user types to a model version:
    /// `churn@v3`, `churn@v3.1.0`, `churn@latest`, `churn` (latest), `churn#production`
    /// (the stage's current holder), `v3` (when the repository holds one model or `model`
    /// is given), or any Git revision (`HEAD~2`, a commit id, a tag) whose tree holds a
    /// model folder.
    public func resolve(_ text: String, model hint: String? = nil) throws -> ResolvedVersion {
        let hinted = try hint.map(ModelName.init)
        if let hash = text.firstIndex(of: "#"), text.firstIndex(of: "@") == nil {
            let model = try ModelName(String(text[..<hash]))
            let stage = String(text[text.index(after: hash)...])
            guard let holder = try stageHolder(model: model, stage: stage) else {
                throw MVError("no version of '\(model)' holds stage '\(stage)'", hint: "see 'mv history \(model)'")
            }
            return try resolveVersion(model, holder, spelled: text)
        }
        if let at = text.firstIndex(of: "@") {
            let model = try ModelName(String(text[..<at]))
            let versionText = String(text[text.index(after: at)...])
            if versionText == "latest" { return try latest(of: model, spelled: text) }
            return try resolveVersion(model, try SemanticVersion(userInput: versionText), spelled: text)
        }
        if let model = try? ModelName(text), try !versionNumbers(of: model).isEmpty {
            return try latest(of: model, spelled: text)
        }
        if let version = try? SemanticVersion(userInput: text), text.hasPrefix("v") {
            let model = try hinted ?? soleModel(for: text)
            return try resolveVersion(model, version, spelled: text)
        }
        // A plain Git revision: find the model folder in its tree.
        let commit: ObjectID
        do {
            commit = try repository.resolveCommit(text)
        } catch {
            if hinted == nil, (try? ModelName(text)) != nil {
                throw try unknownModel(ModelName(text))
            }
            throw MVError(
                "unknown version or revision '\(text)'",
                hint: "use model@vN (e.g. churn@v2), model#stage, model@latest, or a Git revision")
        }
        let model = try hinted ?? soleModel(in: commit, for: text)
        let versions = try repository.referenceNames(matching: TagNames.versionGlob(model)).compactMap { ref -> SemanticVersion? in
            guard let parsed = TagNames.parseVersion(ref: ref), parsed.model == model,
                (try? repository.resolveCommit(String(ref.dropFirst("refs/tags/".count)))) == commit
            else { return nil }
            return parsed.version
        }
        return ResolvedVersion(model: model, version: versions.max(), commit: commit, spelled: text)
    }

    /// The highest version that is not deprecated, as GTO's "latest".
    private func latest(of model: ModelName, spelled: String) throws -> ResolvedVersion {
        guard let newest = try state(of: model).latest else {
            if try versionNumbers(of: model).isEmpty { throw try unknownModel(model) }
            throw MVError("every version of '\(model)' is deprecated", hint: "train a new one, or name a version explicitly")
        }
        return try resolveVersion(model, newest, spelled: spelled)
    }

    func resolveVersion(_ model: ModelName, _ version: SemanticVersion, spelled: String) throws -> ResolvedVersion {
        let tag = TagNames.version(model, version)
        guard try repository.referenceTarget("refs/tags/" + tag) != nil else {
            let known = try versionNumbers(of: model).sorted()
            if known.isEmpty { throw try unknownModel(model) }
            throw MVError(
                "'\(model)' has no version \(version)", hint: "known versions: \(known.map(\.description).joined(separator: ", "))")
        }
        return ResolvedVersion(model: model, version: version, commit: try repository.resolveCommit(tag), spelled: spelled)
    }

    /// What a command without a version argument acts on: the latest version of `model`, or
    /// of the only model.
    public func defaultReference(model: String?) throws -> String {
        if let model { return "\(model)@latest" }
        return "\(try soleModel(for: "the latest version"))@latest"
    }

    /// The only model with versions, for `v3` without a model name.
    func soleModel(for text: String) throws -> ModelName {
        let models = Set(
            try repository.referenceNames(matching: TagNames.allVersionsGlob).compactMap { TagNames.parseVersion(ref: $0)?.model })
        guard models.count == 1, let only = models.first else {
            if models.isEmpty {
                throw MVError(
                    "no model has versions yet, so '\(text)' names nothing", hint: "train one with 'mv train <model> --data … --target …'")
            }
            let names = models.map(\.value).sorted()
            throw MVError(
                "'\(text)' is ambiguous: this repository holds \(names.count) models (\(names.joined(separator: ", ")))",
                hint: "name one: --model \(names[0]) or \(names[0])@\(text)")
        }
        return only
    }

    private func soleModel(in commit: ObjectID, for text: String) throws -> ModelName {
        let tree = try repository.tree(repository.commit(commit).treeID)
        guard let root = try tree.entry(atPath: config.modelsRoot), root.isTree else {
            throw MVError("revision '\(text)' has no \(config.modelsRoot)/ folder")
        }
        let names = try repository.tree(root.id).entries.filter(\.isTree).compactMap { try? ModelName($0.name) }
        guard names.count == 1, let only = names.first else {
            throw MVError("revision '\(text)' holds \(names.count) models; say which with --model")
        }
        return only
    }

    func unknownModel(_ model: ModelName) throws -> MVError {
        let known = Set(
            try repository.referenceNames(matching: TagNames.allVersionsGlob).compactMap { TagNames.parseVersion(ref: $0)?.model.value })
        // A clone that never fetched tags (a shallow clone, `--no-tags`) has the model
        // folders but none of the versions.
        let fetched = try repository.isShallow || !repository.referenceNames(matching: "refs/remotes/*").isEmpty
        return MVError(
            "unknown model '\(model)': it has no versions" + (known.isEmpty && fetched ? " in this clone, which has no version tags" : ""),
            hint: known.isEmpty
                ? (fetched ? "fetch the tags: git fetch --tags" : "train one with 'mv train \(model) --data train.csv --target y'")
                : "known models: \(known.sorted().joined(separator: ", "))")
    }
}
