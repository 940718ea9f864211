import Foundation
import Git
import ModelFormat

/// One line of `mv history`.
public struct HistoryEntry: Sendable {
    public let time: Date
    public let event: String
    public let version: String?
    public let stage: String?
    public let tag: String
    public let commit: String
    public let author: String?
    public let detail: String
}

extension Registry {
    /// The model's event journal, newest first: versions, evaluations, promotions,
    /// demotions, deprecations and rollbacks, all read from tags.
    public func history(of name: String) throws -> [HistoryEntry] {
        let model = try ModelName(name)
        let state = try state(of: model)
        let evaluations = try evaluations(of: model)
        guard !state.events.isEmpty || !evaluations.isEmpty else { throw try unknownModel(model) }
        let versionAt = Dictionary(state.versionCommits.map { ($0.value, $0.key) }, uniquingKeysWith: { max($0, $1) })
        var entries = state.events.map { event -> HistoryEntry in
            let fields = Trailers.parse(event.message)
            let metrics = fields.metrics.map { "\($0.name) \(Self.formatMetric($0.value))" }.joined(separator: ", ")
            var kind = event.kind.rawValue
            var detail = fields["Reason"] ?? ""
            switch event.kind {
            case .registration: detail = metrics
            case .assignment where fields["Rollback-From"] != nil:
                kind = "rollback"
                detail = "from \(fields["Rollback-From"] ?? "?")" + (detail.isEmpty ? "" : "; \(detail)")
            default: break
            }
            return HistoryEntry(
                time: event.time, event: kind, version: (event.version ?? versionAt[event.commit])?.description ?? event.commit.description,
                stage: event.stage, tag: event.tag, commit: event.commit.description, author: event.tagger, detail: detail)
        }
        entries += evaluations.map { record in
            HistoryEntry(
                time: record.date ?? .distantPast, event: "evaluation", version: record.version.description, stage: nil,
                tag: record.tag, commit: record.commit, author: record.author, detail: record.name)
        }
        entries += try monitoringRecords(of: model).map { record in
            let share = record.fields["Drift-Share"].map { "drift share \($0)" }
            let verdict = record.fields["Verdict"]
            return HistoryEntry(
                time: record.date ?? .distantPast, event: "monitoring", version: record.version.description, stage: nil,
                tag: record.tag, commit: record.commit, author: record.author,
                detail: ([record.name] + [share, verdict].compactMap { $0 }).joined(separator: ", "))
        }
        return entries.enumerated().sorted { a, b in
            a.element.time != b.element.time ? a.element.time > b.element.time : a.offset > b.offset
        }.map(\.element)
    }
}
