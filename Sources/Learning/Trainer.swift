// Learning: the built-in machine learning — CSV parsing, datasets and preprocessing
// (one-hot, imputation, standardisation), the deterministic train/test split, trainers
// (linear and ridge regression, logistic regression, linear SVM, CART trees and random
// forests, with gd/sgd/adam optimizers) and their metrics, matched against scikit-learn
// in the tests. It depends on nothing of mv's: no Git, no files beyond the CSV text it is
// given, no printing.

/// What a model predicts: a continuous value or a class label.
public enum Task: String, Sendable, Codable, CaseIterable {
    case regression
    case classification
}

/// Describes one hyperparameter an algorithm accepts.
public struct HyperparameterSpec: Sendable, Equatable {
    public let name: String
    public let defaultValue: String
    public let summary: String

    public init(name: String, defaultValue: String, summary: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.summary = summary
    }
}

/// A resolved hyperparameter value, as recorded with a trained model.
public struct Hyperparameter: Sendable, Equatable, Codable {
    public let name: String
    public let value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A named array of model parameters with its shape (row-major values).
public struct NamedTensor: Sendable, Equatable, Codable {
    public let name: String
    public let shape: [Int]
    public let values: [Double]

    public init(name: String, shape: [Int], values: [Double]) {
        self.name = name
        self.shape = shape
        self.values = values
    }
}

/// A learning algorithm: trains models and rebuilds them from stored parameters.
public protocol Trainer: Sendable {
    /// Stable identifier, e.g. "linear-regression".
    var algorithm: String { get }
    var task: Task { get }
    var summary: String { get }
    var hyperparameters: [HyperparameterSpec] { get }
    /// Trains on `data`. `given` holds the user's key=value strings; unknown keys or
    /// unparsable values throw a `LearningError` naming the key and the valid keys.
    func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel
    /// Rebuilds a model from tensors as `fit` produced them, to predict later.
    func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel
    /// The task a fit with these hyperparameters performs, so callers can encode the target
    /// before fitting; defaults to `task`.
    func task(for hyperparameters: [String: String]) throws -> Task
}

extension Trainer {
    /// Merges `given` over the defaults, in spec order, refusing unknown keys.
    public func resolveHyperparameters(_ given: [String: String]) throws -> [Hyperparameter] {
        let names = hyperparameters.map(\.name)
        // Sorted so that the reported key does not depend on dictionary order.
        for key in given.keys.sorted() where !names.contains(key) {
            throw LearningError.unknownHyperparameter(algorithm: algorithm, key: key, valid: names)
        }
        return hyperparameters.map { Hyperparameter(name: $0.name, value: given[$0.name] ?? $0.defaultValue) }
    }

    /// Parses a boolean hyperparameter ("true"/"false", also 1/0 and yes/no).
    public func parseBool(_ value: String, key: String) throws -> Bool {
        switch value.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default:
            throw LearningError.invalidHyperparameter(
                algorithm: algorithm, key: key, value: value, expected: "true or false")
        }
    }

    /// Parses a finite floating-point hyperparameter.
    public func parseDouble(_ value: String, key: String) throws -> Double {
        guard let number = Double(value), number.isFinite else {
            throw LearningError.invalidHyperparameter(
                algorithm: algorithm, key: key, value: value, expected: "a finite number")
        }
        return number
    }

    /// Parses an integer hyperparameter.
    public func parseInt(_ value: String, key: String) throws -> Int {
        guard let number = Int(value) else {
            throw LearningError.invalidHyperparameter(
                algorithm: algorithm, key: key, value: value, expected: "a whole number")
        }
        return number
    }
}

/// A trained model: its provenance, parameters, and a way to predict.
///
/// For classification, `classes` lists the target values seen in training, sorted; `predict`
/// returns those values (with targets encoded by `TargetSchema` they are the class indices),
/// and column `i` of `predictProbabilities` belongs to `classes[i]`.
public struct TrainedModel: Sendable {
    public let algorithm: String
    public let task: Task
    /// Every hyperparameter, defaults included, in spec order.
    public let hyperparameters: [Hyperparameter]
    public let parameters: [NamedTensor]
    public let trainingLoss: [Double]
    public let featureCount: Int
    /// Sorted class labels for classifiers; nil for regression.
    public let classes: [Double]?
    private let predictor: @Sendable (Matrix) -> [Double]
    private let probabilityPredictor: (@Sendable (Matrix) -> Matrix)?

    /// `predictor` receives matrices that already have `featureCount` columns.
    public init(
        algorithm: String,
        task: Task,
        hyperparameters: [Hyperparameter],
        parameters: [NamedTensor],
        trainingLoss: [Double],
        featureCount: Int,
        predictor: @escaping @Sendable (Matrix) -> [Double]
    ) {
        self.init(
            algorithm: algorithm, task: task, hyperparameters: hyperparameters, parameters: parameters,
            trainingLoss: trainingLoss, featureCount: featureCount, classes: nil,
            predictor: predictor, probabilities: nil)
    }

    /// A model that may also know its classes and predict class probabilities
    /// (`probabilities` returns rows × classes.count, rows summing to 1).
    public init(
        algorithm: String,
        task: Task,
        hyperparameters: [Hyperparameter],
        parameters: [NamedTensor],
        trainingLoss: [Double],
        featureCount: Int,
        classes: [Double]?,
        predictor: @escaping @Sendable (Matrix) -> [Double],
        probabilities: (@Sendable (Matrix) -> Matrix)?
    ) {
        self.algorithm = algorithm
        self.task = task
        self.hyperparameters = hyperparameters
        self.parameters = parameters
        self.trainingLoss = trainingLoss
        self.featureCount = featureCount
        self.classes = classes
        self.predictor = predictor
        self.probabilityPredictor = probabilities
    }

    /// One prediction per row of `features`: a value for regression, a class label for classification.
    public func predict(_ features: Matrix) throws -> [Double] {
        guard features.columns == featureCount else {
            throw LearningError.featureCountMismatch(expected: featureCount, actual: features.columns)
        }
        return predictor(features)
    }

    /// Class probabilities, rows × `classes.count`; nil for regression and for models that
    /// have no probabilities (linear-svm, whose hinge loss does not estimate them).
    public func predictProbabilities(_ features: Matrix) throws -> Matrix? {
        guard features.columns == featureCount else {
            throw LearningError.featureCountMismatch(expected: featureCount, actual: features.columns)
        }
        return probabilityPredictor?(features)
    }

    /// Probabilities spread over `classCount` columns where column `k` is class index `k`,
    /// zero for classes the training data never showed; needs class-index targets
    /// (as `TargetSchema` encodes them). Use this to score against the full class list.
    public func predictProbabilities(_ features: Matrix, classCount: Int) throws -> Matrix? {
        guard let own = try predictProbabilities(features), let classes else {
            return nil
        }
        var out = Matrix(rows: own.rows, columns: classCount)
        for (column, label) in classes.enumerated() {
            let k = Int(label)
            guard Double(k) == label, k >= 0, k < classCount else {
                throw LearningError.classOutOfRange(label: label, classCount: classCount)
            }
            for i in 0..<own.rows {
                out.values[i * classCount + k] = own.values[i * own.columns + column]
            }
        }
        return out
    }

    /// The value of hyperparameter `name`, if the model has it.
    public func hyperparameter(_ name: String) -> String? {
        hyperparameters.first { $0.name == name }?.value
    }

    /// The tensor called `name`, if the model has it.
    public func parameter(_ name: String) -> NamedTensor? {
        parameters.first { $0.name == name }
    }
}

/// The registry of available algorithms.
public enum Trainers {
    public static let all: [any Trainer] = [
        LinearRegression(), Ridge(), LogisticRegression(), LinearSVM(),
        DecisionTree(), RandomForest(),
    ]

    /// The trainer for `name`; unknown names throw an error listing the known ones.
    public static func named(_ name: String) throws -> any Trainer {
        guard let trainer = all.first(where: { $0.algorithm == name }) else {
            throw LearningError.unknownAlgorithm(name: name, known: all.map(\.algorithm))
        }
        return trainer
    }
}
