import Foundation
import Git
import Learning
import ModelFormat

extension Registry {
    /// Batch predictions of any version, stage or revision, parameters read from Git
    /// objects: one row per input row, the predicted value or class label, and with
    /// `probabilities` one column per class. The input holds the model's feature columns
    /// (its target column, if present, is ignored).
    public func predict(
        _ reference: String, model hint: String? = nil, data url: URL, probabilities: Bool,
        ignoreUnknownCategories: Bool = false
    ) throws -> (resolved: ResolvedVersion, header: [String], rows: [[String]]) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let model = try loadModel(content)
        var (features, target) = try schemas(content.manifest)
        features.ignoreUnknownCategories = features.ignoreUnknownCategories || ignoreUnknownCategories
        let (table, _) = try readTable(url)
        let name = url.lastPathComponent
        let known = features.columns.map(\.name) + [target.name]
        if let extra = table.header.first(where: { !known.contains($0) }) {
            throw MVError(
                "unexpected column '\(extra)' in '\(name)': \(resolved.label) takes \(features.columns.map(\.name).joined(separator: ", "))",
                hint: "drop the column, or use a version trained with it")
        }
        do {
            let matrix = try Preprocessing.apply(features, to: table, excluding: [target.name], source: name)
            let predicted = try model.predict(matrix)
            var header = ["prediction"]
            var columns: Matrix?
            if probabilities {
                guard target.task == .classification,
                    let values = try model.predictProbabilities(matrix, classCount: target.classes.count)
                else {
                    throw MVError(
                        "\(resolved.label) (\(content.manifest.algorithm), \(target.task.rawValue)) gives no class probabilities",
                        hint: "drop --proba, or use a probabilistic classifier such as logistic-regression")
                }
                header += target.classes.map { "p_\($0)" }
                columns = values
            }
            let rows = predicted.enumerated().map { index, value -> [String] in
                let label = target.task == .classification ? target.label(of: value) : YAMLValue.format(value)
                guard let columns else { return [label] }
                return [label] + (0..<columns.columns).map { String(columns[index, $0]) }
            }
            return (resolved, header, rows)
        } catch let error as MVError {
            throw error
        } catch {
            throw MVError("\(error)")
        }
    }
}
