import Foundation
import Git
import ModelFormat
import SystemIO

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
            throw MVError(
                "\(resolved.model)@\(version) is deprecated ('\(resolved.model)@\(version)!'); it cannot be promoted",
                hint: "promote another version; see 'mv log \(resolved.model)'")
        }
        let previous = state.holders[request.stage]
        if previous?.version == version {
            return StageResult(
                model: resolved.model.value, version: version.description, stage: request.stage, tag: nil, commit: nil,
                previous: version.description)
        }
        let report = try gate(resolved, stage: request.stage, holderState: state, skipRelative: false)
        let overrides = try checkGate(
            report, action: "promote \(resolved.model)@\(version) to '\(request.stage)'", force: request.force,
            reason: request.reason)
        var extra = Trailers()
        extra.append(metrics: try versionRecord(resolved.model, version).metrics)
        extra.append(overrides)
        let published = try publishStageEvent(
            model: resolved.model, kind: .assignment, stage: request.stage, version: version,
            commit: resolved.commit, reason: request.reason, reflogPrefix: "mv promote",
            summary: "Promote \(resolved.model) \(version) to \(request.stage)" + (previous.map { " (was \($0.label))" } ?? ""),
            extra: extra)
        var result = StageResult(
            model: resolved.model.value, version: version.description, stage: request.stage, tag: published.tagName,
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
        let published = try publishStageEvent(
            model: model, kind: .unassignment, stage: stage, version: version, commit: commit,
            reason: reason, reflogPrefix: "mv demote", summary: "Demote \(model) \(version) from \(stage)")
        let after = try state(of: model).holders[stage]
        return StageResult(
            model: model.value, version: version.description, stage: stage, tag: published.tagName,
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
        let published = try publishStageEvent(
            model: resolved.model, kind: .deregistration, stage: nil, version: version,
            commit: resolved.commit, reason: reason, reflogPrefix: "mv deprecate",
            summary: "Deprecate \(resolved.model) \(version)")
        return StageResult(
            model: resolved.model.value, version: version.description, stage: "", tag: published.tagName,
            commit: published.commit.description, previous: nil)
    }
}
