import Foundation

extension Trainer {
    /// Which task a fit with these hyperparameters performs; algorithms that do both
    /// (decision-tree, random-forest) decide by their `criterion`.
    public func task(for hyperparameters: [String: String]) throws -> Task {
        task
    }
}

/// Typed, validated access to resolved hyperparameters, recording canonical spellings
/// so that equivalent inputs ("1" and "1.0") version identically.
struct HyperparameterReader {
    let algorithm: String
    private var values: [String: String]
    private(set) var resolved: [Hyperparameter]

    init(_ trainer: some Trainer, _ given: [String: String]) throws {
        algorithm = trainer.algorithm
        resolved = try trainer.resolveHyperparameters(given)
        values = Dictionary(uniqueKeysWithValues: resolved.map { ($0.name, $0.value) })
    }

    private mutating func record(_ key: String, _ canonical: String) {
        if let index = resolved.firstIndex(where: { $0.name == key }) {
            resolved[index] = Hyperparameter(name: key, value: canonical)
        }
    }

    private func invalid(_ key: String, _ expected: String) -> LearningError {
        .invalidHyperparameter(algorithm: algorithm, key: key, value: values[key] ?? "", expected: expected)
    }

    mutating func bool(_ key: String) throws -> Bool {
        switch (values[key] ?? "").lowercased() {
        case "true", "1", "yes":
            record(key, "true")
            return true
        case "false", "0", "no":
            record(key, "false")
            return false
        default: throw invalid(key, "true or false")
        }
    }

    /// A finite number; `positive` excludes zero, `nonNegative` allows it.
    mutating func double(_ key: String, positive: Bool = false, nonNegative: Bool = false, below: Double? = nil) throws -> Double {
        guard let value = Double(values[key] ?? ""), value.isFinite else {
            throw invalid(key, "a finite number")
        }
        if positive && !(value > 0) { throw invalid(key, "a number above 0") }
        if nonNegative && value < 0 { throw invalid(key, "a number at least 0") }
        if let below, !(value < below) { throw invalid(key, "a number below \(below)") }
        record(key, "\(value)")
        return value
    }

    mutating func int(_ key: String, atLeast minimum: Int) throws -> Int {
        guard let value = Int(values[key] ?? ""), value >= minimum else {
            throw invalid(key, "a whole number at least \(minimum)")
        }
        record(key, "\(value)")
        return value
    }

    /// A whole number or "none" (no limit).
    mutating func optionalInt(_ key: String, atLeast minimum: Int) throws -> Int? {
        let text = (values[key] ?? "").lowercased()
        if text == "none" || text == "null" {
            record(key, "none")
            return nil
        }
        guard let value = Int(text), value >= minimum else {
            throw invalid(key, "none or a whole number at least \(minimum)")
        }
        record(key, "\(value)")
        return value
    }

    mutating func seed(_ key: String) throws -> UInt64 {
        guard let value = UInt64(values[key] ?? "") else {
            throw invalid(key, "a whole number at least 0")
        }
        record(key, "\(value)")
        return value
    }

    mutating func choice(_ key: String, _ options: [String], aliases: [String: String] = [:]) throws -> String {
        let text = (values[key] ?? "").lowercased()
        let value = aliases[text] ?? text
        guard options.contains(value) else {
            throw invalid(key, "one of \(options.joined(separator: ", "))")
        }
        record(key, value)
        return value
    }

    /// Replaces a recorded value, e.g. to report what "auto" resolved to.
    mutating func set(_ key: String, _ canonical: String) {
        record(key, canonical)
    }

    func raw(_ key: String) -> String {
        values[key] ?? ""
    }
}

/// Checks shared by every trainer before fitting.
enum TrainingChecks {
    static func features(_ data: Dataset, algorithm: String) throws {
        if data.count == 0 {
            throw LearningError.emptyTrainingData(algorithm: algorithm)
        }
        if !data.features.values.allSatisfy(\.isFinite) || !data.target.allSatisfy(\.isFinite) {
            throw LearningError.nonFiniteTrainingData(algorithm: algorithm)
        }
    }

    /// The sorted distinct target values and each row's index among them; refuses a single class.
    static func classes(_ data: Dataset, algorithm: String) throws -> (classes: [Double], encoded: [Int32]) {
        let classes = Array(Set(data.target)).sorted()
        if classes.count < 2 {
            let label = classes.first.map { $0 == $0.rounded() ? "\(Int($0))" : "\($0)" } ?? ""
            throw LearningError.singleClass(algorithm: algorithm, label: label)
        }
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($0.element, Int32($0.offset)) })
        return (classes, data.target.map { index[$0] ?? 0 })
    }

    static func tensor(_ parameters: [NamedTensor], _ name: String, algorithm: String) throws -> NamedTensor {
        guard let tensor = parameters.first(where: { $0.name == name }) else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor '\(name)' is missing")
        }
        guard tensor.values.count == tensor.shape.reduce(1, *) else {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm, reason: "tensor '\(name)' has \(tensor.values.count) values for shape \(tensor.shape)")
        }
        return tensor
    }

    static func expectShape(_ tensor: NamedTensor, _ shape: [Int], algorithm: String) throws {
        guard tensor.shape == shape else {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm, reason: "tensor '\(tensor.name)' has shape \(tensor.shape), expected \(shape)")
        }
    }
}

/// Row-wise argmax taking the first maximum, as numpy's argmax.
func argmaxRows(_ m: Matrix) -> [Int] {
    var out = [Int](repeating: 0, count: m.rows)
    for i in 0..<m.rows {
        var best = 0
        var bestValue = m.values[i * m.columns]
        for k in 1..<max(m.columns, 1) where m.values[i * m.columns + k] > bestValue {
            best = k
            bestValue = m.values[i * m.columns + k]
        }
        out[i] = best
    }
    return out
}
