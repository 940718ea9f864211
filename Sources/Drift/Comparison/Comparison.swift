import Foundation
import ModelFormat

/// What was observed of one column: numbers or labels.
public enum ColumnObservation: Sendable {
    case numeric(NumericObserver)
    case categorical(CategoryObserver)

    /// A fresh observer for the reference column.
    public init(reference: ColumnProfile) {
        if reference.kind == .numeric, let sketch = reference.numeric {
            self = .numeric(NumericObserver(sketch: sketch))
        } else {
            self = .categorical(CategoryObserver(known: reference.categorical?.categories.map(\.label) ?? []))
        }
    }
}

/// Compares observed columns with their reference.
public enum Comparison {
    static let otherKey = "(other)"
    static let moreKey = "(more)"

    /// The drift of one column; nil when the reference holds no value to compare with.
    public static func drift(of reference: ColumnProfile, _ observation: ColumnObservation, options: DriftOptions) -> ColumnDrift? {
        switch observation {
        case .numeric(let observer):
            guard let sketch = reference.numeric, reference.count > 0 else { return nil }
            return numeric(reference, sketch, observer, options)
        case .categorical(let observer):
            guard let counts = reference.categorical, reference.count > 0 else { return nil }
            return categorical(reference, counts, observer, options)
        }
    }

    static func numeric(_ reference: ColumnProfile, _ sketch: NumericSketch, _ observer: NumericObserver, _ options: DriftOptions)
        -> ColumnDrift
    {
        let points = sketch.points.count
        var referenceCells = [Double](repeating: 0, count: 2 * points + 1)
        for j in 0..<points {
            referenceCells[2 * j + 1] = Double(sketch.at[j])
            if j < points - 1 { referenceCells[2 * j + 2] = Double(sketch.between[j]) }
        }
        let nr = Double(reference.count)
        let nc = Double(observer.count)
        let current = observer.cells.map(Double.init)

        // Kolmogorov–Smirnov at every cell boundary, and the most a gap could hide.
        var fr = 0.0
        var fc = 0.0
        // The same cumulative counts as integers, whose signs compare exactly.
        var countR = 0
        var countC = 0
        var statistic = 0.0
        var bound = 0.0
        var wasserstein = nc > 0 ? (observer.belowSum + observer.aboveSum) / nc : .nan
        for cell in 0..<(2 * points + 1) {
            let before = fr - fc
            let signBefore = (countR * observer.count - countC * reference.count).signum()
            let r = referenceCells[cell] / nr
            let c = nc > 0 ? current[cell] / nc : 0
            fr += r
            fc += c
            countR += Int(referenceCells[cell])
            countC += observer.cells[cell]
            statistic = Swift.max(statistic, Swift.abs(fr - fc))
            let j = cell / 2 - 1
            if cell % 2 == 0, cell > 0, cell < 2 * points, nc > 0 {
                // Inside the gap either function rises by at most its share, so the gap can
                // hide at most the smaller of the two above what its ends show.
                bound = Swift.max(bound, Swift.min(r, c))
                // Both areas exact, from the sums of the values inside the gap.
                let width = sketch.points[j + 1] - sketch.points[j]
                let after = fr - fc
                let signAfter = (countR * observer.count - countC * reference.count).signum()
                let referenceArea = width * (fr - r) + sketch.gapAreas[j]
                let currentArea = width * (fc - c) + observer.gapSums[j] / nc
                if signBefore * signAfter >= 0 {
                    wasserstein += Swift.abs(referenceArea - currentArea)
                } else {
                    wasserstein += width * (before * before + after * after) / (2 * (Swift.abs(before) + Swift.abs(after)))
                }
            }
        }
        let normalised = wasserstein / Swift.max(sketch.std, 0.001)
        let pValue = Divergence.ksPValue(statistic, reference.count, observer.count)
        let psi = Divergence.psi(
            reference: sketch.psiShares, current: observer.psiCounts.map { nc > 0 ? Double($0) / nc : 0 })
        let empty = observer.count == 0
        var drift = ColumnDrift(
            name: reference.name, kind: .numeric, test: .ks, score: pValue, threshold: options.pValueThreshold, drifted: false,
            psi: empty ? .nan : psi, ks: empty ? nil : (statistic, bound, pValue), chiSquare: nil,
            jensenShannon: Divergence.jensenShannon(referenceCells, current), wasserstein: empty ? nil : normalised,
            referenceCount: reference.count, referenceMissing: reference.missing, currentCount: observer.count,
            currentMissing: observer.missing,
            outOfRange: nc > 0 ? (current[0] + current[2 * points]) / nc : .nan)
        if observer.count > 0 {
            drift.currentMean = observer.currentMean
            drift.currentStd = observer.currentStd
            drift.currentMin = observer.min
            drift.currentMax = observer.max
        }
        // Few distinct values: judged as categories, over the values themselves.
        // Few distinct values on both sides together (Evidently counts them so): compared
        // as categories.
        if let values = sketch.values, let seen = observer.values, observer.valuesOverflow == 0,
            Set(values.map(\.value)).union(seen.keys).count <= options.fewValues
        {
            let keys = values.map(\.value) + seen.keys.filter { key in !values.contains { $0.value == key } }.sorted()
            var referenceCounts = keys.map { key in Double(values.first { $0.value == key }?.count ?? 0) }
            var currentCounts = keys.map { Double(seen[$0] ?? 0) }
            if observer.valuesOverflow > 0 {
                referenceCounts.append(0)
                currentCounts.append(Double(observer.valuesOverflow))
            }
            decideAsCategories(&drift, referenceCounts, currentCounts, options, forced: options.categoricalTest)
            return drift
        }
        let test = options.numericTest ?? (reference.count > options.smallSample ? .wasserstein : .ks)
        decide(&drift, test, options)
        return drift
    }

    static func categorical(_ reference: ColumnProfile, _ counts: CategoryCounts, _ observer: CategoryObserver, _ options: DriftOptions)
        -> ColumnDrift
    {
        let stored = Dictionary(counts.categories.enumerated().map { ($1.label, $0) }, uniquingKeysWith: { a, _ in a })
        var referenceCounts = counts.categories.map { Double($0.count) }
        var currentCounts = [Double](repeating: 0, count: referenceCounts.count)
        // Values past the stored categories: one "other" bin when the reference had some
        // (they may be among its unstored ones), else each unseen category on its own.
        let otherIndex: Int? = counts.other > 0 ? referenceCounts.count : nil
        if counts.other > 0 {
            referenceCounts.append(Double(counts.other))
            currentCounts.append(0)
        }
        var unseen: [(String, Int)] = []
        for (label, n) in observer.counts {
            if let index = stored[label] {
                currentCounts[index] += Double(n)
            } else if let otherIndex {
                currentCounts[otherIndex] += Double(n)
            } else {
                unseen.append((label, n))
            }
        }
        unseen.sort { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }
        for (_, n) in unseen {
            referenceCounts.append(0)
            currentCounts.append(Double(n))
        }
        // Labels past the observer's bound: the reference's other bin when it has one (they
        // may be among its categories), else one more unseen bin.
        var overflowUnseen = 0
        if observer.overflow > 0 {
            if let otherIndex {
                currentCounts[otherIndex] += Double(observer.overflow)
            } else {
                referenceCounts.append(0)
                currentCounts.append(Double(observer.overflow))
                overflowUnseen = observer.overflow
            }
        }
        let nc = Double(observer.count)
        let unseenTotal = unseen.reduce(0) { $0 + $1.1 } + overflowUnseen
        var drift = ColumnDrift(
            name: reference.name, kind: .categorical, test: .chisquare, score: .nan, threshold: options.pValueThreshold,
            drifted: false, psi: .nan, ks: nil, chiSquare: nil, jensenShannon: .nan, wasserstein: nil,
            referenceCount: reference.count, referenceMissing: reference.missing, currentCount: observer.count,
            currentMissing: observer.missing)
        drift.unseen = unseen.prefix(10).map(\.0)
        drift.unseenCount = unseen.count + (overflowUnseen > 0 ? 1 : 0)
        drift.unseenShare = nc > 0 ? Double(unseenTotal) / nc : .nan
        decideAsCategories(&drift, referenceCounts, currentCounts, options, forced: options.categoricalTest)
        return drift
    }

    /// Fills PSI, Jensen–Shannon and chi-square over category counts and takes the verdict.
    static func decideAsCategories(
        _ drift: inout ColumnDrift, _ referenceCounts: [Double], _ currentCounts: [Double], _ options: DriftOptions,
        forced: DriftTest?
    ) {
        let nr = referenceCounts.reduce(0, +)
        let nc = currentCounts.reduce(0, +)
        let referenceShares = referenceCounts.map { $0 / nr }
        let currentShares = currentCounts.map { nc > 0 ? $0 / nc : 0 }
        guard nc > 0 else {
            decide(&drift, forced ?? (drift.referenceCount > options.smallSample ? .jensenshannon : .chisquare), options)
            return
        }
        drift.psi = Divergence.psi(reference: referenceShares, current: currentShares)
        drift.jensenShannon = Divergence.jensenShannon(referenceShares, currentShares)
        // Expected counts from the reference shares, an unseen category's floored like PSI's.
        let floored = referenceShares.map { Swift.max($0, Divergence.emptyBinFloor) }
        let total = floored.reduce(0, +)
        let chi = Divergence.chiSquare(observed: currentCounts, expected: floored.map { $0 / total * nc })
        drift.chiSquare = chi
        let present = zip(referenceCounts, currentCounts).filter { $0 > 0 || $1 > 0 }
        if present.count == 2, nr > 0, nc > 0 {
            // The share of the first category on each side, pooled (Evidently's z-test).
            let p1 = present[0].0 / nr
            let p2 = present[0].1 / nc
            let pooled = (present[0].0 + present[0].1) / (nr + nc)
            let z = (p1 - p2) / (pooled * (1 - pooled) * (1 / nr + 1 / nc)).squareRoot()
            drift.zTest = (z, z.isFinite ? Foundation.erfc(Swift.abs(z) / 2.0.squareRoot()) : (p1 == p2 ? 1 : 0))
        } else if present.count == 1 {
            drift.zTest = (0, 1)
        }
        let small: DriftTest = drift.zTest != nil && present.count <= 2 ? .ztest : .chisquare
        let test =
            forced.flatMap { $0 == .ks || $0 == .wasserstein || ($0 == .ztest && drift.zTest == nil) ? nil : $0 }
            ?? (drift.referenceCount > options.smallSample ? .jensenshannon : small)
        decide(&drift, test, options)
    }

    static func decide(_ drift: inout ColumnDrift, _ test: DriftTest, _ options: DriftOptions) {
        drift.test = test
        switch test {
        case .ks: drift.score = drift.ks?.pValue ?? .nan
        case .chisquare: drift.score = drift.chiSquare?.pValue ?? .nan
        case .wasserstein: drift.score = drift.wasserstein ?? .nan
        case .jensenshannon: drift.score = drift.jensenShannon
        case .ztest: drift.score = drift.zTest?.pValue ?? .nan
        }
        drift.threshold = test.usesPValue ? options.pValueThreshold : options.distanceThreshold
        if drift.currentCount == 0 {
            // Every current value missing: nothing is left of the reference's distribution.
            drift.drifted = drift.referenceCount > 0
        } else {
            // As Evidently: KS drifts at p ≤ threshold, chi-square and z at p < threshold,
            // distances at ≥ threshold.
            switch test {
            case .ks: drift.drifted = drift.score <= drift.threshold
            case .chisquare, .ztest: drift.drifted = drift.score < drift.threshold
            case .wasserstein, .jensenshannon: drift.drifted = drift.score >= drift.threshold
            }
        }
    }
}
