import Foundation
import Learning
import ModelFormat
import TensorStore

extension Registry {
    /// Rebuilds a built-in model from its stored tensors, ready to predict.
    func loadModel(_ content: VersionContent) throws -> TrainedModel {
        let manifest = content.manifest
        guard manifest.algorithm != "custom" else {
            throw MVError(
                "\(content.resolved.label) was trained by your own command; mv cannot run it",
                hint: "evaluate it with your own code and register the metrics with a training command")
        }
        let trainer: any Trainer
        do { trainer = try Trainers.named(manifest.algorithm) } catch { throw MVError("\(error)") }
        try prefetchTensors(of: [content])
        let reader = tensors.reader()
        let parameters = try manifest.params.map { record in
            let (header, values) = try reader.values(labeled(content, record))
            return NamedTensor(name: record.name, shape: header.shape, values: values)
        }
        var hyperparameters: [String: String] = [:]
        if case .map(let pairs) = manifest.hyperparameters {
            for (key, value) in pairs { hyperparameters[key] = value.stringValue }
        }
        let featureCount = manifest.target == nil ? manifest.features.count : try schemas(manifest).0.featureCount
        do {
            return try trainer.load(parameters: parameters, hyperparameters: hyperparameters, featureCount: featureCount)
        } catch {
            throw MVError("\(error)")
        }
    }
}
