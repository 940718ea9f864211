import Foundation
import Git
import Learning
import ModelFormat

/// One version loaded for prediction: the rebuilt model and the feature schema it was trained
/// with. `mv predict` and `mv serve` both predict through `predict(_:source:probabilities:)`,
/// so the same rows give the same numbers from either.
public struct Predictor: Sendable {
    public let resolved: ResolvedVersion
    public let manifest: Manifest
    public let features: FeatureSchema
    public let target: TargetSchema
    let model: TrainedModel

    /// The input columns, in schema order.
    public var featureNames: [String] { features.columns.map(\.name) }
    /// Whether `predict(…, probabilities: true)` gives class probabilities.
    public var hasProbabilities: Bool { target.task == .classification && probabilityCapable }
    let probabilityCapable: Bool

    /// Predicts every row of `table`, whose header names the feature columns (the target
    /// column may be present and is ignored; any other column is an error). `source` names
    /// the input in messages.
    public func predict(_ table: CSVTable, source: String, probabilities: Bool) throws -> Predictions {
        let known = featureNames + [target.name]
        if let extra = table.header.first(where: { !known.contains($0) }) {
            throw MVError(
                "unexpected column '\(extra)' in '\(source)': \(resolved.label) takes \(featureNames.joined(separator: ", "))",
                hint: "drop the column, or use a version trained with it")
        }
        do {
            let matrix = try Preprocessing.apply(features, to: table, excluding: [target.name], source: source)
            let predicted = try model.predict(matrix)
            var classProbabilities: Matrix?
            if probabilities {
                guard target.task == .classification,
                    let values = try model.predictProbabilities(matrix, classCount: target.classes.count)
                else {
                    throw MVError(
                        "\(resolved.label) (\(manifest.algorithm), \(target.task.rawValue)) gives no class probabilities",
                        hint: "drop --proba, or use a probabilistic classifier such as logistic-regression")
                }
                classProbabilities = values
            }
            return Predictions(target: target, values: predicted, probabilities: classProbabilities)
        } catch let error as MVError {
            throw error
        } catch {
            throw MVError("\(error)")
        }
    }
}

extension Predictor {
    /// Predicts rows already encoded with `features` (one value per encoded feature, as
    /// `FeatureSchema.featureNames` lists them): for callers that parse and encode cells
    /// themselves, such as `mv monitor` streaming a large file.
    public func predict(encoded matrix: Matrix) throws -> [Double] {
        guard matrix.columns == features.featureCount else {
            throw MVError("\(resolved.label) takes \(features.featureCount) encoded features, not \(matrix.columns)")
        }
        do { return try model.predict(matrix) } catch { throw MVError("\(error)") }
    }
}

/// What a `Predictor` returns: one value per row (class indices for classification, which
/// `label(_:)` turns into the class labels) and, when asked for, one probability per class.
public struct Predictions: Sendable {
    public let target: TargetSchema
    public let values: [Double]
    /// Class labels in index order; empty for regression.
    public var classes: [String] { target.classes }
    /// rows × classes.count, or nil.
    public let probabilities: Matrix?

    public var count: Int { values.count }

    public init(target: TargetSchema, values: [Double], probabilities: Matrix?) {
        self.target = target
        self.values = values
        self.probabilities = probabilities
    }

    /// Row `index`'s prediction as `mv predict` prints it: the class label, or the number.
    public func label(_ index: Int) -> String {
        target.task == .classification ? target.label(of: values[index]) : YAMLValue.format(values[index])
    }

    /// Row `index`'s probability of class `k`.
    public func probability(_ index: Int, _ k: Int) -> Double {
        guard let probabilities else { return .nan }
        return probabilities[index, k]
    }
}

extension Registry {
    /// Loads any version, stage or revision for prediction, parameters read from Git objects.
    public func predictor(_ reference: String, model hint: String? = nil, ignoreUnknownCategories: Bool = false) throws -> Predictor {
        try predictor(resolve(reference, model: hint), ignoreUnknownCategories: ignoreUnknownCategories)
    }

    /// Loads a resolved version for prediction.
    public func predictor(_ resolved: ResolvedVersion, ignoreUnknownCategories: Bool = false) throws -> Predictor {
        let content = try content(of: resolved)
        let model = try loadModel(content)
        var (features, target) = try schemas(content.manifest)
        features.ignoreUnknownCategories = features.ignoreUnknownCategories || ignoreUnknownCategories
        let probe = Matrix(rows: 1, columns: model.featureCount)
        let probabilityCapable = (try? model.predictProbabilities(probe)).flatMap { $0 } != nil
        return Predictor(
            resolved: resolved, manifest: content.manifest, features: features, target: target, model: model,
            probabilityCapable: probabilityCapable)
    }

    /// Batch predictions of any version, stage or revision, parameters read from Git
    /// objects: one row per input row, the predicted value or class label, and with
    /// `probabilities` one column per class. The input holds the model's feature columns
    /// (its target column, if present, is ignored).
    public func predict(
        _ reference: String, model hint: String? = nil, data url: URL, probabilities: Bool,
        ignoreUnknownCategories: Bool = false
    ) throws -> (resolved: ResolvedVersion, header: [String], rows: [[String]]) {
        let predictor = try predictor(reference, model: hint, ignoreUnknownCategories: ignoreUnknownCategories)
        let (table, _) = try readTable(url)
        let predictions = try predictor.predict(table, source: url.lastPathComponent, probabilities: probabilities)
        var header = ["prediction"]
        if probabilities { header += predictions.classes.map { "p_\($0)" } }
        let rows = (0..<predictions.count).map { index -> [String] in
            let label = predictions.label(index)
            guard predictions.probabilities != nil else { return [label] }
            return [label] + predictions.classes.indices.map { String(predictions.probability(index, $0)) }
        }
        return (predictor.resolved, header, rows)
    }
}
