import Foundation
import Git
import ModelFormat
import SystemIO

extension Registry {
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
    func checkGate(_ report: GateReport, action: String, force: Bool, reason: String?) throws -> Trailers {
        var trailers = Trailers()
        guard !report.passed else { return trailers }
        guard force else {
            throw MVError(
                "cannot \(action): gate failed: \(report.failureSummary)",
                hint: report.forceAllowed
                    ? "fix the model, or override with --force --reason \"…\"" : "fix the model; '\(report.stage)' does not allow --force",
                gateReports: [report])
        }
        guard report.forceAllowed else {
            throw MVError(
                "cannot \(action): the '\(report.stage)' gate does not allow --force (gate failed: \(report.failureSummary))",
                hint: "set allow_force: true on that gate in \(RegistryConfig.fileName) if overrides are acceptable", gateReports: [report])
        }
        guard let reason, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw MVError("--force needs a reason: add --reason \"why this override is acceptable\"")
        }
        trailers.append("Gate-Override", reason)
        for failure in report.failures {
            trailers.append(
                "Gate-Failed", failure.rule + (failure.actual.map { " (got \(GateReport.number($0)))" } ?? " (\(failure.note))"))
        }
        return trailers
    }

    func registeredVersion(_ resolved: ResolvedVersion, action: String) throws -> SemanticVersion {
        guard let version = resolved.version else {
            throw MVError(
                "'\(resolved.spelled)' is not a registered version of '\(resolved.model)'; only versions can be \(action == "roll back to" ? "rolled back to" : action + "d")",
                hint: "name a version, e.g. \(resolved.model)@v1")
        }
        return version
    }

    func checkStage(_ stage: String) throws {
        guard config.stages.contains(stage) else {
            throw MVError(
                "unknown stage '\(stage)': this repository's stages are \(config.stages.joined(separator: ", "))",
                hint: "add it to 'stages' in \(RegistryConfig.fileName)")
        }
    }

    func versionRecord(_ model: ModelName, _ version: SemanticVersion) throws -> VersionRecord {
        try record(model: model, version: version, ref: TagNames.versionRef(model, version))
    }

    /// Writes one registry event: its tag (with the next counter, retried under
    /// compare-and-swap) and a commit of the updated stages file, optionally restoring a
    /// model folder in the same commit.
    func publishStageEvent(
        model: ModelName, kind: RegistryEvent.Kind, stage: String?, version: SemanticVersion,
        commit target: ObjectID, reason: String?, reflogPrefix: String, summary: String, extra: Trailers = Trailers(),
        restoring: (folder: String, files: [StagedFile])? = nil, force: Bool = false
    ) throws -> Published {
        let signature = try repository.defaultSignature()
        let staging = try makeStagingFolder()
        defer { try? FileManager.default.removeItem(at: staging) }
        let lock = try lockForWriting()
        defer { withExtendedLifetime(lock) {} }
        if restoring != nil, !force { try ensureClean(model) }
        let stagesPath = StagesFile.path(model)
        if !(try repository.status(under: stagesPath)).isEmpty {
            throw MVError(
                "'\(stagesPath)' has uncommitted changes; mv rewrites it from the tags",
                hint: "discard them with 'git checkout -- \(stagesPath)'")
        }
        let published = try writer.publish(signature: signature, reflogPrefix: reflogPrefix) { _ in
            let state = try self.state(of: model)
            let now = try self.freshSecond(after: state)
            let tagName: String
            switch kind {
            case .assignment: tagName = TagNames.assignment(model, stage: stage ?? "", counter: state.maxCounter + 1)
            case .unassignment: tagName = TagNames.unassignment(model, stage: stage ?? "", counter: state.maxCounter + 1)
            case .deregistration: tagName = TagNames.deregistration(model, version)
            case .registration, .deprecation: tagName = TagNames.version(model, version)
            }
            let gtoLine: String =
                switch kind {
                case .assignment: "Assigning stage \(stage ?? "") to artifact \(model) version \(version)"
                case .unassignment: "Unassigning stage '\(stage ?? "")' to artifact '\(model)' version '\(version)'"
                default: "Deregistering artifact \(model) version \(version)"
                }
            var trailers = Trailers()
            trailers.append("Model", model.value)
            trailers.append("Model-Version", version.description)
            if let stage { trailers.append("Stage", stage) }
            trailers.append("By", "\(signature.name) <\(signature.email)>")
            trailers.append("At", Environment.timestamp(now))
            if let reason { trailers.append("Reason", reason) }
            trailers.append(extra)
            let tagMessage = gtoLine + "\n\n" + summary + "\n\n" + trailers.text

            let event = RegistryEvent(
                model: model, kind: kind, version: kind == .deregistration ? version : nil, stage: stage,
                counter: kind == .deregistration ? nil : state.maxCounter + 1, tag: tagName, commit: target,
                time: now, tagger: "\(signature.name) <\(signature.email)>", message: tagMessage)
            let after = Registry.resolveState(model: model, events: state.events + [event], maxCounter: state.maxCounter + 1)
            let stagesText = StagesFile.render(after)
            let source = staging.appendingPathComponent(UUID().uuidString)
            try Data(stagesText.utf8).writeUnsynced(to: source)
            var files = [StagedFile(path: stagesPath, blob: try self.repository.objects.writeBlob(fileAt: source), source: source)]
            files += restoring?.files ?? []
            var commitTrailers = Trailers()
            commitTrailers.append("Tag", tagName)
            commitTrailers.append(trailers)
            let message = summary + "\n\n" + (reason.map { "\($0)\n\n" } ?? "") + commitTrailers.text
            return Proposal(
                files: files, replacedFolders: restoring.map { [$0.folder] } ?? [], message: message,
                tag: (tagName, tagMessage), tagTarget: target, tagTime: now)
        }
        warnIfDetached(published)
        try workTree.sync(published.proposal)
        return published
    }
}
