import Foundation
import Git
import ModelFormat

extension Registry {
    /// Checks a version against every gate of `stage` that applies to its model.
    /// `holderState` is the stage state to compare against for "no regression" rules
    /// (default: the current one); `skipRelative` drops those rules (rollbacks).
    public func gate(_ reference: String, model hint: String? = nil, stage: String) throws -> GateReport {
        let resolved = try resolve(reference, model: hint)
        guard config.stages.contains(stage) || stage == GateBlock.commitStage else {
            throw MVError("unknown stage '\(stage)': this repository's stages are \(config.stages.joined(separator: ", "))")
        }
        return try gate(resolved, stage: stage, holderState: nil, skipRelative: false)
    }

    func gate(
        _ resolved: ResolvedVersion, stage: String, holderState: ModelState?, skipRelative: Bool,
        rootTree: ObjectID? = nil
    ) throws -> GateReport {
        let blocks = config.gates.filter { $0.applies(to: resolved.model, stage: stage) }
        let label = resolved.version?.description ?? (rootTree == nil ? resolved.commit.short : "staged")
        guard !blocks.isEmpty else { return GateReport(model: resolved.model.value, version: label, stage: stage, checks: []) }
        let content = try content(of: resolved, rootTree: rootTree)
        let reports = try allReports(content)
        let manifestValue = try YAMLValue.parse(content.manifest.yaml(), source: Manifest.fileName)
        var holderReports: [String: [(name: String, report: EvaluationReport)]] = [:]
        let state = try holderState ?? self.state(of: resolved.model)

        func metricValue(
            _ reference: GateRule.MetricReference, block: GateBlock,
            in reports: [(name: String, report: EvaluationReport)]
        ) -> (Double?, String) {
            let evaluation = reference.evaluation ?? block.evaluation
            guard let report = reports.last(where: { $0.name == evaluation })?.report else {
                return (nil, "no evaluation '\(evaluation)'")
            }
            guard let value = report.metrics.first(where: { $0.name == reference.metric })?.value else {
                return (nil, "evaluation '\(evaluation)' has no metric '\(reference.metric)'")
            }
            return (value, "")
        }

        var checks: [GateReport.Check] = []
        for block in blocks {
            for name in block.requiredEvaluations {
                let present = reports.contains { $0.name == name }
                checks.append(
                    .init(
                        rule: "evaluation '\(name)' present", line: block.line, actual: nil, threshold: nil, passed: present,
                        note: present ? "present" : "missing: run 'mv eval \(resolved.model)@\(label) --data … --name \(name)'",
                        allowForce: block.allowForce))
            }
            for field in block.requiredFields {
                var value: YAMLValue? = manifestValue
                for part in field.split(separator: ".") { value = value?[String(part)] }
                let present: Bool =
                    switch value {
                    case nil, .null?: false
                    case .list(let items)?: !items.isEmpty
                    case .string(let text)?: !text.isEmpty
                    case .map(let pairs)?: !pairs.isEmpty
                    default: true
                    }
                checks.append(
                    .init(
                        rule: "field '\(field)' present", line: block.line, actual: nil, threshold: nil, passed: present,
                        note: present ? "present" : "missing from \(Manifest.fileName)", allowForce: block.allowForce))
            }
            for rule in block.rules {
                if skipRelative && rule.isRelative { continue }
                let (actual, missing) = metricValue(rule.metric, block: block, in: reports)
                guard let actual else {
                    checks.append(
                        .init(
                            rule: rule.text, line: rule.line, actual: nil, threshold: nil, passed: false, note: missing,
                            allowForce: block.allowForce))
                    continue
                }
                switch rule.bound {
                case .number(let bound):
                    checks.append(
                        .init(
                            rule: rule.text, line: rule.line, actual: actual, threshold: bound,
                            passed: rule.comparison.holds(actual, bound), note: "", allowForce: block.allowForce))
                case .holder(let holderStage, let metric, let offset, let percent):
                    guard let holder = state.holders[holderStage], let holderVersion = holder.version else {
                        checks.append(
                            .init(
                                rule: rule.text, line: rule.line, actual: actual, threshold: nil, passed: true,
                                note: "no current \(holderStage) holder to compare with", allowForce: block.allowForce))
                        continue
                    }
                    if holderReports[holderStage] == nil {
                        let holderContent = try self.content(
                            of: ResolvedVersion(
                                model: resolved.model, version: holderVersion, commit: holder.commit,
                                spelled: "\(resolved.model)@\(holderVersion)"))
                        holderReports[holderStage] = try allReports(holderContent)
                    }
                    let (base, baseMissing) = metricValue(metric, block: block, in: holderReports[holderStage] ?? [])
                    guard let base else {
                        checks.append(
                            .init(
                                rule: rule.text, line: rule.line, actual: actual, threshold: nil, passed: true,
                                note: "\(holderStage) holder \(holderVersion): \(baseMissing), nothing to compare",
                                allowForce: block.allowForce))
                        continue
                    }
                    let bound = GateRule.shifted(base, offset: offset, percent: percent)
                    checks.append(
                        .init(
                            rule: rule.text, line: rule.line, actual: actual, threshold: bound,
                            passed: rule.comparison.holds(actual, bound),
                            note: "vs \(holderStage) holder \(holderVersion) (\(GateReport.number(base)))", allowForce: block.allowForce))
                }
            }
        }
        return GateReport(model: resolved.model.value, version: label, stage: stage, checks: checks)
    }
}
