import Foundation
import Git
import Learning
import ModelFormat

extension Registry {
    /// The schemas a version was trained with: stored ones, or (for versions from before
    /// schemas were stored) all-numeric features and a numeric target.
    func schemas(_ manifest: Manifest) throws -> (FeatureSchema, TargetSchema) {
        guard let target = manifest.target else {
            throw MVError("\(manifest.name) \(manifest.version) records no target column, so it cannot be scored on a CSV")
        }
        if let schema = manifest.schema, let features = schema["features"], let targetValue = schema["target"] {
            do {
                return (try features.decode(FeatureSchema.self), try targetValue.decode(TargetSchema.self))
            } catch {
                throw MVError("\(manifest.name) \(manifest.version): the stored schema cannot be read (\(error))")
            }
        }
        let columns = manifest.features.map { FeatureSchema.Column(name: $0.name, kind: .numeric) }
        return (
            FeatureSchema(columns: columns, impute: nil, standardize: false, ignoreUnknownCategories: false),
            TargetSchema(name: target.name, task: .regression)
        )
    }

    /// Reads an evaluation CSV through the version's schemas: every feature and the target
    /// must be there, nothing else, and categories must be known (unless told to ignore them).
    func loadEvaluationData(_ url: URL, manifest: Manifest, ignoreUnknownCategories: Bool = false)
        throws -> (Dataset, TargetSchema, Manifest.DataFile)
    {
        var (features, target) = try schemas(manifest)
        features.ignoreUnknownCategories = features.ignoreUnknownCategories || ignoreUnknownCategories
        var (table, file) = try readTable(url)
        let name = url.lastPathComponent
        guard table.header.contains(target.name) else {
            throw MVError(
                "no column '\(target.name)' (the target of \(manifest.name) \(manifest.version)) in '\(name)' (columns: \(table.header.joined(separator: ", ")))",
                hint: "evaluation data needs the features and the true target values; for predictions without a target, use mv predict")
        }
        let expected = features.columns.map(\.name) + [target.name]
        if let extra = table.header.first(where: { !expected.contains($0) }) {
            throw MVError(
                "unexpected column '\(extra)' in '\(name)': \(manifest.name) \(manifest.version) was trained on \(features.columns.map(\.name).joined(separator: ", ")) -> \(target.name)",
                hint: "drop the column, or train a version that uses it")
        }
        do {
            let dataset = try Dataset.load(table, target: target, features: features, source: name)
            file.role = "evaluation"
            file.rows = dataset.count
            return (dataset, target, file)
        } catch {
            throw MVError("\(error)")
        }
    }
}
