import Foundation

/// L2-penalised least squares in closed form, as scikit-learn's Ridge: minimises
/// ||y - Xw - b||² + alpha·||w||² with the intercept b not penalised (X and y are centred).
public struct Ridge: Trainer {
    public let algorithm = "ridge"
    public let task = Task.regression
    public let summary = "ridge regression: least squares with an L2 penalty (closed form, Cholesky)"
    public let hyperparameters = [
        HyperparameterSpec(name: "alpha", defaultValue: "1.0", summary: "L2 penalty strength, at least 0"),
        HyperparameterSpec(name: "fit_intercept", defaultValue: "true", summary: "learn an unpenalised constant term"),
    ]

    public init() {}

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        var reader = try HyperparameterReader(self, given)
        let alpha = try reader.double("alpha", nonNegative: true)
        let fitIntercept = try reader.bool("fit_intercept")
        try TrainingChecks.features(data, algorithm: algorithm)
        let d = data.features.columns
        let n = data.count
        // Centring removes the intercept from the system, which is how it escapes the penalty.
        let xMean = fitIntercept ? LinearAlgebra.columnMeans(data.features) : [Double](repeating: 0, count: d)
        let yMean = fitIntercept ? data.target.reduce(0, +) / Double(n) : 0
        let centredTarget = data.target.map { $0 - yMean }
        var (gram, moment) = LinearAlgebra.weightedGram(
            data.features, weights: nil, target: centredTarget, intercept: false, center: fitIntercept ? xMean : nil)
        for j in 0..<d { gram[j * d + j] += alpha }
        var failure: Int?
        // With a penalty, one-hot columns that add up to the intercept are no obstacle
        // (scikit-learn's Ridge fits them too): every pivot is at least about alpha.
        let floor = alpha > 0 ? alpha * 1e-6 : nil
        guard let coef = LinearAlgebra.choleskySolve(gram, moment, p: d, pivotFailure: &failure, floor: floor) else {
            // Only alpha = 0 can get here: a positive alpha makes the system positive definite.
            throw LearningError.linearlyDependentColumn(algorithm: algorithm, column: data.featureNames[failure ?? 0])
        }
        var intercept = yMean
        for j in 0..<d { intercept -= xMean[j] * coef[j] }
        let model = makeModel(coef: coef, intercept: intercept, hyperparameters: reader.resolved, trainingLoss: [])
        let fitted = try model.predict(data.features)
        var loss = 0.0
        for i in 0..<n { loss += (fitted[i] - data.target[i]) * (fitted[i] - data.target[i]) }
        return makeModel(coef: coef, intercept: intercept, hyperparameters: reader.resolved, trainingLoss: [loss / Double(n)])
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        var reader = try HyperparameterReader(self, hyperparameters)
        _ = try reader.double("alpha", nonNegative: true)
        _ = try reader.bool("fit_intercept")
        let coef = try TrainingChecks.tensor(parameters, "coef", algorithm: algorithm)
        let intercept = try TrainingChecks.tensor(parameters, "intercept", algorithm: algorithm)
        try TrainingChecks.expectShape(coef, [1, featureCount], algorithm: algorithm)
        try TrainingChecks.expectShape(intercept, [1], algorithm: algorithm)
        return makeModel(coef: coef.values, intercept: intercept.values[0], hyperparameters: reader.resolved, trainingLoss: [])
    }

    private func makeModel(coef: [Double], intercept: Double, hyperparameters: [Hyperparameter], trainingLoss: [Double]) -> TrainedModel {
        TrainedModel(
            algorithm: algorithm, task: task, hyperparameters: hyperparameters,
            parameters: [
                NamedTensor(name: "coef", shape: [1, coef.count], values: coef),
                NamedTensor(name: "intercept", shape: [1], values: [intercept]),
            ],
            trainingLoss: trainingLoss, featureCount: coef.count,
            predictor: { LinearRegression.predict($0, coef: coef, intercept: intercept) })
    }
}
