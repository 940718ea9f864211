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

/// A model and its newest version.
public struct ModelSummary: Sendable {
    public let name: String
    public let latest: VersionRecord?
    public let versionCount: Int
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
        var byModel: [ModelName: [(SemanticVersion, String)]] = [:]
        for ref in try repository.referenceNames(matching: TagNames.allVersionsGlob) {
            if let parsed = TagNames.parseVersion(ref: ref) { byModel[parsed.model, default: []].append((parsed.version, ref)) }
        }
        if let head = try repository.head().target,
           let root = try repository.tree(repository.commit(head).treeID).entry(atPath: config.modelsRoot), root.isTree {
            for entry in try repository.tree(root.id).entries where entry.isTree {
                if let name = try? ModelName(entry.name), byModel[name] == nil { byModel[name] = [] }
            }
        }
        return try byModel.keys.sorted().map { name in
            let versions = byModel[name] ?? []
            let latest = try versions.max { $0.0 < $1.0 }.map { try record(model: name, version: $0.0, ref: $0.1) }
            return ModelSummary(name: name.value, latest: latest, versionCount: versions.count)
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
            record = VersionRecord(model: resolved.model.value, version: SemanticVersion(major: 0), tag: "", commit: resolved.commit.description,
                                   date: commit.committer.time, author: commit.author.name, metrics: [])
        }
        return VersionDetails(record: record, manifest: content.manifest, reports: try allReports(content))
    }

    private func record(model: ModelName, version: SemanticVersion, ref: String) throws -> VersionRecord {
        guard let target = try repository.referenceTarget(ref) else { throw MVError("tag '\(ref)' vanished while reading it") }
        if let tag = try repository.annotatedTag(target) {
            return VersionRecord(model: model.value, version: version, tag: tag.name, commit: tag.targetID.description,
                                 date: tag.tagger?.time, author: tag.tagger?.name, metrics: Self.metricTrailers(tag.message))
        }
        let commit = try repository.commit(target)
        return VersionRecord(model: model.value, version: version, tag: TagNames.version(model, version), commit: target.description,
                             date: commit.committer.time, author: commit.author.name, metrics: [])
    }

    static func metricTrailers(_ message: String) -> [(name: String, value: Double)] {
        message.split(separator: "\n").compactMap { line in
            guard line.hasPrefix("Metric-"), let colon = line.firstIndex(of: ":") else { return nil }
            let name = line[line.index(line.startIndex, offsetBy: 7)..<colon]
            guard let value = Double(line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)) else { return nil }
            return (String(name), value)
        }
    }

}

