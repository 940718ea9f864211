import Foundation

/// The distances between two discrete distributions that `mv monitor` reports, as
/// docs/MONITORING.md defines them.
public enum Divergence {
    /// Evidently's floor for an empty bin, so PSI stays finite.
    public static let emptyBinFloor = 0.0001

    /// Population stability index: Σ (c − r) · ln(c / r) over the bins, after replacing
    /// every empty share (either side) by 0.0001.
    public static func psi(reference: [Double], current: [Double]) -> Double {
        var total = 0.0
        for (r, c) in zip(reference, current) {
            let r = r > 0 ? r : emptyBinFloor
            let c = c > 0 ? c : emptyBinFloor
            total += (c - r) * Foundation.log(c / r)
        }
        return total
    }

    /// Jensen–Shannon distance with natural logarithms (scipy.spatial.distance.jensenshannon):
    /// the square root of the mean Kullback–Leibler divergence of each distribution from
    /// their average. Both are normalised to sum 1 first; 0 for identical, at most √ln 2.
    public static func jensenShannon(_ p: [Double], _ q: [Double]) -> Double {
        let sp = p.reduce(0, +)
        let sq = q.reduce(0, +)
        guard sp > 0, sq > 0 else { return .nan }
        var total = 0.0
        for (a, b) in zip(p, q) {
            let a = a / sp
            let b = b / sq
            let m = (a + b) / 2
            if a > 0 { total += a * Foundation.log(a / m) }
            if b > 0 { total += b * Foundation.log(b / m) }
        }
        return (Swift.max(0, total / 2)).squareRoot()
    }

    /// Pearson's chi-square goodness of fit of observed counts to expected ones (which must
    /// be positive and sum to the same total): the statistic, its degrees of freedom
    /// (categories − 1) and the p-value, as scipy.stats.chisquare.
    public static func chiSquare(observed: [Double], expected: [Double]) -> (statistic: Double, dof: Int, pValue: Double) {
        var statistic = 0.0
        for (o, e) in zip(observed, expected) { statistic += (o - e) * (o - e) / e }
        let dof = observed.count - 1
        guard dof > 0 else { return (statistic, 0, 1) }
        return (statistic, dof, SpecialFunctions.regularizedGammaQ(Double(dof) / 2, statistic / 2))
    }

    /// The two-sided p-value of a two-sample Kolmogorov–Smirnov statistic `d` for samples of
    /// sizes `n` and `m`: Kolmogorov's limiting distribution at λ = (√e + 0.12 + 0.11/√e)·d
    /// with e = n·m/(n+m) (Stephens' correction, which tracks the exact distribution that
    /// scipy uses for large samples to a few thousandths).
    public static func ksPValue(_ d: Double, _ n: Int, _ m: Int) -> Double {
        guard n > 0, m > 0 else { return .nan }
        let e = Double(n) * Double(m) / Double(n + m)
        let root = e.squareRoot()
        return SpecialFunctions.kolmogorovQ((root + 0.12 + 0.11 / root) * d)
    }
}

/// The special functions the tests' p-values need.
public enum SpecialFunctions {
    /// Q(λ) = 2 Σ (−1)^(k−1) e^(−2k²λ²): the chance that Kolmogorov's statistic exceeds λ.
    public static func kolmogorovQ(_ lambda: Double) -> Double {
        guard lambda > 0.2 else { return 1 }
        var sum = 0.0
        var sign = 1.0
        for k in 1...100 {
            let term = sign * Foundation.exp(-2 * Double(k * k) * lambda * lambda)
            sum += term
            if Swift.abs(term) < 1e-16 * Swift.max(sum, 1e-300) { break }
            sign = -sign
        }
        return Swift.min(1, Swift.max(0, 2 * sum))
    }

    /// The regularised upper incomplete gamma function Q(a, x) = Γ(a, x) / Γ(a): by its
    /// series below a + 1 and by Lentz's continued fraction above (Numerical Recipes §6.2).
    public static func regularizedGammaQ(_ a: Double, _ x: Double) -> Double {
        guard x > 0 else { return 1 }
        guard x.isFinite else { return 0 }
        let logPrefix = -x + a * Foundation.log(x) - Foundation.lgamma(a)
        if x < a + 1 {
            var term = 1 / a
            var sum = term
            var n = a
            for _ in 0..<10_000 {
                n += 1
                term *= x / n
                sum += term
                if Swift.abs(term) < Swift.abs(sum) * 1e-15 { break }
            }
            return Swift.max(0, 1 - sum * Foundation.exp(logPrefix))
        }
        let tiny = 1e-300
        var b = x + 1 - a
        var c = 1 / tiny
        var d = 1 / b
        var h = d
        for i in 1..<10_000 {
            let an = -Double(i) * (Double(i) - a)
            b += 2
            d = an * d + b
            if Swift.abs(d) < tiny { d = tiny }
            c = b + an / c
            if Swift.abs(c) < tiny { c = tiny }
            d = 1 / d
            let delta = d * c
            h *= delta
            if Swift.abs(delta - 1) < 1e-15 { break }
        }
        return Swift.min(1, Foundation.exp(logPrefix) * h)
    }
}
