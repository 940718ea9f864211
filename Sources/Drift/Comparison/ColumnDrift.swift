import Foundation
import ModelFormat

/// The test that decides whether a column drifted.
public enum DriftTest: String, Sendable, CaseIterable {
    /// Two-sample Kolmogorov–Smirnov: drifted when p < the p-value threshold.
    case ks
    /// Chi-square of the current category counts against the reference shares: p < threshold.
    case chisquare
    /// Wasserstein distance divided by the reference's standard deviation: ≥ threshold.
    case wasserstein
    /// Jensen–Shannon distance of the category shares: ≥ threshold.
    case jensenshannon
    /// Two-proportion z-test, for a column of two categories and a small reference: p < threshold.
    case ztest

    public var usesPValue: Bool { self == .ks || self == .chisquare || self == .ztest }
}

/// How columns are judged; the defaults are Evidently's.
public struct DriftOptions: Sendable, Equatable {
    /// Up to this many reference values, a column is judged by a p-value (KS or chi-square);
    /// above, by a distance (Wasserstein or Jensen–Shannon), which does not call every
    /// small shift significant on large samples.
    public var smallSample = 1000
    public var pValueThreshold = 0.05
    public var distanceThreshold = 0.1
    /// A numeric column with at most this many distinct reference values is judged as categories.
    public var fewValues = 5
    /// The dataset drifted when at least this share of its columns did.
    public var datasetShare = 0.5
    /// Forces one test for every numeric / categorical column instead of choosing by size.
    public var numericTest: DriftTest?
    public var categoricalTest: DriftTest?

    public init() {}
}

/// One column's drift: every statistic mv computes, and the verdict of the chosen test.
public struct ColumnDrift: Sendable {
    public var name: String
    public var kind: ColumnProfile.Kind
    public var test: DriftTest
    /// The chosen test's p-value or distance.
    public var score: Double
    public var threshold: Double
    public var drifted: Bool
    public var psi: Double
    /// Kolmogorov–Smirnov (numeric columns): the statistic from the sketch, how far the exact
    /// statistic on the raw data can be from it at most, and the p-value.
    public var ks: (statistic: Double, bound: Double, pValue: Double)?
    public var chiSquare: (statistic: Double, dof: Int, pValue: Double)?
    /// Two categories only: the two-proportion z statistic and its two-sided p-value.
    public var zTest: (statistic: Double, pValue: Double)?
    public var jensenShannon: Double
    /// Wasserstein distance over the reference standard deviation (numeric columns).
    public var wasserstein: Double?
    public var referenceCount: Int
    public var referenceMissing: Int
    public var currentCount: Int
    public var currentMissing: Int
    /// Share of current values below the reference minimum or above its maximum.
    public var outOfRange: Double?
    /// Current categories the reference never saw (most frequent first, at most 10), their
    /// number, and their share of the current values.
    public var unseen: [String] = []
    public var unseenCount = 0
    public var unseenShare: Double?
    public var currentMean: Double?
    public var currentStd: Double?
    public var currentMin: Double?
    public var currentMax: Double?

    public var missingShare: Double {
        let total = currentCount + currentMissing
        return total > 0 ? Double(currentMissing) / Double(total) : .nan
    }

    public var referenceMissingShare: Double {
        let total = referenceCount + referenceMissing
        return total > 0 ? Double(referenceMissing) / Double(total) : .nan
    }

    /// How far past (or short of) its threshold the column is: > 1 drifted, for ordering.
    public var severity: Double {
        if test.usesPValue { return score > 0 ? threshold / score : .infinity }
        return threshold > 0 ? score / threshold : score
    }
}

/// The drift of a whole table: its columns (worst first) and the dataset verdict.
public struct DatasetDrift: Sendable {
    public var columns: [ColumnDrift]
    public var share: Double
    public var drifted: Bool
    public var threshold: Double

    public init(columns: [ColumnDrift], options: DriftOptions) {
        self.columns = columns.sorted { a, b in
            if a.drifted != b.drifted { return a.drifted }
            if a.severity != b.severity { return a.severity > b.severity }
            return a.name < b.name
        }
        let drifted = columns.filter(\.drifted).count
        share = columns.isEmpty ? 0 : Double(drifted) / Double(columns.count)
        self.drifted = !columns.isEmpty && share >= options.datasetShare
        threshold = options.datasetShare
    }

    public var driftedCount: Int { columns.filter(\.drifted).count }
}
