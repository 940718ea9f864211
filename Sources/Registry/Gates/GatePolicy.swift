import Foundation
import Learning
import ModelFormat

/// One gate: what a version must satisfy to take `stage` (for every model, or one).
public struct GateBlock: Sendable {
    /// The pseudo-stage whose rules the pre-commit hook applies to every commit that
    /// touches a model folder.
    public static let commitStage = "commit"

    public var stage: String
    public var model: String?
    /// Evaluation whose metrics rules read when they name none (default `holdout`).
    public var evaluation = "holdout"
    public var rules: [GateRule] = []
    public var requiredEvaluations: [String] = []
    public var requiredFields: [String] = []
    public var allowForce = false
    public var line: Int

    func applies(to model: ModelName, stage: String) -> Bool {
        self.stage == stage && (self.model == nil || self.model == model.value)
    }
}

/// `rmse <= 0.5`, `test.f1 >= 0.9`, `f1 >= production.f1 - 0.01`, `rmse <= production.rmse + 5%`.
public struct GateRule: Sendable {
    public enum Comparison: String, Sendable, CaseIterable {
        case greaterOrEqual = ">="
        case lessOrEqual = "<="
        case greater = ">"
        case less = "<"
        case equal = "=="

        public func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greaterOrEqual: a >= b
            case .lessOrEqual: a <= b
            case .greater: a > b
            case .less: a < b
            case .equal: a == b
            }
        }
    }

    /// A metric of an evaluation; nil evaluation means the gate's default one.
    public struct MetricReference: Sendable, Equatable {
        public var evaluation: String?
        public var metric: String

        var text: String { evaluation.map { "\($0).\(metric)" } ?? metric }
    }

    public enum Bound: Sendable {
        case number(Double)
        /// The current holder of `stage`'s metric, shifted by an absolute amount or a
        /// percentage of itself.
        case holder(stage: String, metric: MetricReference, offset: Double, percent: Bool)
    }

    public var text: String
    public var line: Int
    public var metric: MetricReference
    public var comparison: Comparison
    public var bound: Bound

    /// Rules against the current holder (no regression); rollbacks skip them, since going
    /// back from a broken holder is the point.
    public var isRelative: Bool {
        if case .holder = bound { return true }
        return false
    }
}

extension GateRule {
    /// A bound taken from another metric, shifted by an absolute amount or by a percentage of
    /// the metric's size (so `- 5%` loosens a negative r2 as it does a positive one).
    public static func shifted(_ base: Double, offset: Double, percent: Bool) -> Double {
        base + (percent ? abs(base) * offset / 100 : offset)
    }
}

/// The text of a rule, `left OP right`, as the `gates:` and `monitoring:` lists both write
/// it; each parser gives the sides their meaning.
enum RuleText {
    /// The two sides and the operator, or nil when there is no operator, a side is empty,
    /// or the right side holds another one.
    static func split(_ text: String) -> (left: String, comparison: GateRule.Comparison, right: String)? {
        // Longest operators first, so '>=' is not read as '>'.
        let operators: [GateRule.Comparison] = [.greaterOrEqual, .lessOrEqual, .equal, .greater, .less]
        guard let comparison = operators.first(where: { text.contains($0.rawValue) }),
            let range = text.range(of: comparison.rawValue)
        else { return nil }
        let left = text[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let right = text[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard !left.isEmpty, !right.isEmpty, !right.contains(">"), !right.contains("<"), !right.contains("=") else { return nil }
        return (left, comparison, right)
    }

    /// The ways to read `source.metric [+|- amount[%]]`: the whole text unshifted first, then
    /// a split at each sign from the left. Metric names may hold '-' and amounts may be
    /// written 1e-3, so the caller keeps the first split whose reference it can read.
    static func shifts(_ right: String) -> [(reference: String, offset: Double, percent: Bool)] {
        var splits: [(reference: String, offset: Double, percent: Bool)] = [(right, 0, false)]
        for index in right.indices where (right[index] == "+" || right[index] == "-") && index != right.startIndex {
            var amount = right[right.index(after: index)...].trimmingCharacters(in: .whitespaces)
            let percent = amount.hasSuffix("%")
            if percent { amount.removeLast() }
            guard let value = Double(amount.trimmingCharacters(in: .whitespaces)), value.isFinite, value >= 0 else { continue }
            splits.append((right[..<index].trimmingCharacters(in: .whitespaces), right[index] == "-" ? -value : value, percent))
        }
        return splits
    }
}

/// Parses the `gates:` list of `.mv.yaml`, naming the line of every problem.
struct GatePolicyParser {
    let config: RegistryConfig
    let file = RegistryConfig.fileName

    static let blockKeys = ["stage", "model", "evaluation", "rules", "require_evaluations", "require_fields", "allow_force"]

    func parse(_ node: YAMLTree) throws -> [GateBlock] {
        guard case .list(let items) = node.kind else {
            throw MVError("\(file):\(node.line): 'gates' must be a list of gates, each with a 'stage' and 'rules'")
        }
        return try items.map(parseBlock)
    }

    private func parseBlock(_ node: YAMLTree) throws -> GateBlock {
        guard case .map(let pairs) = node.kind else {
            throw MVError("\(file):\(node.line): a gate must be a mapping with 'stage' and 'rules'")
        }
        var block = GateBlock(stage: "", line: node.line)
        var ruleNodes: [YAMLTree] = []
        for (key, line, value) in pairs {
            switch key {
            case "stage":
                guard let stage = value.scalar, config.stages.contains(stage) || stage == GateBlock.commitStage else {
                    throw MVError(
                        "\(file):\(line): unknown stage '\(value.scalar ?? "?")' (stages: \(config.stages.joined(separator: ", ")), or 'commit' for the pre-commit hook)"
                    )
                }
                block.stage = stage
            case "model":
                guard let model = value.scalar, (try? ModelName(model)) != nil else {
                    throw MVError("\(file):\(line): 'model' must be a model name (\(ModelName.rule))")
                }
                block.model = model
            case "evaluation":
                guard let name = value.scalar, (try? ModelName(name)) != nil else {
                    throw MVError("\(file):\(line): 'evaluation' must be an evaluation name such as holdout")
                }
                block.evaluation = name
            case "rules":
                guard case .list(let rules) = value.kind else {
                    throw MVError("\(file):\(line): 'rules' must be a list such as [rmse <= 0.5]")
                }
                ruleNodes = rules
            case "require_evaluations":
                block.requiredEvaluations = try names(value, key: key, line: line)
            case "require_fields":
                block.requiredFields = try names(value, key: key, line: line, dotted: true)
            case "allow_force":
                guard let flag = value.scalar, ["true", "false"].contains(flag) else {
                    throw MVError("\(file):\(line): 'allow_force' must be true or false")
                }
                block.allowForce = flag == "true"
            default:
                throw MVError("\(file):\(line): unknown gate setting '\(key)' (known: \(Self.blockKeys.joined(separator: ", ")))")
            }
        }
        guard !block.stage.isEmpty else { throw MVError("\(file):\(node.line): this gate has no 'stage'") }
        block.rules = try ruleNodes.map { node in
            guard let text = node.scalar else { throw MVError("\(file):\(node.line): a rule must be a line of text such as 'rmse <= 0.5'") }
            return try parseRule(text, line: node.line)
        }
        if block.rules.isEmpty && block.requiredEvaluations.isEmpty && block.requiredFields.isEmpty {
            throw MVError("\(file):\(node.line): this gate checks nothing: give it 'rules', 'require_evaluations' or 'require_fields'")
        }
        return block
    }

    private func names(_ value: YAMLTree, key: String, line: Int, dotted: Bool = false) throws -> [String] {
        guard case .list(let items) = value.kind else { throw MVError("\(file):\(line): '\(key)' must be a list") }
        return try items.map { item in
            guard let name = item.scalar, !name.isEmpty,
                name.split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ (try? ModelName(String($0))) != nil }),
                dotted || !name.contains(".")
            else {
                throw MVError("\(file):\(item.line): '\(item.scalar ?? "?")' is not a valid entry for '\(key)'")
            }
            return name
        }
    }

    func parseRule(_ text: String, line: Int) throws -> GateRule {
        let malformed = MVError(
            "\(file):\(line): malformed rule '\(text)': expected 'metric OP number' or 'metric OP stage.metric ± amount[%]' with OP one of >=, <=, >, <, =="
        )
        guard let (left, comparison, right) = RuleText.split(text) else { throw malformed }
        let metric = try metricReference(left, line: line, rule: text)
        if let number = Double(right), number.isFinite {
            return GateRule(text: text, line: line, metric: metric, comparison: comparison, bound: .number(number))
        }
        // stage.metric [+|- amount[%]]: the first split where both sides parse.
        for split in RuleText.shifts(right) {
            let parts = split.reference.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2,
                (split.reference.split(separator: ".", omittingEmptySubsequences: false)).allSatisfy({ (try? ModelName(String($0))) != nil }
                )
            else { continue }
            guard config.stages.contains(parts[0]) else {
                throw MVError(
                    "\(file):\(line): rule '\(text)' compares with '\(parts[0])', which is not a stage (stages: \(config.stages.joined(separator: ", ")))"
                )
            }
            let holderMetric = try metricReference(parts[1], line: line, rule: text)
            return GateRule(
                text: text, line: line, metric: metric, comparison: comparison,
                bound: .holder(stage: parts[0], metric: holderMetric, offset: split.offset, percent: split.percent))
        }
        throw malformed
    }

    private func metricReference(_ text: String, line: Int, rule: String) throws -> GateRule.MetricReference {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count), parts.allSatisfy({ (try? ModelName($0)) != nil }) else {
            throw MVError("\(file):\(line): malformed metric '\(text)' in rule '\(rule)': expected metric or evaluation.metric")
        }
        let metric = parts[parts.count - 1]
        guard Metrics.direction(of: metric) != nil || config.metricDirections[metric] != nil else {
            throw MVError(
                "\(file):\(line): unknown metric '\(metric)' in rule '\(rule)'",
                hint:
                    "built-in metrics: \(Self.builtInMetrics.joined(separator: ", ")); declare others under 'metrics:' with higher or lower"
            )
        }
        return GateRule.MetricReference(evaluation: parts.count == 2 ? parts[0] : nil, metric: metric)
    }

    static let builtInMetrics = [
        "mse", "rmse", "mae", "r2", "accuracy", "precision", "recall", "f1", "roc_auc", "log_loss", "f1_macro", "f1_weighted",
    ]
}
