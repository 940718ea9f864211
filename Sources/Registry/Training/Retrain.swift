import Foundation
import Learning
import ModelFormat

/// What `mv retrain` needs: the version whose recipe to repeat, and the new data.
public struct RetrainRequest: Sendable {
    /// `model`, `model@vX` or `model#stage` (a bare model: its production holder, else its latest).
    public var reference: String
    public var data: URL
    public var reason: String?
    /// The monitoring tag that called for this version (`monitor/churn/v3.0.0/2`).
    public var monitoring: String?
    public var version: String?
    public var force = false
    public var commandLine: [String] = []

    public init(reference: String, data: URL) {
        self.reference = reference
        self.data = data
    }
}

extension Registry {
    /// Trains the next version with the recipe the given version recorded — algorithm,
    /// hyperparameters, preprocessing, target, test size and seed, or the user's training
    /// command — on new data. Lineage names the parent and why; gates apply on promotion
    /// as for any version.
    public func retrain(_ request: RetrainRequest) throws -> TrainResult {
        let parent = try resolveForRetrain(request.reference)
        guard let parentVersion = parent.version else {
            throw MVError("'\(request.reference)' is not a registered version", hint: "retrain a version: mv retrain \(parent.model)@vN")
        }
        let content = try content(of: parent)
        let manifest = content.manifest
        var reason = request.reason
        if let tag = request.monitoring {
            let name = tag.hasPrefix("refs/tags/") ? String(tag.dropFirst("refs/tags/".count)) : tag
            guard let parsed = TagNames.parseMonitoring(ref: "refs/tags/\(name)"), parsed.model == parent.model,
                try repository.referenceTarget("refs/tags/\(name)") != nil
            else {
                throw MVError(
                    "'\(tag)' is not a monitoring tag of '\(parent.model)'", hint: "list them with: git tag -l 'monitor/\(parent.model)/*'")
            }
            reason = ([reason, "monitoring \(name)"].compactMap { $0 }).joined(separator: "; ")
        }
        let label = "\(parent.model)@\(parentVersion)"

        if manifest.algorithm == "custom" || manifest.algorithm == "imported" {
            guard let command = manifest.lineage.trainCommand, !command.isEmpty else {
                throw MVError(
                    "\(label) records no recipe mv can repeat (\(manifest.algorithm == "imported" ? "its weights were added with mv add" : "it records no training command"))",
                    hint: "train the next version yourself: mv train \(parent.model) -- <command>, or mv add")
            }
            var next = CommandTrainRequest(model: parent.model.value, command: command)
            next.data = [request.data]
            next.task = Task(rawValue: manifest.task)
            next.seed = manifest.lineage.seed
            next.version = request.version
            next.force = request.force
            next.commandLine = request.commandLine
            next.parent = label
            next.reason = reason
            return try trainWithCommand(next)
        }

        guard let target = manifest.target else {
            throw MVError(
                "\(label) records no target column, so its recipe cannot be repeated", hint: "train the next version with mv train")
        }
        let (features, _) = try schemas(manifest)
        let (table, _) = try readTable(request.data)
        let expected = features.columns.map(\.name)
        for name in expected + [target.name] where !table.header.contains(name) {
            throw MVError(
                "'\(request.data.lastPathComponent)' lacks the column '\(name)' that \(label) was trained with",
                hint: "retraining repeats the recipe on the same columns; for new ones, use mv train")
        }
        if let extra = table.header.first(where: { !expected.contains($0) && $0 != target.name }) {
            throw MVError(
                "'\(request.data.lastPathComponent)' has the column '\(extra)', which \(label) was not trained with",
                hint: "drop it, or train a new recipe with mv train")
        }
        var next = TrainRequest(model: parent.model.value, data: request.data, target: target.name)
        next.algorithm = manifest.algorithm
        if case .map(let pairs) = manifest.hyperparameters {
            for (key, value) in pairs { next.hyperparameters[key] = value.stringValue }
        }
        next.testSize = manifest.lineage.split?["test_size"]?.doubleValue ?? 0.2
        next.seed = manifest.lineage.seed ?? 42
        next.impute = features.impute
        next.standardize = features.standardize
        next.version = request.version
        next.force = request.force
        next.commandLine = request.commandLine
        next.parent = label
        next.reason = reason
        return try train(next)
    }

    /// A bare model means its production holder, else its latest version.
    func resolveForRetrain(_ text: String) throws -> ResolvedVersion {
        if !text.contains("@"), !text.contains("#"), let model = try? ModelName(text),
            let holder = try? resolve("\(model)#production")
        {
            return holder
        }
        return try resolve(text)
    }
}
