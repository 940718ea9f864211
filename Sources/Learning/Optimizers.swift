import Foundation

/// First-order optimizers for the linear models' iterative solvers.
public enum OptimizerKind: String, Sendable, CaseIterable {
    /// Full-batch gradient descent: one step per epoch.
    case gd
    /// Mini-batch stochastic gradient descent over a seeded shuffle.
    case sgd
    /// Adam (β1 0.9, β2 0.999, ε 1e-8) over seeded mini-batches.
    case adam
}

/// Settings shared by the iterative solvers.
struct OptimizerSettings {
    var kind: OptimizerKind
    var learningRate: Double
    var batchSize: Int
    var epochs: Int
    var tol: Double
    var seed: UInt64
}

/// The loss of a linear model with k outputs: parameters are k rows of (w_1…w_d, b).
enum LinearLoss {
    /// 0.5·(z - y)²; reported as the mean squared error.
    case squared
    /// Binary cross-entropy with targets 0/1 and one output.
    case logistic
    /// Softmax cross-entropy over `classes` outputs, targets are class indices.
    case softmax(classes: Int)

    var outputs: Int {
        if case .softmax(let k) = self { return k }
        return 1
    }
}

enum IterativeSolver {
    /// Minimises mean loss + penalty·½||w||² (intercepts unpenalised) and returns the
    /// parameters and the objective after every epoch. Throws when the loss blows up.
    static func fit(
        _ x: Matrix, _ y: [Double], loss: LinearLoss, penalty: Double, fitIntercept: Bool,
        settings: OptimizerSettings, algorithm: String
    ) throws -> (theta: [Double], losses: [Double]) {
        let n = x.rows
        let d = x.columns
        let k = loss.outputs
        let width = d + 1
        var theta = [Double](repeating: 0, count: k * width)
        var m = theta
        var v = theta
        var step = 0
        var generator = SeededGenerator(seed: settings.seed)
        var order = Array(0..<n)
        var losses: [Double] = []
        var gradient = theta
        var previous = Double.infinity
        let batch = settings.kind == .gd ? n : max(1, min(settings.batchSize, n))
        for _ in 0..<settings.epochs {
            if settings.kind != .gd {
                // Fisher–Yates with the seeded generator: the same seed visits rows in the same order.
                var i = n - 1
                while i > 0 {
                    let j = Int(generator.nextInt(below: UInt64(i + 1)))
                    order.swapAt(i, j)
                    i -= 1
                }
            }
            var start = 0
            while start < n {
                let end = min(n, start + batch)
                _ = accumulate(x, y, order[start..<end], theta: theta, loss: loss, gradient: &gradient)
                let scale = 1.0 / Double(end - start)
                for c in 0..<k {
                    for j in 0..<width {
                        let index = c * width + j
                        var g = gradient[index] * scale
                        if j < d { g += penalty * theta[index] }
                        if j == d && !fitIntercept { g = 0 }
                        switch settings.kind {
                        case .gd, .sgd:
                            theta[index] -= settings.learningRate * g
                        case .adam:
                            m[index] = 0.9 * m[index] + 0.1 * g
                            v[index] = 0.999 * v[index] + 0.001 * g * g
                        }
                    }
                }
                if settings.kind == .adam {
                    step += 1
                    let correction1 = 1 - pow(0.9, Double(step))
                    let correction2 = 1 - pow(0.999, Double(step))
                    for index in theta.indices {
                        theta[index] -= settings.learningRate * (m[index] / correction1) / ((v[index] / correction2).squareRoot() + 1e-8)
                    }
                }
                start = end
            }
            var objective = accumulate(x, y, order[0..<n], theta: theta, loss: loss, gradient: &gradient) / Double(n)
            if case .squared = loss {
                objective *= 2  // report the mean squared error, the familiar scale
            }
            var norm = 0.0
            for c in 0..<k { for j in 0..<d { norm += theta[c * width + j] * theta[c * width + j] } }
            objective += 0.5 * penalty * norm
            guard objective.isFinite else {
                throw LearningError.didNotConverge(
                    algorithm: algorithm, iterations: losses.count + 1,
                    hint: "the loss became infinite; lower learning_rate or standardize the features")
            }
            losses.append(objective)
            if previous.isFinite && abs(previous - objective) <= settings.tol * max(1, abs(previous)) {
                break
            }
            previous = objective
        }
        return (theta, losses)
    }

    /// Sums the loss over `rows` and writes the summed gradient into `gradient`.
    private static func accumulate(
        _ x: Matrix, _ y: [Double], _ rows: ArraySlice<Int>, theta: [Double], loss: LinearLoss, gradient: inout [Double]
    ) -> Double {
        let d = x.columns
        let width = d + 1
        let k = loss.outputs
        for index in gradient.indices { gradient[index] = 0 }
        var total = 0.0
        var z = [Double](repeating: 0, count: k)
        x.values.withUnsafeBufferPointer { xs in
            theta.withUnsafeBufferPointer { t in
                gradient.withUnsafeMutableBufferPointer { g in
                    for i in rows {
                        let base = i * d
                        for c in 0..<k {
                            var s = t[c * width + d]
                            for j in 0..<d { s += t[c * width + j] * xs[base + j] }
                            z[c] = s
                        }
                        switch loss {
                        case .squared:
                            let r = z[0] - y[i]
                            total += 0.5 * r * r
                            z[0] = r
                        case .logistic:
                            // log(1 + e^{-z}) for y = 1 and log(1 + e^{z}) for y = 0, in a stable form.
                            let s = y[i] > 0.5 ? -z[0] : z[0]
                            total += s > 0 ? s + log1p(exp(-s)) : log1p(exp(s))
                            z[0] = 1 / (1 + exp(-z[0])) - y[i]
                        case .softmax:
                            var top = z[0]
                            for c in 1..<k { top = max(top, z[c]) }
                            var sum = 0.0
                            let label = Int(y[i])
                            // log-sum-exp on the shifted logits: exp of a very negative logit may
                            // underflow to 0, and log(0) would turn a fine loss infinite.
                            let shiftedLabel = z[label] - top
                            for c in 0..<k {
                                z[c] = exp(z[c] - top)
                                sum += z[c]
                            }
                            total += log(sum) - shiftedLabel
                            for c in 0..<k { z[c] = z[c] / sum - (c == label ? 1 : 0) }
                        }
                        for c in 0..<k {
                            let r = z[c]
                            let gb = c * width
                            for j in 0..<d { g[gb + j] += r * xs[base + j] }
                            g[gb + d] += r
                        }
                    }
                }
            }
        }
        return total
    }
}
