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

    /// Classification only: the confusion matrix of `model` on `data`, labelled.
    func confusion(_ model: TrainedModel, on data: Dataset, target: TargetSchema) throws -> (classes: [String], counts: [[Int]])? {
        guard target.task == .classification else { return nil }
        do {
            let predicted = try model.predict(data.features).map { Int($0) }
            return (
                target.classes,
                Metrics.confusionMatrix(
                    predicted: predicted, actual: data.target.map { Int($0) },
                    classCount: target.classes.count)
            )
        } catch {
            throw MVError("\(error)")
        }
    }

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
