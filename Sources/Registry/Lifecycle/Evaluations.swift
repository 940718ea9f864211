import Foundation
import Git
import ModelFormat

/// One `mv eval` run, read from its evaluation tag.
public struct EvaluationRecord: Sendable {
    public let model: String
    public let version: SemanticVersion
    public let number: Int
    public let tag: String
    public let name: String
    public let commit: String
    public let date: Date?
    public let author: String?
    public let reportPath: String?
}

extension Registry {
    /// Evaluations of `model` (of one version, or all), oldest first, from their tags.
    public func evaluations(of model: ModelName, version: SemanticVersion? = nil) throws -> [EvaluationRecord] {
        let glob = TagNames.evaluationGlob(model, version)
        return try tagRefs(matching: glob).compactMap { ref, target -> EvaluationRecord? in
            guard let parsed = TagNames.parseEvaluation(ref: ref), parsed.model == model,
                let tag = try repository.annotatedTag(target)
            else { return nil }
            let fields = Trailers.parse(tag.message)
            return EvaluationRecord(
                model: model.value, version: parsed.version, number: parsed.number, tag: tag.name,
                name: fields["Evaluation"] ?? "?", commit: tag.targetID.description, date: tag.tagger?.time,
                author: tag.tagger.map { "\($0.name) <\($0.email)>" }, reportPath: fields["Report"])
        }.sorted { ($0.version, $0.number) < ($1.version, $1.number) }
    }

    /// The report an evaluation tag points at.
    public func report(of record: EvaluationRecord) throws -> EvaluationReport? {
        guard let path = record.reportPath, let commit = ObjectID(hex: record.commit), let text = try text(at: path, in: commit)
        else { return nil }
        do {
            return try EvaluationReport.parse(text, source: path)
        } catch {
            throw MVError("\(error)")
        }
    }

    /// Every report that speaks for a version: those in its own folder (the hold-out from
    /// training) and, per name, the newest `mv eval` run, which wins over an older one.
    public func allReports(_ content: VersionContent) throws -> [(name: String, report: EvaluationReport)] {
        var reports = content.reports.filter { $0.report.version == content.manifest.version }
        guard let version = content.resolved.version else { return reports }
        for record in try evaluations(of: content.resolved.model, version: version) {
            guard let report = try report(of: record) else { continue }
            reports.removeAll { $0.name == record.name }
            reports.append((record.name, report))
        }
        return reports
    }

    /// A file of a commit's tree as text, nil when the commit has no file there.
    func text(at path: String, in commit: ObjectID) throws -> String? {
        try bytes(at: path, in: commit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file of a commit's tree, nil when the commit has no file there.
    func bytes(at path: String, in commit: ObjectID) throws -> Data? {
        guard let entry = try repository.tree(repository.commit(commit).treeID).entry(atPath: path), !entry.isTree else { return nil }
        return try repository.objects.readBlob(entry.id)
    }
}
