import Foundation

/// A linear support vector classifier with the hinge loss and an L2 penalty, minimising
/// ½||w||² + C·Σ max(0, 1 - y(w·x + b)), solved by dual coordinate descent as liblinear does.
/// Like liblinear (and scikit-learn's LinearSVC), the intercept is learned as the weight of
/// a constant feature and so is penalised too. More than two classes train one-vs-rest.
/// `predictProbabilities` returns nil: hinge-loss scores are not probabilities.
public struct LinearSVM: Trainer {
    public let algorithm = "linear-svm"
    public let task = Task.classification
    public let summary = "linear SVM (hinge loss, L2; dual coordinate descent; one-vs-rest for 3+ classes)"
    public let hyperparameters = [
        HyperparameterSpec(name: "C", defaultValue: "1.0", summary: "inverse regularisation: weight of the hinge losses"),
        HyperparameterSpec(name: "fit_intercept", defaultValue: "true", summary: "learn a constant term (penalised, as liblinear)"),
        HyperparameterSpec(name: "max_iter", defaultValue: "1000", summary: "passes over the data"),
        HyperparameterSpec(name: "tol", defaultValue: "1e-4", summary: "stop when the projected-gradient spread is below this"),
        HyperparameterSpec(name: "seed", defaultValue: "0", summary: "seed for the order rows are visited in"),
    ]

    public init() {}

    private func read(_ given: [String: String]) throws -> (
        c: Double, intercept: Bool, maxIter: Int, tol: Double, seed: UInt64, resolved: [Hyperparameter]
    ) {
        var r = try HyperparameterReader(self, given)
        let c = try r.double("C", positive: true)
        let intercept = try r.bool("fit_intercept")
        let maxIter = try r.int("max_iter", atLeast: 1)
        let tol = try r.double("tol", positive: true)
        let seed = try r.seed("seed")
        return (c, intercept, maxIter, tol, seed, r.resolved)
    }

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        let s = try read(given)
        try TrainingChecks.features(data, algorithm: algorithm)
        let (classes, encoded) = try TrainingChecks.classes(data, algorithm: algorithm)
        let problems = classes.count == 2 ? [1] : Array(0..<classes.count)
        let d = data.features.columns
        var coef: [Double] = []
        var intercept: [Double] = []
        var losses: [Double] = []
        // One-vs-rest problems are independent, so they run concurrently.
        let slots = ResultSlots<([Double], [Double])>(count: problems.count)
        let features = data.features
        DispatchQueue.concurrentPerform(iterations: problems.count) { p in
            let positive = Int32(problems[p])
            let signs = encoded.map { $0 == positive ? 1.0 : -1.0 }
            slots.set(
                p,
                Self.dualCoordinateDescent(
                    features, signs, c: s.c, intercept: s.intercept,
                    maxIter: s.maxIter, tol: s.tol, seed: s.seed &+ UInt64(p)))
        }
        for p in problems.indices {
            guard let (w, history) = slots.get(p) else { continue }
            coef += w[0..<d]
            intercept.append(s.intercept ? w[d] : 0)
            // The reported loss is the sum of the one-vs-rest primal objectives per pass.
            for (e, value) in history.enumerated() {
                if e < losses.count { losses[e] += value } else { losses.append(value) }
            }
        }
        return makeModel(
            coef: coef, intercept: intercept, classes: classes, features: d,
            hyperparameters: s.resolved, trainingLoss: losses)
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        let s = try read(hyperparameters)
        let classes = try TrainingChecks.tensor(parameters, "classes", algorithm: algorithm)
        guard classes.values.count >= 2 else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor 'classes' needs at least 2 values")
        }
        let rows = classes.values.count == 2 ? 1 : classes.values.count
        let coef = try TrainingChecks.tensor(parameters, "coef", algorithm: algorithm)
        let intercept = try TrainingChecks.tensor(parameters, "intercept", algorithm: algorithm)
        try TrainingChecks.expectShape(coef, [rows, featureCount], algorithm: algorithm)
        try TrainingChecks.expectShape(intercept, [rows], algorithm: algorithm)
        return makeModel(
            coef: coef.values, intercept: intercept.values, classes: classes.values, features: featureCount,
            hyperparameters: s.resolved, trainingLoss: [])
    }

    private func makeModel(
        coef: [Double], intercept: [Double], classes: [Double], features d: Int,
        hyperparameters: [Hyperparameter], trainingLoss: [Double]
    ) -> TrainedModel {
        TrainedModel(
            algorithm: algorithm, task: task, hyperparameters: hyperparameters,
            parameters: [
                NamedTensor(name: "coef", shape: [intercept.count, d], values: coef),
                NamedTensor(name: "intercept", shape: [intercept.count], values: intercept),
                NamedTensor(name: "classes", shape: [classes.count], values: classes),
            ],
            trainingLoss: trainingLoss, featureCount: d, classes: classes,
            predictor: { x in
                let scores = LinearAlgebra.scores(x, coef: coef, intercept: intercept, outputs: intercept.count)
                if intercept.count == 1 {
                    return scores.values.map { $0 > 0 ? classes[1] : classes[0] }
                }
                return argmaxRows(scores).map { classes[$0] }
            },
            probabilities: nil)
    }

    /// liblinear's dual solver for the L1-loss SVM (without shrinking): returns w (with the
    /// bias weight last when `intercept`) and the primal objective after each pass.
    static func dualCoordinateDescent(
        _ x: Matrix, _ y: [Double], c: Double, intercept: Bool, maxIter: Int, tol: Double, seed: UInt64
    ) -> ([Double], [Double]) {
        let n = x.rows
        let d = x.columns
        let width = d + (intercept ? 1 : 0)
        var w = [Double](repeating: 0, count: width)
        var alpha = [Double](repeating: 0, count: n)
        var diagonal = [Double](repeating: 0, count: n)
        x.values.withUnsafeBufferPointer { xs in
            for i in 0..<n {
                var q = intercept ? 1.0 : 0.0
                for j in 0..<d { q += xs[i * d + j] * xs[i * d + j] }
                diagonal[i] = q
            }
        }
        var order = Array(0..<n)
        var generator = SeededGenerator(seed: seed)
        var losses: [Double] = []
        x.values.withUnsafeBufferPointer { xs in
            for _ in 0..<maxIter {
                var i = n - 1
                while i > 0 {
                    order.swapAt(i, Int(generator.nextInt(below: UInt64(i + 1))))
                    i -= 1
                }
                var largest = -Double.infinity
                var smallest = Double.infinity
                for i in order where diagonal[i] > 0 {
                    let base = i * d
                    var score = intercept ? w[d] : 0
                    for j in 0..<d { score += w[j] * xs[base + j] }
                    let g = y[i] * score - 1
                    var projected = g
                    if alpha[i] == 0 { projected = min(g, 0) } else if alpha[i] == c { projected = max(g, 0) }
                    largest = max(largest, projected)
                    smallest = min(smallest, projected)
                    if abs(projected) > 1e-12 {
                        let old = alpha[i]
                        alpha[i] = min(max(old - g / diagonal[i], 0), c)
                        let delta = (alpha[i] - old) * y[i]
                        for j in 0..<d { w[j] += delta * xs[base + j] }
                        if intercept { w[d] += delta }
                    }
                }
                var objective = 0.0
                for j in 0..<width { objective += 0.5 * w[j] * w[j] }
                for i in 0..<n {
                    var score = intercept ? w[d] : 0
                    for j in 0..<d { score += w[j] * xs[i * d + j] }
                    objective += c * max(0, 1 - y[i] * score)
                }
                losses.append(objective)
                if largest - smallest <= tol { break }
            }
        }
        return (w, losses)
    }
}
