import Foundation
import Git
import ModelFormat

/// A stage change that landed.
public struct StageResult: Sendable {
    public let model: String
    public let version: String
    public let stage: String
    /// The tag written; nil when nothing needed to change.
    public let tag: String?
    public let commit: String?
    public let previous: String?
    /// The gate that was checked (promotions and rollbacks).
    public var gate: GateReport? = nil
}

/// What `mv promote` needs.
public struct PromoteRequest: Sendable {
    public var reference: String
    public var model: String?
    public var stage = "production"
    public var reason: String?
    /// Promote despite a failed gate, where the gate allows it; needs a reason.
    public var force = false

    public init(reference: String) { self.reference = reference }
}

extension Registry {
    /// Assigns `stage` to a version: an annotated `<model>#<stage>#N` tag on the version's
    /// commit (N allocated under compare-and-swap) and a commit updating the model's stages
    /// file, so `git log -p` shows who promoted what and when.
    public func promote(_ request: PromoteRequest) throws -> StageResult {
        let resolved = try resolve(request.reference, model: request.model)
        let version = try registeredVersion(resolved, action: "promote")
        try checkStage(request.stage)
        let state = try state(of: resolved.model)
        guard state.isActive(version) else {
            throw MVError("\(resolved.model)@\(version) is deprecated ('\(resolved.model)@\(version)!'); it cannot be promoted",
                          hint: "promote another version; see 'mv log \(resolved.model)'")
        }
        let previous = state.holders[request.stage]
        if previous?.version == version {
            return StageResult(model: resolved.model.value, version: version.description, stage: request.stage, tag: nil, commit: nil,
                               previous: version.description)
        }
        let report = try gate(resolved, stage: request.stage, holderState: state, skipRelative: false)
        let overrides = try checkGate(report, action: "promote \(resolved.model)@\(version) to '\(request.stage)'", force: request.force,
                                      reason: request.reason)
        let metrics = try versionRecord(resolved.model, version).metrics
        let published = try publishStageEvent(model: resolved.model, kind: .assignment, stage: request.stage, version: version,
                                              commit: resolved.commit, reason: request.reason, reflogPrefix: "mv promote") { signature in
            let metricLines = metrics.map { "Metric-\($0.name): \(YAMLValue.format($0.value))" }
            return (summary: "Promote \(resolved.model) \(version) to \(request.stage)"
                        + (previous.map { " (was \($0.label))" } ?? ""),
                    extra: metricLines + overrides)
        }
        var result = StageResult(model: resolved.model.value, version: version.description, stage: request.stage, tag: published.tagName,
                                 commit: published.commit.description, previous: previous?.label)
        result.gate = report
        return result
    }

    /// Unassigns `stage` from the version holding it (`<model>#<stage>!#N`); the stage
    /// falls back to the previous holder, as in GTO.
    public func demote(_ reference: String, model hint: String?, stage: String, reason: String?) throws -> StageResult {
        try checkStage(stage)
        let model: ModelName
        let version: SemanticVersion
        let commit: ObjectID
        if let name = try? ModelName(reference), try !versionNumbers(of: name).isEmpty, hint == nil {
            // A bare model name: demote whatever holds the stage.
            model = name
            guard let holder = try state(of: model).holders[stage], let held = holder.version else {
                throw MVError("no version of '\(model)' holds stage '\(stage)'", hint: "see 'mv list' for stage holders")
            }
            version = held
            commit = holder.commit
        } else {
            let resolved = try resolve(reference, model: hint)
            model = resolved.model
            version = try registeredVersion(resolved, action: "demote")
            commit = resolved.commit
            guard try state(of: model).holders[stage]?.version == version else {
                throw MVError("\(model)@\(version) does not hold stage '\(stage)'", hint: "see 'mv list' for stage holders")
            }
        }
        let published = try publishStageEvent(model: model, kind: .unassignment, stage: stage, version: version, commit: commit,
                                              reason: reason, reflogPrefix: "mv demote") { _ in
            (summary: "Demote \(model) \(version) from \(stage)", extra: [])
        }
        let after = try state(of: model).holders[stage]
        return StageResult(model: model.value, version: version.description, stage: stage, tag: published.tagName,
                           commit: published.commit.description, previous: after?.label)
    }

    /// Deprecates one version with GTO's deregistration tag `<model>@vX.Y.Z!`: it can no
    /// longer be promoted, and any stage it held falls back to the previous holder.
    public func deprecate(_ reference: String, model hint: String?, reason: String?) throws -> StageResult {
        let resolved = try resolve(reference, model: hint)
        let version = try registeredVersion(resolved, action: "deprecate")
        guard try state(of: resolved.model).isActive(version) else {
            throw MVError("\(resolved.model)@\(version) is already deprecated")
        }
        let published = try publishStageEvent(model: resolved.model, kind: .deregistration, stage: nil, version: version,
                                              commit: resolved.commit, reason: reason, reflogPrefix: "mv deprecate") { _ in
            (summary: "Deprecate \(resolved.model) \(version)", extra: [])
        }
        return StageResult(model: resolved.model.value, version: version.description, stage: "", tag: published.tagName,
                           commit: published.commit.description, previous: nil)
    }

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
                throw MVError("no version of '\(model)' holds stage '\(stage)', so there is nothing to roll back",
                              hint: "name the version: mv rollback \(model) --to v2 --stage \(stage)")
            }
            let earlier = state.events.reversed().first { event in
                event.kind == .assignment && event.stage == stage && event.commit != current.commit
                    && state.versionCommits.first { $0.value == event.commit }.map { state.isActive($0.key) } == true
            }
            guard let earlier, let previous = state.versionCommits.first(where: { $0.value == earlier.commit })?.key else {
                throw MVError("'\(model)' has no earlier holder of stage '\(stage)' to roll back to",
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
        let published = try publishStageEvent(model: model, kind: .assignment, stage: stage, version: version, commit: commit,
                                              reason: reason, reflogPrefix: "mv rollback", restoring: (folder, files), force: force) { _ in
            (summary: "Roll back \(model) \(stage) to \(version)" + (current.map { " (from \($0.label))" } ?? ""),
             extra: ["Rollback-From: \(current?.label ?? "none")", "Rollback-To: \(version)"] + overrides)
        }
        var result = StageResult(model: model.value, version: version.description, stage: stage, tag: published.tagName,
                                 commit: published.commit.description, previous: current?.label)
        result.gate = report
        return result
    }

    // MARK: Shared

    /// Now, or the start of the next second if one of the model's tags (events or
    /// evaluations) already has this second: GTO orders events by tagger second, and
    /// `mv history` must never see two of mv's events tie.
    func freshSecond(after state: ModelState) throws -> Date {
        let times = state.events.map(\.time) + (try evaluations(of: state.model).compactMap(\.date))
        let lastSecond = times.map { $0.timeIntervalSince1970.rounded(.down) }.max() ?? 0
        var now = Date()
        while now.timeIntervalSince1970.rounded(.down) <= lastSecond {
            usleep(UInt32(max(1_000, (lastSecond + 1 - now.timeIntervalSince1970) * 1_000_000)))
            now = Date()
        }
        return now
    }

    /// Refuses a failed gate unless forced where the policy allows it; returns the trailers
    /// that record an override (the reason and every failed rule) in the stage tag.
    private func checkGate(_ report: GateReport, action: String, force: Bool, reason: String?) throws -> [String] {
        guard !report.passed else { return [] }
        guard force else {
            throw MVError("cannot \(action): gate failed: \(report.failureSummary)",
                          hint: report.forceAllowed ? "fix the model, or override with --force --reason \"…\"" : "fix the model; '\(report.stage)' does not allow --force",
                          details: report.text())
        }
        guard report.forceAllowed else {
            throw MVError("cannot \(action): the '\(report.stage)' gate does not allow --force (gate failed: \(report.failureSummary))",
                          hint: "set allow_force: true on that gate in \(RegistryConfig.fileName) if overrides are acceptable", details: report.text())
        }
        guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MVError("--force needs a reason: add --reason \"why this override is acceptable\"")
        }
        return ["Gate-Override: \(reason.replacingOccurrences(of: "\n", with: " "))"]
            + report.failures.map { "Gate-Failed: \($0.rule)" + ($0.actual.map { " (got \(GateReport.number($0)))" } ?? " (\($0.note))") }
    }

    private func registeredVersion(_ resolved: ResolvedVersion, action: String) throws -> SemanticVersion {
        guard let version = resolved.version else {
            throw MVError("'\(resolved.spelled)' is not a registered version of '\(resolved.model)'; only versions can be \(action == "roll back to" ? "rolled back to" : action + "d")",
                          hint: "name a version, e.g. \(resolved.model)@v1")
        }
        return version
    }

    private func checkStage(_ stage: String) throws {
        guard config.stages.contains(stage) else {
            throw MVError("unknown stage '\(stage)': this repository's stages are \(config.stages.joined(separator: ", "))",
                          hint: "add it to 'stages' in \(RegistryConfig.fileName)")
        }
    }

    func versionRecord(_ model: ModelName, _ version: SemanticVersion) throws -> VersionRecord {
        try record(model: model, version: version, ref: TagNames.versionRef(model, version))
    }

    /// Writes one registry event: its tag (with the next counter, retried under
    /// compare-and-swap) and a commit of the updated stages file, optionally restoring a
    /// model folder in the same commit.
    private func publishStageEvent(model: ModelName, kind: RegistryEvent.Kind, stage: String?, version: SemanticVersion,
                                   commit target: ObjectID, reason: String?, reflogPrefix: String,
                                   restoring: (folder: String, files: [StagedFile])? = nil, force: Bool = false,
                                   describe: (Signature) -> (summary: String, extra: [String])) throws -> Published {
        let signature = try repository.defaultSignature()
        let (summary, extra) = describe(signature)
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let lock = try writer.lock()
        defer { withExtendedLifetime(lock) {} }
        if restoring != nil, !force { try ensureClean(model) }
        let stagesPath = StagesFile.path(model)
        if !(try repository.status(under: stagesPath)).isEmpty {
            throw MVError("'\(stagesPath)' has uncommitted changes; mv rewrites it from the tags",
                          hint: "discard them with 'git checkout -- \(stagesPath)'")
        }
        let published = try writer.publish(signature: signature, reflogPrefix: reflogPrefix) { _ in
            let state = try self.state(of: model)
            let now = try self.freshSecond(after: state)
            let tagName: String
            switch kind {
            case .assignment: tagName = "\(model)#\(stage ?? "")#\(state.maxCounter + 1)"
            case .unassignment: tagName = "\(model)#\(stage ?? "")!#\(state.maxCounter + 1)"
            case .deregistration: tagName = "\(model)@\(version)!"
            case .registration, .deprecation: tagName = "\(model)@\(version)"
            }
            let gtoLine: String = switch kind {
            case .assignment: "Assigning stage \(stage ?? "") to artifact \(model) version \(version)"
            case .unassignment: "Unassigning stage '\(stage ?? "")' to artifact '\(model)' version '\(version)'"
            default: "Deregistering artifact \(model) version \(version)"
            }
            var trailers = ["Model: \(model)", "Model-Version: \(version)"]
            if let stage { trailers.append("Stage: \(stage)") }
            trailers.append("By: \(signature.name) <\(signature.email)>")
            trailers.append("At: \(Environment.timestamp(now))")
            if let reason { trailers.append("Reason: \(reason.replacingOccurrences(of: "\n", with: " "))") }
            trailers += extra
            let tagMessage = gtoLine + "\n\n" + summary + "\n\n" + trailers.joined(separator: "\n") + "\n"

            let event = RegistryEvent(model: model, kind: kind, version: kind == .deregistration ? version : nil, stage: stage,
                                      counter: kind == .deregistration ? nil : state.maxCounter + 1, tag: tagName, commit: target,
                                      time: now, tagger: "\(signature.name) <\(signature.email)>", message: tagMessage)
            let after = Registry.resolveState(model: model, events: state.events + [event], maxCounter: state.maxCounter + 1)
            let stagesText = StagesFile.render(after)
            let source = staging.appendingPathComponent(UUID().uuidString)
            try Data(stagesText.utf8).writeUnsynced(to: source)
            var files = [StagedFile(path: stagesPath, blob: try self.repository.objects.writeBlob(fileAt: source), source: source)]
            files += restoring?.files ?? []
            let message = summary + "\n\n" + (reason.map { "\($0)\n\n" } ?? "") + "Tag: \(tagName)\n" + trailers.joined(separator: "\n") + "\n"
            return Proposal(files: files, replacedFolders: restoring.map { [$0.folder] } ?? [], message: message,
                            tag: (tagName, tagMessage), tagTarget: target, tagTime: now)
        }
        try writer.syncWorkTree(published.proposal)
        return published
    }
}

/// `.mv/stages/<model>.yaml`: the current stage holders, rewritten from the tags on every
/// stage change, so `git log -p` on it reads as a promotion journal.
enum StagesFile {
    static func path(_ model: ModelName) -> String { ".mv/stages/\(model).yaml" }

    static func render(_ state: ModelState) -> String {
        let stages = state.holders.keys.sorted().map { stage -> (String, YAMLValue) in
            guard let holder = state.holders[stage] else { return (stage, .null) }
            let event = state.events.last { $0.tag == holder.tag }
            let fields = event.map { Registry.trailers($0.message) } ?? [:]
            var map: [(String, YAMLValue)] = [("version", .string(holder.label)), ("tag", .string(holder.tag))]
            if let by = fields["By"] ?? event?.tagger { map.append(("by", .string(by))) }
            map.append(("at", .string(fields["At"] ?? Environment.timestamp(holder.time))))
            if let reason = fields["Reason"] { map.append(("reason", .string(reason))) }
            return (stage, .map(map))
        }
        var root: [(String, YAMLValue)] = [("model", .string(state.model.value)), ("stages", .map(stages))]
        let deprecated = state.allVersions.filter { !state.isActive($0) }
        if !deprecated.isEmpty { root.append(("deprecated_versions", .list(deprecated.map { .string($0.description) }))) }
        return "# Stage holders of \(state.model), rewritten by mv from its tags (the tags are the source of truth)\n"
            + YAMLValue.map(root).yamlDocument()
    }
}
