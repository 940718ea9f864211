import Foundation
import ModelFormat

/// Builds reference profiles from whole columns held in memory (a training set is).
public enum ProfileBuilder {
    /// q0…q100.
    public static let quantileCount = 100
    /// PSI bins: deciles of the reference.
    public static let psiBinCount = 10
    /// Categories kept by name; the rest are counted as `other`.
    public static let topCategories = 50
    /// A numeric column with at most this many distinct values also keeps each value's count.
    public static let exactValuesLimit = 20
    /// A numeric column of at most this many values keeps every distinct value as a point
    /// (the sample size up to which a p-value decides drift).
    public static let exactPointsLimit = 1000

    /// The profile of a numeric column from its present values.
    public static func numeric(name: String, values: [Double], missing: Int) -> ColumnProfile {
        guard !values.isEmpty else {
            return ColumnProfile(name: name, kind: .numeric, count: 0, missing: missing, numeric: nil, categorical: nil)
        }
        let sorted = values.sorted()
        return ColumnProfile(
            name: name, kind: .numeric, count: sorted.count, missing: missing, numeric: sketch(sorted: sorted), categorical: nil)
    }

    /// The profile of a categorical column from its present labels.
    public static func categorical(name: String, labels: [String], missing: Int) -> ColumnProfile {
        var counts: [String: Int] = [:]
        for label in labels { counts[label, default: 0] += 1 }
        return categorical(name: name, counts: counts, missing: missing)
    }

    public static func categorical(name: String, counts: [String: Int], missing: Int) -> ColumnProfile {
        // Most frequent first; ties by label so the file is the same on every run.
        let ordered = counts.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        let kept = ordered.prefix(topCategories).map { (label: $0.key, count: $0.value) }
        let other = ordered.dropFirst(topCategories).reduce(0) { $0 + $1.value }
        return ColumnProfile(
            name: name, kind: .categorical, count: counts.values.reduce(0, +), missing: missing, numeric: nil,
            categorical: CategoryCounts(categories: kept, other: other, distinct: counts.count))
    }

    /// numpy's default (linear) quantile of sorted values at `p` in [0, 1].
    public static func quantile(sorted: [Double], _ p: Double) -> Double {
        let h = Double(sorted.count - 1) * p
        let low = Int(h.rounded(.down))
        let high = Swift.min(low + 1, sorted.count - 1)
        return sorted[low] + (h - Double(low)) * (sorted[high] - sorted[low])
    }

    static func sketch(sorted: [Double]) -> NumericSketch {
        let n = sorted.count
        var sum = 0.0
        for value in sorted { sum += value }
        let mean = sum / Double(n)
        var squares = 0.0
        for value in sorted { squares += (value - mean) * (value - mean) }
        // Rounded to 10 significant digits (within the data's range), so the file reads as
        // numbers rather than interpolation residue; the cells are counted at these values.
        // The ends stay exact: every value must fall in a cell.
        var quantiles = (0...quantileCount).map { k -> Double in
            let value = rounded(quantile(sorted: sorted, Double(k) / Double(quantileCount)))
            return Swift.min(Swift.max(value, sorted[0]), sorted[n - 1])
        }
        quantiles[0] = sorted[0]
        quantiles[quantileCount] = sorted[n - 1]
        // Where a p-value decides (few values), every distinct value is a point: then no
        // reference value lies between points and the KS statistic from the cells is exact.
        var points: [Double] = []
        if n <= exactPointsLimit {
            for value in sorted where points.last != value { points.append(value) }
        } else {
            for value in quantiles where points.last != value { points.append(value) }
        }
        let at = points.map { SortedSearch.firstGreater(sorted, $0) - SortedSearch.firstNotLess(sorted, $0) }
        let between = zip(points, points.dropFirst()).map { SortedSearch.firstNotLess(sorted, $1) - SortedSearch.firstGreater(sorted, $0) }
        let gapAreas = zip(points, points.dropFirst()).map { a, b -> Double in
            var area = 0.0
            for index in SortedSearch.firstGreater(sorted, a)..<SortedSearch.firstNotLess(sorted, b) { area += b - sorted[index] }
            return area / Double(n)
        }
        // Inner decile edges above the minimum, so no bin is empty by construction.
        var edges: [Double] = []
        for k in 1..<psiBinCount {
            let edge = quantiles[k * quantileCount / psiBinCount]
            if edge > sorted[0], edges.last.map({ edge > $0 }) ?? true { edges.append(edge) }
        }
        var shares: [Double] = []
        var previous = 0
        for edge in edges {
            let below = SortedSearch.firstNotLess(sorted, edge)
            shares.append(Double(below - previous) / Double(n))
            previous = below
        }
        shares.append(Double(n - previous) / Double(n))
        var values: [(value: Double, count: Int)]? = []
        var index = 0
        while index < n {
            let end = SortedSearch.firstGreater(sorted, sorted[index])
            values?.append((sorted[index], end - index))
            if (values?.count ?? 0) > exactValuesLimit {
                values = nil
                break
            }
            index = end
        }
        return NumericSketch(
            min: sorted[0], max: sorted[n - 1], mean: mean, std: (squares / Double(n)).squareRoot(), quantiles: quantiles,
            points: points, at: at, between: between, gapAreas: gapAreas, psiEdges: edges, psiShares: shares, values: values)
    }

    /// `value` to 10 significant digits.
    static func rounded(_ value: Double) -> Double {
        guard value != 0, value.isFinite else { return value }
        return Double(String(format: "%.10g", value)) ?? value
    }
}
