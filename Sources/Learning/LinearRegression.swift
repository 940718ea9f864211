/// Ordinary least squares, solved with Householder QR for numerical stability, or
/// iteratively (gd, sgd, adam) with an optional L2 penalty for data where QR is unwanted.
///
/// `coef` keeps shape [d] (not [1, d] like the newer linear models) because stored
/// versions already use it.
public struct LinearRegression: Trainer {
    public let algorithm = "linear-regression"
    public let task = Task.regression
    public let summary = "ordinary least squares linear regression (Householder QR; or gd, sgd, adam)"
    public let hyperparameters = [
        HyperparameterSpec(
            name: "fit_intercept", defaultValue: "true",
            summary: "learn a constant term; false forces the fit through the origin"),
        HyperparameterSpec(name: "solver", defaultValue: "qr", summary: "qr (exact), gd, sgd or adam"),
        HyperparameterSpec(name: "learning_rate", defaultValue: "0.01", summary: "step size for gd, sgd, adam"),
        HyperparameterSpec(name: "batch_size", defaultValue: "32", summary: "rows per step for sgd and adam"),
        HyperparameterSpec(name: "max_iter", defaultValue: "100", summary: "epochs (passes over the data) for gd, sgd, adam"),
        HyperparameterSpec(name: "tol", defaultValue: "1e-6", summary: "stop when the epoch loss changes by less than this (relative)"),
        HyperparameterSpec(name: "l2", defaultValue: "0.0", summary: "L2 penalty l2/2·||w||² on the mean loss for gd, sgd, adam"),
        HyperparameterSpec(name: "seed", defaultValue: "0", summary: "shuffling seed for sgd and adam"),
    ]

    public init() {}

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        let (fitIntercept, resolved) = try resolve(given)
        var reader = try HyperparameterReader(self, given)
        let solver = try reader.choice("solver", ["qr", "gd", "sgd", "adam"])
        if solver != "qr" {
            try TrainingChecks.features(data, algorithm: algorithm)
            let settings = OptimizerSettings(
                kind: OptimizerKind(rawValue: solver) ?? .adam,
                learningRate: try reader.double("learning_rate", positive: true),
                batchSize: try reader.int("batch_size", atLeast: 1),
                epochs: try reader.int("max_iter", atLeast: 1),
                tol: try reader.double("tol", nonNegative: true),
                seed: try reader.seed("seed"))
            let (theta, losses) = try IterativeSolver.fit(
                data.features, data.target, loss: .squared, penalty: try reader.double("l2", nonNegative: true),
                fitIntercept: fitIntercept, settings: settings, algorithm: algorithm)
            let d = data.features.columns
            return makeModel(coef: Array(theta[0..<d]), intercept: theta[d], hyperparameters: resolved, trainingLoss: losses)
        }
        let n = data.count
        let d = data.features.columns
        if n == 0 {
            throw LearningError.emptyTrainingData(algorithm: algorithm)
        }
        if !data.features.values.allSatisfy(\.isFinite) || !data.target.allSatisfy(\.isFinite) {
            throw LearningError.nonFiniteTrainingData(algorithm: algorithm)
        }
        let p = d + (fitIntercept ? 1 : 0)
        if n < p {
            throw LearningError.tooFewRows(algorithm: algorithm, rows: n, parameters: p)
        }

        // Column-major design matrix: Householder works column by column.
        var columns: [[Double]] = []
        columns.reserveCapacity(p)
        var names: [String] = []
        if fitIntercept {
            columns.append(Array(repeating: 1.0, count: n))
            names.append("intercept")
        }
        for j in 0..<d {
            columns.append(data.features.column(j))
            names.append(data.featureNames[j])
        }
        let solution = try solveLeastSquares(columns: columns, target: data.target, names: names)

        let intercept = fitIntercept ? solution[0] : 0.0
        let coef = Array(solution[(fitIntercept ? 1 : 0)...])
        let training = Self.predict(data.features, coef: coef, intercept: intercept)
        var squaredError = 0.0
        for i in 0..<n {
            let residual = training[i] - data.target[i]
            squaredError += residual * residual
        }
        return makeModel(
            coef: coef, intercept: intercept, hyperparameters: resolved,
            trainingLoss: [squaredError / Double(n)])
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        let (_, resolved) = try resolve(hyperparameters)
        guard let coef = parameters.first(where: { $0.name == "coef" }) else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor 'coef' is missing")
        }
        guard let intercept = parameters.first(where: { $0.name == "intercept" }) else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor 'intercept' is missing")
        }
        guard coef.shape == [featureCount], coef.values.count == featureCount else {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm,
                reason: "tensor 'coef' has shape \(coef.shape) and \(coef.values.count) values, expected [\(featureCount)]")
        }
        guard intercept.shape == [1], intercept.values.count == 1 else {
            throw LearningError.invalidStoredModel(
                algorithm: algorithm,
                reason: "tensor 'intercept' has shape \(intercept.shape) and \(intercept.values.count) values, expected [1]")
        }
        return makeModel(coef: coef.values, intercept: intercept.values[0], hyperparameters: resolved, trainingLoss: [])
    }

    private func resolve(_ given: [String: String]) throws -> (fitIntercept: Bool, resolved: [Hyperparameter]) {
        // The reader records canonical spellings so "1" and "true" version identically.
        var reader = try HyperparameterReader(self, given)
        let fitIntercept = try reader.bool("fit_intercept")
        _ = try reader.choice("solver", ["qr", "gd", "sgd", "adam"])
        _ = try reader.double("learning_rate", positive: true)
        _ = try reader.int("batch_size", atLeast: 1)
        _ = try reader.int("max_iter", atLeast: 1)
        _ = try reader.double("tol", nonNegative: true)
        _ = try reader.double("l2", nonNegative: true)
        _ = try reader.seed("seed")
        return (fitIntercept, reader.resolved)
    }

    private func makeModel(coef: [Double], intercept: Double, hyperparameters: [Hyperparameter], trainingLoss: [Double]) -> TrainedModel {
        TrainedModel(
            algorithm: algorithm,
            task: task,
            hyperparameters: hyperparameters,
            parameters: [
                NamedTensor(name: "coef", shape: [coef.count], values: coef),
                NamedTensor(name: "intercept", shape: [1], values: [intercept]),
            ],
            trainingLoss: trainingLoss,
            featureCount: coef.count,
            predictor: { Self.predict($0, coef: coef, intercept: intercept) })
    }

    /// The single prediction routine used both after fit and after load, so the two agree bit for bit.
    static func predict(_ features: Matrix, coef: [Double], intercept: Double) -> [Double] {
        var out: [Double] = []
        out.reserveCapacity(features.rows)
        for i in 0..<features.rows {
            var sum = intercept
            let base = i * features.columns
            for j in 0..<coef.count {
                sum += coef[j] * features.values[base + j]
            }
            out.append(sum)
        }
        return out
    }

    /// Minimises ||A x - y|| for the column-major `columns` of A with Householder QR.
    ///
    /// Columns are first scaled to unit norm so the rank test below is independent of
    /// feature units; without it, a feature measured in tiny units would look dependent.
    private func solveLeastSquares(columns input: [[Double]], target: [Double], names: [String]) throws -> [Double] {
        let n = target.count
        let p = input.count
        if p == 0 {
            return []
        }
        var a = input
        var scales = [Double](repeating: 1, count: p)
        for j in 0..<p {
            let norm = Self.norm(a[j][...])
            if norm == 0 {
                throw LearningError.linearlyDependentColumn(algorithm: algorithm, column: names[j])
            }
            scales[j] = norm
            for i in 0..<n {
                a[j][i] /= norm
            }
        }
        var y = target
        var diagonal = [Double](repeating: 0, count: p)

        for k in 0..<p {
            let norm = Self.norm(a[k][k...])
            if norm == 0 {
                diagonal[k] = 0
                continue
            }
            // Choosing alpha with the opposite sign of the pivot avoids cancellation in v.
            let alpha = a[k][k] >= 0 ? -norm : norm
            var v = Array(a[k][k...])
            v[0] -= alpha
            var vv = 0.0
            for value in v {
                vv += value * value
            }
            diagonal[k] = alpha
            a[k][k] = alpha
            for i in (k + 1)..<n {
                a[k][i] = 0
            }
            if vv == 0 {
                continue
            }
            let factor = 2.0 / vv
            for j in (k + 1)..<p {
                var dot = 0.0
                for i in k..<n {
                    dot += v[i - k] * a[j][i]
                }
                let s = dot * factor
                for i in k..<n {
                    a[j][i] -= s * v[i - k]
                }
            }
            var dot = 0.0
            for i in k..<n {
                dot += v[i - k] * y[i]
            }
            let s = dot * factor
            for i in k..<n {
                y[i] -= s * v[i - k]
            }
        }

        // Relative rank tolerance, as numpy.linalg.matrix_rank uses for singular values.
        let largest = diagonal.map(abs).max() ?? 0
        let tolerance = largest * Double(max(n, p)) * Double.ulpOfOne
        for k in 0..<p where abs(diagonal[k]) <= tolerance {
            // Without pivoting, a tiny R_kk means column k lies in the span of columns 0..<k.
            throw LearningError.linearlyDependentColumn(algorithm: algorithm, column: names[k])
        }

        var x = [Double](repeating: 0, count: p)
        for k in stride(from: p - 1, through: 0, by: -1) {
            var sum = y[k]
            for j in (k + 1)..<p {
                sum -= a[j][k] * x[j]
            }
            x[k] = sum / diagonal[k]
        }
        for j in 0..<p {
            x[j] /= scales[j]
        }
        return x
    }

    /// Euclidean norm that neither overflows nor underflows for extreme magnitudes.
    private static func norm(_ values: ArraySlice<Double>) -> Double {
        var largest = 0.0
        for value in values {
            largest = max(largest, abs(value))
        }
        if largest == 0 {
            return 0
        }
        var sum = 0.0
        for value in values {
            let scaled = value / largest
            sum += scaled * scaled
        }
        return largest * sum.squareRoot()
    }
}
