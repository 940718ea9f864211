import Foundation

/// Dense kernels for the linear models, on unsafe buffers because these loops run over
/// millions of rows and bounds checks would dominate.
enum LinearAlgebra {
    /// Σ_i w_i z_i z_iᵀ and Σ_i w_i t_i z_i for z_i = (x_i, 1 if `intercept`), computed after
    /// subtracting `center` from x (nil: no centering). Returns the full symmetric p×p matrix.
    /// Rows are split across cores, each with its own accumulator, summed in a fixed order so
    /// results do not depend on timing.
    static func weightedGram(
        _ x: Matrix, weights: [Double]?, target: [Double]?, intercept: Bool, center: [Double]? = nil
    ) -> (gram: [Double], moment: [Double]) {
        let d = x.columns
        let p = d + (intercept ? 1 : 0)
        let n = x.rows
        let chunks = min(ProcessInfo.processInfo.activeProcessorCount, max(1, n / 20_000))
        var partialGram = [[Double]](repeating: [], count: chunks)
        var partialMoment = [[Double]](repeating: [], count: chunks)
        let size = (n + chunks - 1) / chunks
        let work: @Sendable (Int) -> ([Double], [Double]) = { c in
            var gram = [Double](repeating: 0, count: p * p)
            var moment = [Double](repeating: 0, count: p)
            var z = [Double](repeating: 1, count: p)
            let start = c * size
            let end = min(n, start + size)
            x.values.withUnsafeBufferPointer { xs in
                gram.withUnsafeMutableBufferPointer { g in
                    z.withUnsafeMutableBufferPointer { z in
                        for i in start..<end {
                            let base = i * d
                            if let center {
                                for j in 0..<d { z[j] = xs[base + j] - center[j] }
                            } else {
                                for j in 0..<d { z[j] = xs[base + j] }
                            }
                            let w = weights?[i] ?? 1
                            for a in 0..<p {
                                let za = w * z[a]
                                if za == 0 { continue }
                                let row = a * p
                                // Upper triangle only; mirrored below.
                                for b in a..<p { g[row + b] += za * z[b] }
                            }
                            if let target {
                                let wt = w * target[i]
                                for a in 0..<p { moment[a] += wt * z[a] }
                            }
                        }
                    }
                }
            }
            return (gram, moment)
        }
        if chunks == 1 {
            let (g, m) = work(0)
            partialGram[0] = g
            partialMoment[0] = m
        } else {
            let results = ResultSlots<([Double], [Double])>(count: chunks)
            DispatchQueue.concurrentPerform(iterations: chunks) { c in results.set(c, work(c)) }
            for c in 0..<chunks {
                let value = results.get(c)
                partialGram[c] = value?.0 ?? []
                partialMoment[c] = value?.1 ?? []
            }
        }
        var gram = partialGram[0]
        var moment = partialMoment[0]
        for c in 1..<chunks {
            for k in 0..<(p * p) { gram[k] += partialGram[c][k] }
            for k in 0..<p { moment[k] += partialMoment[c][k] }
        }
        for a in 0..<p {
            for b in 0..<a { gram[a * p + b] = gram[b * p + a] }
        }
        return (gram, moment)
    }

    /// Solves A x = b for symmetric positive definite A (p×p row-major) by Cholesky;
    /// nil when A is not numerically positive definite. `pivotFailure` gets the failing index.
    /// `floor`, when given, replaces the relative pivot tolerance: a ridge system is positive
    /// definite by construction (every pivot is at least its penalty), so only a pivot below
    /// that floor means trouble, however large the other diagonal entries are.
    static func choleskySolve(_ a: [Double], _ b: [Double], p: Int, pivotFailure: inout Int?, floor: Double? = nil) -> [Double]? {
        var l = [Double](repeating: 0, count: p * p)
        var largest = 0.0
        for i in 0..<p { largest = max(largest, abs(a[i * p + i])) }
        // Relative pivot tolerance: a pivot this small means the column is (nearly) dependent.
        let tolerance = floor ?? largest * Double(p) * 1e-13
        for j in 0..<p {
            var sum = a[j * p + j]
            for k in 0..<j { sum -= l[j * p + k] * l[j * p + k] }
            if !(sum > tolerance) {
                pivotFailure = j
                return nil
            }
            let diagonal = sum.squareRoot()
            l[j * p + j] = diagonal
            for i in (j + 1)..<max(j + 1, p) {
                var s = a[i * p + j]
                for k in 0..<j { s -= l[i * p + k] * l[j * p + k] }
                l[i * p + j] = s / diagonal
            }
        }
        var y = b
        for i in 0..<p {
            var s = y[i]
            for k in 0..<i { s -= l[i * p + k] * y[k] }
            y[i] = s / l[i * p + i]
        }
        for i in stride(from: p - 1, through: 0, by: -1) {
            var s = y[i]
            for k in (i + 1)..<max(i + 1, p) { s -= l[k * p + i] * y[k] }
            y[i] = s / l[i * p + i]
        }
        return y
    }

    /// Column means of `x`.
    static func columnMeans(_ x: Matrix) -> [Double] {
        var sums = [Double](repeating: 0, count: x.columns)
        x.values.withUnsafeBufferPointer { xs in
            for i in 0..<x.rows {
                let base = i * x.columns
                for j in 0..<x.columns { sums[j] += xs[base + j] }
            }
        }
        return sums.map { $0 / Double(max(x.rows, 1)) }
    }

    /// X·Wᵀ + b for W of shape [k, d]: one row of k scores per example.
    static func scores(_ x: Matrix, coef: [Double], intercept: [Double], outputs k: Int) -> Matrix {
        let d = x.columns
        var out = [Double](repeating: 0, count: x.rows * k)
        x.values.withUnsafeBufferPointer { xs in
            coef.withUnsafeBufferPointer { w in
                out.withUnsafeMutableBufferPointer { o in
                    for i in 0..<x.rows {
                        let base = i * d
                        for c in 0..<k {
                            var s = intercept[c]
                            let wb = c * d
                            for j in 0..<d { s += w[wb + j] * xs[base + j] }
                            o[i * k + c] = s
                        }
                    }
                }
            }
        }
        return Matrix(rows: x.rows, columns: k, values: out)
    }
}

/// Fixed slots that concurrent workers fill, one each; a lock keeps Swift 6's data-race
/// checking satisfied without an actor hop per result.
final class ResultSlots<Value>: @unchecked Sendable {
    private var values: [Value?]
    private let lock = NSLock()

    init(count: Int) {
        values = Array(repeating: nil, count: count)
    }

    func set(_ index: Int, _ value: Value) {
        lock.lock()
        values[index] = value
        lock.unlock()
    }

    func get(_ index: Int) -> Value? {
        lock.lock()
        defer { lock.unlock() }
        return values[index]
    }
}
