import Foundation
import Learning
import ModelFormat

/// One block of the `monitoring:` list of `.mv.yaml`: the thresholds `mv monitor` holds a
/// model (or every model) to, and how it judges drift.
public struct MonitoringBlock: Sendable {
    public var model: String?
    public var rules: [MonitoringRule] = []
    /// The share of drifted features at which the dataset counts as drifted (Evidently's 0.5).
    public var datasetDriftShare: Double?
    /// p-value below which KS / chi-square call a column drifted.
    public var pValue: Double?
    /// Distance at or above which Wasserstein / Jensen–Shannon call a column drifted.
    public var distance: Double?
    public var line: Int

    public func applies(to model: String) -> Bool { self.model == nil || self.model == model }
}

/// `psi <= 0.2`, `age.psi <= 0.1`, `drift_share < 0.5`, `prediction.psi <= 0.25`,
/// `accuracy >= production.accuracy - 0.05`, `rmse <= holdout.rmse + 10%`.
public struct MonitoringRule: Sendable {
    public enum Subject: Sendable, Equatable {
        /// A per-column statistic, for every feature (column nil) or one column
        /// (`prediction` names the predictions).
        case statistic(name: String, column: String?)
        /// A dataset-level figure: drift_share, drifted_features.
        case dataset(String)
        /// A live metric computed from labels.
        case metric(String)
    }

    /// What the right-hand side compares with.
    public enum Bound: Sendable {
        case number(Double)
        /// The monitored version's hold-out metric (`holdout.f1`) or a stage holder's
        /// (`production.f1`), shifted by an amount or a percentage of itself.
        case metric(source: String, metric: String, offset: Double, percent: Bool)
    }

    public var text: String
    public var line: Int
    public var subject: Subject
    public var comparison: GateRule.Comparison
    public var bound: Bound

    /// Per-column statistics a rule may name.
    public static let statistics = [
        "psi", "ks", "ks_p", "wasserstein", "jensenshannon", "chisquare_p", "z_p", "missing", "out_of_range", "unseen", "score",
    ]
    public static let datasetFigures = ["drift_share", "drifted_features", "rows"]
}

/// Parses the `monitoring:` list of `.mv.yaml`, naming the line of every problem.
struct MonitoringPolicyParser {
    let config: RegistryConfig
    let file = RegistryConfig.fileName

    static let blockKeys = ["model", "rules", "dataset_drift_share", "p_value", "distance"]

    func parse(_ node: YAMLTree) throws -> [MonitoringBlock] {
        guard case .list(let items) = node.kind else {
            throw MVError("\(file):\(node.line): 'monitoring' must be a list of blocks, each with 'rules'")
        }
        return try items.map(parseBlock)
    }

    private func parseBlock(_ node: YAMLTree) throws -> MonitoringBlock {
        guard case .map(let pairs) = node.kind else {
            throw MVError("\(file):\(node.line): a monitoring block must be a mapping with 'rules' (and optionally 'model')")
        }
        var block = MonitoringBlock(line: node.line)
        for (key, line, value) in pairs {
            switch key {
            case "model":
                guard let model = value.scalar, (try? ModelName(model)) != nil else {
                    throw MVError("\(file):\(line): 'model' must be a model name (\(ModelName.rule))")
                }
                block.model = model
            case "rules":
                guard case .list(let rules) = value.kind else {
                    throw MVError("\(file):\(line): 'rules' must be a list such as [psi <= 0.2, drift_share < 0.5]")
                }
                block.rules = try rules.map { rule in
                    guard let text = rule.scalar else {
                        throw MVError("\(file):\(rule.line): a rule must be a line of text such as 'psi <= 0.2'")
                    }
                    return try parseRule(text, line: rule.line)
                }
            case "dataset_drift_share", "p_value", "distance":
                guard let text = value.scalar, let number = Double(text), number > 0, number <= 1 else {
                    throw MVError("\(file):\(line): '\(key)' must be a number above 0 and at most 1")
                }
                if key == "dataset_drift_share" { block.datasetDriftShare = number }
                if key == "p_value" { block.pValue = number }
                if key == "distance" { block.distance = number }
            default:
                throw MVError(
                    "\(file):\(line): unknown monitoring setting '\(key)' (known: \(Self.blockKeys.joined(separator: ", ")))")
            }
        }
        if block.rules.isEmpty {
            throw MVError("\(file):\(node.line): this monitoring block checks nothing: give it 'rules' such as [psi <= 0.2]")
        }
        return block
    }

    func parseRule(_ text: String, line: Int) throws -> MonitoringRule {
        let malformed = MVError(
            "\(file):\(line): malformed monitoring rule '\(text)': expected 'statistic OP number' (psi <= 0.2, age.psi <= 0.1, drift_share < 0.5) or 'metric OP number|holdout.metric|stage.metric ± amount[%]'"
        )
        guard let (left, comparison, right) = RuleText.split(text) else { throw malformed }

        let subject: MonitoringRule.Subject
        let parts = left.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1, MonitoringRule.datasetFigures.contains(left) {
            subject = .dataset(left)
        } else if let statistic = parts.last, MonitoringRule.statistics.contains(statistic), parts.count <= 2 {
            let column = parts.count == 2 ? parts[0] : nil
            if let column, column.isEmpty { throw malformed }
            subject = .statistic(name: statistic, column: column)
        } else if parts.count == 1, Metrics.direction(of: left) != nil || config.metricDirections[left] != nil {
            subject = .metric(left)
        } else {
            throw MVError(
                "\(file):\(line): unknown figure '\(left)' in monitoring rule '\(text)'",
                hint:
                    "per feature: \(MonitoringRule.statistics.joined(separator: ", ")) (or column.statistic); dataset: \(MonitoringRule.datasetFigures.joined(separator: ", ")); live metrics: \(GatePolicyParser.builtInMetrics.joined(separator: ", "))"
            )
        }
        if let number = Double(right), number.isFinite {
            return MonitoringRule(text: text, line: line, subject: subject, comparison: comparison, bound: .number(number))
        }
        guard case .metric = subject else {
            throw MVError("\(file):\(line): rule '\(text)' must compare '\(left)' with a number")
        }
        // source.metric [+|- amount[%]]: the first split whose reference reads.
        for split in RuleText.shifts(right) {
            let pieces = split.reference.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard pieces.count == 2, pieces.allSatisfy({ (try? ModelName($0)) != nil }) else { continue }
            guard pieces[0] == "holdout" || config.stages.contains(pieces[0]) else {
                throw MVError(
                    "\(file):\(line): rule '\(text)' compares with '\(pieces[0])', which is neither 'holdout' nor a stage (stages: \(config.stages.joined(separator: ", ")))"
                )
            }
            return MonitoringRule(
                text: text, line: line, subject: subject, comparison: comparison,
                bound: .metric(source: pieces[0], metric: pieces[1], offset: split.offset, percent: split.percent))
        }
        throw malformed
    }
}
