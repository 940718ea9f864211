import Foundation
import Git
import ModelFormat
import SystemIO

extension Registry {
    /// Forward-only rollback: a new commit restoring the model folder exactly as it was at
    /// the target version, and the stage assigned back to that version. No history is
    /// rewritten; no tag is moved or deleted.
    public func rollback(model name: String, to target: String?, stage: String, reason: String?, force: Bool) throws -> StageResult {
        let model = try ModelName(name)
        try checkStage(stage)
        let state = try state(of: model)
        let current = state.holders[stage]
        let version: SemanticVersion
        if let target {
            let resolved = try resolve(target.contains("@") || target.contains("#") ? target : "\(model)@\(target)", model: model.value)
            version = try registeredVersion(resolved, action: "roll back to")
        } else {
            guard let current else {
                throw MVError(
                    "no version of '\(model)' holds stage '\(stage)', so there is nothing to roll back",
                    hint: "name the version: mv rollback \(model) --to v2 --stage \(stage)")
            }
            let earlier = state.events.reversed().first { event in
                event.kind == .assignment && event.stage == stage && event.commit != current.commit
                    && state.versionCommits.first { $0.value == event.commit }.map { state.isActive($0.key) } == true
            }
            guard let earlier, let previous = state.versionCommits.first(where: { $0.value == earlier.commit })?.key else {
                throw MVError(
                    "'\(model)' has no earlier holder of stage '\(stage)' to roll back to",
                    hint: "name the version: mv rollback \(model) --to v1 --stage \(stage)")
            }
            version = previous
        }
        guard state.isActive(version), let commit = state.versionCommits[version] else {
            throw MVError("\(model)@\(version) is deprecated; roll back to an active version")
        }
        if current?.version == version {
            throw MVError("\(model)@\(version) already holds '\(stage)'; nothing to roll back")
        }
        let resolved = ResolvedVersion(model: model, version: version, commit: commit, spelled: "\(model)@\(version)")
        // Relative rules are skipped: stepping back from a broken holder is the point of a rollback.
        let report = try gate(resolved, stage: stage, holderState: state, skipRelative: true)
        let overrides = try checkGate(report, action: "roll '\(stage)' of \(model) back to \(version)", force: force, reason: reason)
        let content = try content(of: resolved)
        let folder = folder(of: model)
        let files = try folderFiles(content.folderTree).map {
            StagedFile(path: "\(folder)/\($0.0)", blob: $0.1.id, mode: $0.1.mode, source: nil)
        }
        var extra = Trailers()
        extra.append("Rollback-From", current?.label ?? "none")
        extra.append("Rollback-To", version.description)
        extra.append(overrides)
        let published = try publishStageEvent(
            model: model, kind: .assignment, stage: stage, version: version, commit: commit,
            reason: reason, reflogPrefix: "mv rollback",
            summary: "Roll back \(model) \(stage) to \(version)" + (current.map { " (from \($0.label))" } ?? ""),
            extra: extra, restoring: (folder, files), force: force)
        var result = StageResult(
            model: model.value, version: version.description, stage: stage, tag: published.tagName,
            commit: published.commit.description, previous: current?.label)
        result.gate = report
        return result
    }
}
