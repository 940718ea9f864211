import Foundation
import Git
import Learning
import ModelFormat

extension Registry {
    /// The metrics that summarise a version in commit messages and `mv log`.
    static func headline(_ metrics: [(name: String, value: Double)], task: Task) -> [(name: String, value: Double)] {
        let names = task == .classification ? ["accuracy", "f1", "f1_macro"] : ["rmse", "r2"]
        return metrics.filter { names.contains($0.name) }
    }

    /// The task's metrics of `model` on `data` (held out, or an evaluation set).
    func score(_ model: TrainedModel, on data: Dataset, target: TargetSchema) throws -> [(name: String, value: Double)] {
        do {
            let predictions = try model.predict(data.features)
            switch target.task {
            case .regression:
                return Metrics.regression(predicted: predictions, actual: data.target).map { ($0.name, $0.value) }
            case .classification:
                let classCount = target.classes.count
                let probabilities = try model.predictProbabilities(data.features, classCount: classCount)
                return Metrics.classification(
                    predicted: predictions, actual: data.target, classCount: classCount,
                    probabilities: probabilities
                ).map { ($0.name, $0.value) }
            }
        } catch let error as MVError {
            throw error
        } catch {
            throw MVError("\(error)")
        }
    }

    /// What `mv report` draws from an evaluation besides its metrics: for classification the
    /// labelled confusion matrix and, when the model gives probabilities, the ROC curve of
    /// each class (of the second class alone when there are two; none past `rocClassLimit`
    /// classes, where a picture of them all would not be read); for regression a sample of
    /// actual and predicted values (and, with one numeric feature, its values in the data's
    /// own units).
    func addDiagnostics(
        to report: inout EvaluationReport, model: TrainedModel, on data: Dataset, target: TargetSchema, features: FeatureSchema
    ) throws {
        do {
            let predicted = try model.predict(data.features)
            switch target.task {
            case .classification:
                let classCount = target.classes.count
                report.confusion = (
                    target.classes,
                    Metrics.confusionMatrix(
                        predicted: predicted.map { Int($0) }, actual: data.target.map { Int($0) }, classCount: classCount)
                )
                guard classCount <= Self.rocClassLimit,
                    let probabilities = try model.predictProbabilities(data.features, classCount: classCount)
                else { return }
                let positives = classCount == 2 ? [1] : Array(0..<classCount)
                report.roc = positives.compactMap { k in
                    let scores = probabilities.column(k)
                    let isPositive = data.target.map { Int($0) == k }
                    guard let curve = Metrics.rocCurve(scores: scores, positives: isPositive) else { return nil }
                    return EvaluationReport.ROCCurve(
                        label: target.classes[k], auc: Metrics.rocAUC(scores: scores, positives: isPositive),
                        fpr: curve.fpr, tpr: curve.tpr)
                }
            case .regression:
                let rows = EvaluationReport.Sample.indices(count: data.count)
                var sample = EvaluationReport.Sample(
                    rows: data.count, actual: rows.map { data.target[$0] }, predicted: rows.map { predicted[$0] })
                if features.columns.count == 1, let column = features.columns.first, column.kind == .numeric,
                    data.features.columns == 1
                {
                    // Back to the data's units when the fit saw standardized values (mean and
                    // std are recorded only then).
                    let (mean, std) = (column.mean ?? 0, column.std ?? 1)
                    sample.feature = column.name
                    sample.x = rows.map { data.features.values[$0] * std + mean }
                }
                report.sample = sample
            }
        } catch {
            throw MVError("\(error)")
        }
    }

    static let rocClassLimit = 10

    /// A CSV file and its fingerprint.
    func readTable(_ url: URL) throws -> (CSVTable, Manifest.DataFile) {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw MVError("cannot read data file '\(url.path)': no such file")
        }
        do {
            let table = try CSV.parse(data, source: url.lastPathComponent)
            return (
                table, Manifest.DataFile(path: lineagePath(url), role: "train", sha256: ContentHash.sha256(data), rows: table.rows.count)
            )
        } catch {
            throw MVError("\(error)")
        }
    }
}

extension YAMLValue {
    /// Reads a hyperparameter given as text the way YAML would: `true` is a flag, `42` an
    /// integer, `0.1` a number, anything else text.
    static func scalar(fromText text: String) -> YAMLValue {
        if text == "true" { return .bool(true) }
        if text == "false" { return .bool(false) }
        if let value = Int(text) { return .int(value) }
        if let value = Double(text), value.isFinite { return .double(value) }
        return .string(text)
    }
}
