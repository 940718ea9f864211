import Foundation

/// L2-regularised logistic regression as scikit-learn's LogisticRegression: minimises
/// Σ log-loss + ||W||²/(2C) with intercepts unpenalised; binary with one coefficient row,
/// more classes with a multinomial softmax (K rows, intercepts centred to sum 0 as
/// scikit-learn reports them). The default solver is Newton's method with a backtracking
/// line search, which converges to machine precision in a few iterations on the small
/// dimensions this tool targets; gd, sgd and adam are first-order alternatives.
public struct LogisticRegression: Trainer {
    public let algorithm = "logistic-regression"
    public let task = Task.classification
    public let summary = "logistic regression, binary or multinomial, L2 penalty 1/(2C) (Newton; or gd, sgd, adam)"
    public let hyperparameters = [
        HyperparameterSpec(name: "C", defaultValue: "1.0", summary: "inverse L2 strength: the penalty is ||w||²/(2C)"),
        HyperparameterSpec(name: "fit_intercept", defaultValue: "true", summary: "learn unpenalised intercepts"),
        HyperparameterSpec(name: "solver", defaultValue: "newton", summary: "newton, gd, sgd or adam"),
        HyperparameterSpec(name: "max_iter", defaultValue: "100", summary: "Newton iterations, or epochs for gd/sgd/adam"),
        HyperparameterSpec(
            name: "tol", defaultValue: "1e-4",
            summary: "stop when the mean gradient (Newton) or the loss change (gd/sgd/adam) is below this"),
        HyperparameterSpec(name: "learning_rate", defaultValue: "0.1", summary: "step size for gd, sgd, adam"),
        HyperparameterSpec(name: "batch_size", defaultValue: "32", summary: "rows per step for sgd and adam"),
        HyperparameterSpec(name: "seed", defaultValue: "0", summary: "shuffling seed for sgd and adam"),
    ]

    public init() {}

    private struct Settings {
        var c: Double
        var fitIntercept: Bool
        var solver: String
        var maxIter: Int
        var tol: Double
        var learningRate: Double
        var batchSize: Int
        var seed: UInt64
    }

    private func read(_ given: [String: String]) throws -> (Settings, [Hyperparameter]) {
        var r = try HyperparameterReader(self, given)
        let settings = Settings(
            c: try r.double("C", positive: true),
            fitIntercept: try r.bool("fit_intercept"),
            solver: try r.choice("solver", ["newton", "gd", "sgd", "adam"], aliases: ["lbfgs": "newton", "newton-cg": "newton"]),
            maxIter: try r.int("max_iter", atLeast: 1),
            tol: try r.double("tol", positive: true),
            learningRate: try r.double("learning_rate", positive: true),
            batchSize: try r.int("batch_size", atLeast: 1),
            seed: try r.seed("seed"))
        return (settings, r.resolved)
    }

    public func fit(_ data: Dataset, hyperparameters given: [String: String]) throws -> TrainedModel {
        let (s, resolved) = try read(given)
        try TrainingChecks.features(data, algorithm: algorithm)
        let (classes, encoded) = try TrainingChecks.classes(data, algorithm: algorithm)
        let k = classes.count
        let d = data.features.columns
        let rows = k == 2 ? 1 : k
        let y = encoded.map(Double.init)
        var theta: [Double]
        var losses: [Double]
        if s.solver == "newton" {
            (theta, losses) = try newton(data.features, y, classes: k, settings: s)
        } else {
            let settings = OptimizerSettings(
                kind: OptimizerKind(rawValue: s.solver) ?? .adam, learningRate: s.learningRate,
                batchSize: s.batchSize, epochs: s.maxIter, tol: s.tol, seed: s.seed)
            (theta, losses) = try IterativeSolver.fit(
                data.features, y, loss: k == 2 ? .logistic : .softmax(classes: k),
                penalty: 1 / (s.c * Double(data.count)), fitIntercept: s.fitIntercept,
                settings: settings, algorithm: algorithm)
        }
        var coef: [Double] = []
        var intercept: [Double] = []
        for c in 0..<rows {
            coef += theta[(c * (d + 1))..<(c * (d + 1) + d)]
            intercept.append(theta[c * (d + 1) + d])
        }
        if rows > 1 {
            let mean = intercept.reduce(0, +) / Double(rows)
            intercept = intercept.map { $0 - mean }
        }
        return makeModel(
            coef: coef, intercept: intercept, classes: classes, features: d,
            hyperparameters: resolved, trainingLoss: losses)
    }

    public func load(parameters: [NamedTensor], hyperparameters: [String: String], featureCount: Int) throws -> TrainedModel {
        let (_, resolved) = try read(hyperparameters)
        let classes = try TrainingChecks.tensor(parameters, "classes", algorithm: algorithm)
        let k = classes.values.count
        guard k >= 2 else {
            throw LearningError.invalidStoredModel(algorithm: algorithm, reason: "tensor 'classes' needs at least 2 values")
        }
        let rows = k == 2 ? 1 : k
        let coef = try TrainingChecks.tensor(parameters, "coef", algorithm: algorithm)
        let intercept = try TrainingChecks.tensor(parameters, "intercept", algorithm: algorithm)
        try TrainingChecks.expectShape(coef, [rows, featureCount], algorithm: algorithm)
        try TrainingChecks.expectShape(intercept, [rows], algorithm: algorithm)
        return makeModel(
            coef: coef.values, intercept: intercept.values, classes: classes.values,
            features: featureCount, hyperparameters: resolved, trainingLoss: [])
    }

    private func makeModel(
        coef: [Double], intercept: [Double], classes: [Double], features d: Int,
        hyperparameters: [Hyperparameter], trainingLoss: [Double]
    ) -> TrainedModel {
        let probabilities: @Sendable (Matrix) -> Matrix = { x in
            Self.probabilities(x, coef: coef, intercept: intercept, classes: classes.count)
        }
        return TrainedModel(
            algorithm: algorithm, task: task, hyperparameters: hyperparameters,
            parameters: [
                NamedTensor(name: "coef", shape: [intercept.count, d], values: coef),
                NamedTensor(name: "intercept", shape: [intercept.count], values: intercept),
                NamedTensor(name: "classes", shape: [classes.count], values: classes),
            ],
            trainingLoss: trainingLoss, featureCount: d, classes: classes,
            predictor: { x in argmaxRows(probabilities(x)).map { classes[$0] } },
            probabilities: probabilities)
    }

    static func probabilities(_ x: Matrix, coef: [Double], intercept: [Double], classes k: Int) -> Matrix {
        let scores = LinearAlgebra.scores(x, coef: coef, intercept: intercept, outputs: intercept.count)
        var out = Matrix(rows: x.rows, columns: k)
        for i in 0..<x.rows {
            if k == 2 {
                let p = 1 / (1 + exp(-scores.values[i]))
                out.values[2 * i] = 1 - p
                out.values[2 * i + 1] = p
            } else {
                var top = -Double.infinity
                for c in 0..<k { top = max(top, scores.values[i * k + c]) }
                var sum = 0.0
                for c in 0..<k {
                    let e = exp(scores.values[i * k + c] - top)
                    out.values[i * k + c] = e
                    sum += e
                }
                for c in 0..<k { out.values[i * k + c] /= sum }
            }
        }
        return out
    }

    /// Newton's method on the summed objective. Parameters are `rows` blocks of (w, b);
    /// for the softmax the last intercept is held at 0 because intercepts are only
    /// determined up to a common shift, which would make the Hessian singular.
    private func newton(_ x: Matrix, _ y: [Double], classes k: Int, settings s: Settings) throws -> ([Double], [Double]) {
        let n = x.rows
        let d = x.columns
        let rows = k == 2 ? 1 : k
        let width = d + 1
        var theta = [Double](repeating: 0, count: rows * width)
        let penalty = 1 / s.c
        // Parameters that move: intercepts only when fitted, and not the pinned softmax one.
        var free: [Int] = []
        for c in 0..<rows {
            for j in 0..<width {
                if j == d && (!s.fitIntercept || (rows > 1 && c == rows - 1)) { continue }
                free.append(c * width + j)
            }
        }
        var losses: [Double] = []
        var (objective, gradient, _) = evaluate(x, y, theta: theta, rows: rows, penalty: penalty, wantHessian: false)
        var finalStep = false
        for _ in 0..<s.maxIter {
            let (_, g, hessian) = evaluate(x, y, theta: theta, rows: rows, penalty: penalty, wantHessian: true)
            gradient = g
            var largest = 0.0
            for index in free { largest = max(largest, abs(gradient[index])) }
            if largest / Double(n) <= 1e-15 { break }
            let m = free.count
            var h = [Double](repeating: 0, count: m * m)
            var b = [Double](repeating: 0, count: m)
            for (a, ia) in free.enumerated() {
                b[a] = -gradient[ia]
                for (c, ic) in free.enumerated() { h[a * m + c] = hessian[ia * theta.count + ic] }
            }
            var failure: Int?
            guard let direction = LinearAlgebra.choleskySolve(h, b, p: m, pivotFailure: &failure) else {
                throw LearningError.didNotConverge(
                    algorithm: algorithm, iterations: losses.count + 1,
                    hint: "the Hessian is singular; lower C or drop constant or duplicate features")
            }
            var slope = 0.0
            for a in 0..<m { slope -= direction[a] * b[a] }
            // Backtracking (Armijo) keeps every step a decrease, so far starts cannot diverge.
            var stepSize = 1.0
            var accepted = false
            for _ in 0..<40 {
                var trial = theta
                for (a, index) in free.enumerated() { trial[index] += stepSize * direction[a] }
                let (value, _, _) = evaluate(x, y, theta: trial, rows: rows, penalty: penalty, wantHessian: false)
                if value <= objective + 1e-4 * stepSize * slope || value <= objective {
                    theta = trial
                    objective = value
                    accepted = true
                    break
                }
                stepSize /= 2
            }
            losses.append(objective / Double(n))
            if !accepted || finalStep { break }
            // Converged at tolerance: one more Newton step squares the error, which is what
            // brings coefficients to scikit-learn's lbfgs-at-tol-1e-10 precision.
            if largest / Double(n) <= s.tol { finalStep = true }
        }
        return (theta, losses)
    }

    /// The summed objective, its gradient and (optionally) its Hessian over all parameters.
    private func evaluate(
        _ x: Matrix, _ y: [Double], theta: [Double], rows: Int, penalty: Double, wantHessian: Bool
    ) -> (Double, [Double], [Double]) {
        let n = x.rows
        let d = x.columns
        let width = d + 1
        let total = rows * width
        let chunks = min(ProcessInfo.processInfo.activeProcessorCount, max(1, n / 20_000))
        let size = (n + chunks - 1) / chunks
        let slots = ResultSlots<(Double, [Double], [Double])>(count: chunks)
        let binary = rows == 1
        let work: @Sendable (Int) -> Void = { chunk in
            var value = 0.0
            var gradient = [Double](repeating: 0, count: total)
            var hessian = [Double](repeating: 0, count: wantHessian ? total * total : 0)
            var z = [Double](repeating: 0, count: rows)
            var p = [Double](repeating: 0, count: rows)
            let start = chunk * size
            let end = min(n, start + size)
            x.values.withUnsafeBufferPointer { xs in
                theta.withUnsafeBufferPointer { t in
                    gradient.withUnsafeMutableBufferPointer { g in
                        hessian.withUnsafeMutableBufferPointer { h in
                            for i in start..<end {
                                let base = i * d
                                for c in 0..<rows {
                                    var s = t[c * width + d]
                                    for j in 0..<d { s += t[c * width + j] * xs[base + j] }
                                    z[c] = s
                                }
                                if binary {
                                    let sign = y[i] > 0.5 ? -z[0] : z[0]
                                    value += sign > 0 ? sign + log1p(exp(-sign)) : log1p(exp(sign))
                                    p[0] = 1 / (1 + exp(-z[0]))
                                    let r = p[0] - y[i]
                                    for j in 0..<d { g[j] += r * xs[base + j] }
                                    g[d] += r
                                    if wantHessian {
                                        let w = p[0] * (1 - p[0])
                                        // Upper triangle of the (d+1)² block; mirrored after the sum.
                                        for a in 0..<width {
                                            let za = a < d ? xs[base + a] * w : w
                                            let row = a * total
                                            for b in a..<d { h[row + b] += za * xs[base + b] }
                                            h[row + d] += za
                                        }
                                    }
                                } else {
                                    var top = z[0]
                                    for c in 1..<rows { top = max(top, z[c]) }
                                    var sum = 0.0
                                    for c in 0..<rows {
                                        p[c] = exp(z[c] - top)
                                        sum += p[c]
                                    }
                                    let label = Int(y[i])
                                    value += log(sum) + top - z[label]
                                    for c in 0..<rows { p[c] /= sum }
                                    for c in 0..<rows {
                                        let r = p[c] - (c == label ? 1 : 0)
                                        let gb = c * width
                                        for j in 0..<d { g[gb + j] += r * xs[base + j] }
                                        g[gb + d] += r
                                    }
                                    if wantHessian {
                                        for c in 0..<rows {
                                            for e in c..<rows {
                                                let w = p[c] * ((c == e ? 1 : 0) - p[e])
                                                if w == 0 { continue }
                                                for a in 0..<width {
                                                    let za = (a < d ? xs[base + a] : 1) * w
                                                    let row = (c * width + a) * total + e * width
                                                    for b in 0..<d { h[row + b] += za * xs[base + b] }
                                                    h[row + d] += za
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            slots.set(chunk, (value, gradient, hessian))
        }
        if chunks == 1 {
            work(0)
        } else {
            DispatchQueue.concurrentPerform(iterations: chunks) { work($0) }
        }
        var value = 0.0
        var gradient = [Double](repeating: 0, count: total)
        var hessian = [Double](repeating: 0, count: wantHessian ? total * total : 0)
        for c in 0..<chunks {
            guard let part = slots.get(c) else { continue }
            value += part.0
            for i in 0..<total { gradient[i] += part.1[i] }
            for i in hessian.indices { hessian[i] += part.2[i] }
        }
        if wantHessian {
            // Fill the lower triangle from the upper one.
            if binary {
                for a in 0..<width { for b in 0..<a { hessian[a * total + b] = hessian[b * total + a] } }
            } else {
                for c in 0..<rows {
                    for e in c..<rows {
                        for a in 0..<width {
                            for b in 0..<width {
                                let upper = (c * width + a) * total + e * width + b
                                let lower = (e * width + b) * total + c * width + a
                                hessian[lower] = hessian[upper]
                            }
                        }
                    }
                }
            }
        }
        var norm = 0.0
        for c in 0..<rows {
            for j in 0..<d {
                let index = c * width + j
                norm += theta[index] * theta[index]
                gradient[index] += penalty * theta[index]
                if wantHessian { hessian[index * total + index] += penalty }
            }
        }
        value += 0.5 * penalty * norm
        return (value, gradient, hessian)
    }
}
