import Foundation
import Git
import ModelFormat

/// One registered version, read from its tag.
public struct VersionRecord: Sendable {
    public let model: String
    public let version: SemanticVersion
    public let tag: String
    public let commit: String
    public let date: Date?
    public let author: String?
    /// Headline metrics from the tag's `Metric-<name>:` lines (empty for tags mv did not write).
    public let metrics: [(name: String, value: Double)]
}

/// A model, its newest active version and its stage holders.
public struct ModelSummary: Sendable {
    public let name: String
    public let latest: VersionRecord?
    public let versionCount: Int
    /// Stage name → holder (a version, or a commit id for an unregistered commit).
    public let stages: [String: String]
    public let deprecated: Bool
}

/// `mv show`: a version's manifest and its evaluation reports.
public struct VersionDetails: Sendable {
    public let record: VersionRecord
    public let manifest: Manifest
    public let reports: [(name: String, report: EvaluationReport)]
}

extension Registry {
    /// Every model with a version tag or a folder under the models root at HEAD.
    public func models() throws -> [ModelSummary] {
        var names = Set<ModelName>()
        var refsByModel: [ModelName: [(name: String, target: ObjectID)]] = [:]
        for ref in try repository.references(matching: "refs/tags/*") {
            let name = ref.name.dropFirst("refs/tags/".count)
            guard let parsed = TagNames.parseEvent(String(name)) else { continue }
            refsByModel[parsed.model, default: []].append(ref)
            if parsed.kind == .registration { names.insert(parsed.model) }
        }
        if let head = try repository.head().target,
            let root = try repository.tree(repository.commit(head).treeID).entry(atPath: config.modelsRoot), root.isTree
        {
            for entry in try repository.tree(root.id).entries where entry.isTree {
                if let name = try? ModelName(entry.name) { names.insert(name) }
            }
        }
        return try names.sorted().map { name in
            let state = try state(of: name, tagRefs: refsByModel[name] ?? [])
            let latest = try state.latest.map { try versionRecord(name, $0) }
            return ModelSummary(
                name: name.value, latest: latest, versionCount: state.allVersions.count,
                stages: state.holders.mapValues(\.label), deprecated: state.deprecated)
        }
    }

    /// Versions of `model`, newest first.
    public func versions(of name: String) throws -> [VersionRecord] {
        let model = try ModelName(name)
        let refs = try repository.referenceNames(matching: TagNames.versionGlob(model)).compactMap { ref in
            TagNames.parseVersion(ref: ref).flatMap { $0.model == model ? ($0.version, ref) : nil }
        }
        guard !refs.isEmpty else { throw try unknownModel(model) }
        return try refs.sorted { $0.0 > $1.0 }.map { try record(model: model, version: $0.0, ref: $0.1) }
    }

    /// `mv show`: resolves any version reference and reads its folder from Git.
    public func details(_ reference: String, model hint: String? = nil) throws -> VersionDetails {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let record: VersionRecord
        if let version = resolved.version {
            record = try self.record(model: resolved.model, version: version, ref: TagNames.versionRef(resolved.model, version))
        } else {
            let commit = try repository.commit(resolved.commit)
            record = VersionRecord(
                model: resolved.model.value, version: SemanticVersion(major: 0), tag: "", commit: resolved.commit.description,
                date: commit.committer.time, author: commit.author.name, metrics: [])
        }
        return VersionDetails(record: record, manifest: content.manifest, reports: try allReports(content))
    }

    func record(model: ModelName, version: SemanticVersion, ref: String) throws -> VersionRecord {
        guard let target = try repository.referenceTarget(ref) else { throw MVError("tag '\(ref)' vanished while reading it") }
        if let tag = try repository.annotatedTag(target) {
            return VersionRecord(
                model: model.value, version: version, tag: tag.name, commit: tag.targetID.description,
                date: tag.tagger?.time, author: tag.tagger?.name, metrics: Trailers.parse(tag.message).metrics)
        }
        let commit = try repository.commit(target)
        return VersionRecord(
            model: model.value, version: version, tag: TagNames.version(model, version), commit: target.description,
            date: commit.committer.time, author: commit.author.name, metrics: [])
    }
}
