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
            self = .categorical(CategoryObserver())
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

        // Kolmogorov–Smirnov at every cell boundary, and the widest a gap could hide.
        var fr = 0.0
        var fc = 0.0
        var statistic = 0.0
        var bound = 0.0
        var wasserstein = observer.belowSum + observer.aboveSum
        for cell in 0..<(2 * points + 1) {
            let before = fr - fc
            let r = referenceCells[cell] / nr
            let c = nc > 0 ? current[cell] / nc : 0
            fr += r
            fc += c
            statistic = Swift.max(statistic, Swift.abs(fr - fc))
            let j = cell / 2 - 1
            if cell % 2 == 0, cell > 0, cell < 2 * points {
                bound = Swift.max(bound, Swift.max(r, c))
                // The reference as uniform within the gap; the current area exact from its sums.
                let width = sketch.points[j + 1] - sketch.points[j]
                let after = fr - fc
                let referenceArea = width * ((fr - r) + fr) / 2
                let currentArea = nc > 0 ? width * (fc - c) + observer.gapSums[j] / nc : 0
                if before * after >= 0 {
                    wasserstein += Swift.abs(referenceArea - currentArea) * (nc > 0 ? nc : 0)
                } else {
                    let crossing = width * (before * before + after * after) / (2 * (Swift.abs(before) + Swift.abs(after)))
                    wasserstein += crossing * (nc > 0 ? nc : 0)
                }
            }
        }
        wasserstein = nc > 0 ? wasserstein / nc : .nan
        let normalised = wasserstein / Swift.max(sketch.std, 0.001)
        let pValue = Divergence.ksPValue(statistic, reference.count, observer.count)
        let psi = Divergence.psi(
            reference: sketch.psiShares, current: observer.psiCounts.map { nc > 0 ? Double($0) / nc : 0 })
        var drift = ColumnDrift(
            name: reference.name, kind: .numeric, test: .ks, score: pValue, threshold: options.pValueThreshold, drifted: false,
            psi: psi, ks: (statistic, bound, pValue), chiSquare: nil,
            jensenShannon: Divergence.jensenShannon(referenceCells, current), wasserstein: normalised,
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
        if let values = sketch.values, values.count <= options.fewValues, let seen = observer.values {
            let keys = values.map(\.value) + seen.keys.filter { key in !values.contains { $0.value == key } }.sorted()
            var referenceCounts = keys.map { key in Double(values.first { $0.value == key }?.count ?? 0) }
            var currentCounts = keys.map { Double(seen[$0] ?? 0) }
            if observer.valuesOverflow > 0 {
                referenceCounts.append(0)
                currentCounts.append(Double(observer.valuesOverflow))
            }
            decideAsCategories(&drift, referenceCounts, currentCounts, options, forced: options.numericTest)
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
        if observer.overflow > 0 {
            referenceCounts.append(0)
            currentCounts.append(Double(observer.overflow))
        }
        let nc = Double(observer.count)
        let unseenTotal = unseen.reduce(0) { $0 + $1.1 } + observer.overflow
        var drift = ColumnDrift(
            name: reference.name, kind: .categorical, test: .chisquare, score: .nan, threshold: options.pValueThreshold,
            drifted: false, psi: .nan, ks: nil, chiSquare: nil, jensenShannon: .nan, wasserstein: nil,
            referenceCount: reference.count, referenceMissing: reference.missing, currentCount: observer.count,
            currentMissing: observer.missing)
        drift.unseen = unseen.prefix(10).map(\.0)
        drift.unseenCount = unseen.count + (observer.overflow > 0 ? 1 : 0)
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
        drift.psi = Divergence.psi(reference: referenceShares, current: currentShares)
        drift.jensenShannon = Divergence.jensenShannon(referenceShares, currentShares)
        // Expected counts from the reference shares, an unseen category's floored like PSI's.
        let floored = referenceShares.map { Swift.max($0, Divergence.emptyBinFloor) }
        let total = floored.reduce(0, +)
        let chi = Divergence.chiSquare(observed: currentCounts, expected: floored.map { $0 / total * nc })
        drift.chiSquare = chi
        let test =
            forced.flatMap { $0 == .ks || $0 == .wasserstein ? nil : $0 }
            ?? (drift.referenceCount > options.smallSample ? .jensenshannon : .chisquare)
        decide(&drift, test, options)
    }

    static func decide(_ drift: inout ColumnDrift, _ test: DriftTest, _ options: DriftOptions) {
        drift.test = test
        switch test {
        case .ks: drift.score = drift.ks?.pValue ?? .nan
        case .chisquare: drift.score = drift.chiSquare?.pValue ?? .nan
        case .wasserstein: drift.score = drift.wasserstein ?? .nan
        case .jensenshannon: drift.score = drift.jensenShannon
        }
        drift.threshold = test.usesPValue ? options.pValueThreshold : options.distanceThreshold
        if drift.currentCount == 0 {
            // Every current value missing: nothing is left of the reference's distribution.
            drift.drifted = drift.referenceCount > 0
        } else {
            drift.drifted = test.usesPValue ? drift.score < drift.threshold : drift.score >= drift.threshold
        }
    }
}
