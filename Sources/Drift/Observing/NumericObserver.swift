import Foundation
import ModelFormat

/// Current values of a numeric column counted in the cells of its reference sketch: below
/// the first point, at each point, strictly between consecutive points, above the last.
/// Constant memory whatever the number of values.
public struct NumericObserver: Sendable {
    public let sketch: NumericSketch
    /// 2·points + 1 cells: 0 is below, 2j+1 is at point j, 2j+2 between points j and j+1
    /// (for the last point: above).
    public private(set) var cells: [Int]
    /// Per gap between points j and j+1: Σ (point[j+1] − x) over its values, for the
    /// exact area under the current distribution function there.
    public private(set) var gapSums: [Double]
    /// Σ (point[0] − x) below and Σ (x − point[last]) above.
    public private(set) var belowSum = 0.0
    public private(set) var aboveSum = 0.0
    public private(set) var psiCounts: [Int]
    public private(set) var count = 0
    public private(set) var missing = 0
    public private(set) var min = Double.infinity
    public private(set) var max = -Double.infinity
    /// Sums of x − shift and its square, shifted by the reference mean so that the variance
    /// of data near it loses no precision (cheaper per value than Welford's division).
    private let shift: Double
    private var sum = 0.0
    private var squares = 0.0
    private let points: [Double]
    private let edges: [Double]
    /// Counts of each value, kept while the reference has few distinct values (they are
    /// then compared as categories) and the current data does too.
    public private(set) var values: [Double: Int]?
    public private(set) var valuesOverflow = 0

    static let mostTrackedValues = 1000

    public init(sketch: NumericSketch) {
        self.sketch = sketch
        cells = Array(repeating: 0, count: 2 * sketch.points.count + 1)
        gapSums = Array(repeating: 0, count: Swift.max(0, sketch.points.count - 1))
        psiCounts = Array(repeating: 0, count: sketch.psiEdges.count + 1)
        values = sketch.values == nil ? nil : [:]
        shift = sketch.mean.isFinite ? sketch.mean : 0
        points = sketch.points
        edges = sketch.psiEdges
    }

    public mutating func observeMissing() { missing += 1 }

    public mutating func observe(_ x: Double) {
        count += 1
        let centred = x - shift
        sum += centred
        squares += centred * centred
        if x < min { min = x }
        if x > max { max = x }
        let i = SortedSearch.firstNotLess(points, x)
        if i < points.count, points[i] == x {
            cells[2 * i + 1] += 1
        } else if i == 0 {
            cells[0] += 1
            belowSum += points[0] - x
        } else if i == points.count {
            cells[2 * points.count] += 1
            aboveSum += x - points[points.count - 1]
        } else {
            cells[2 * i] += 1
            gapSums[i - 1] += points[i] - x
        }
        psiCounts[SortedSearch.firstGreater(edges, x)] += 1
        if values != nil { tally(value: x, times: 1) }
    }

    /// Adds what another observer of the same reference saw (for parallel reading).
    public mutating func merge(_ other: NumericObserver) {
        for index in cells.indices { cells[index] += other.cells[index] }
        for index in gapSums.indices { gapSums[index] += other.gapSums[index] }
        for index in psiCounts.indices { psiCounts[index] += other.psiCounts[index] }
        belowSum += other.belowSum
        aboveSum += other.aboveSum
        sum += other.sum
        squares += other.squares
        count += other.count
        missing += other.missing
        min = Swift.min(min, other.min)
        max = Swift.max(max, other.max)
        if let theirs = other.values {
            for (value, n) in theirs { tally(value: value, times: n) }
        }
        valuesOverflow += other.valuesOverflow
    }

    /// Counts a value by itself while there are few, else with the overflow.
    private mutating func tally(value: Double, times: Int) {
        if values?[value] != nil || (values?.count ?? 0) < Self.mostTrackedValues {
            values?[value, default: 0] += times
        } else {
            valuesOverflow += times
        }
    }

    public var currentMean: Double { count > 0 ? shift + sum / Double(count) : .nan }
    /// Population standard deviation of the current values.
    public var currentStd: Double {
        guard count > 0 else { return .nan }
        let mean = sum / Double(count)
        return Swift.max(0, squares / Double(count) - mean * mean).squareRoot()
    }
}

/// Current labels of a categorical column, counted (up to a bound on distinct labels, past
/// which the rest are counted together).
public struct CategoryObserver: Sendable {
    public private(set) var counts: [String: Int] = [:]
    public private(set) var overflow = 0
    public private(set) var missing = 0
    public var count: Int { counts.values.reduce(0, +) + overflow }

    static let mostTrackedLabels = 10_000
    /// The reference's stored categories: always counted, however many others came first.
    private let known: Set<String>

    public init(known: [String] = []) {
        self.known = Set(known)
    }

    public mutating func observeMissing() { missing += 1 }

    public mutating func observe(_ label: String) { tally(label, times: 1) }

    /// Counts a label by name while there is room (always for a stored category), else with the overflow.
    private mutating func tally(_ label: String, times: Int) {
        if counts[label] != nil || counts.count < Self.mostTrackedLabels || known.contains(label) {
            counts[label, default: 0] += times
        } else {
            overflow += times
        }
    }

    public mutating func merge(_ other: CategoryObserver) {
        for (label, n) in other.counts { tally(label, times: n) }
        overflow += other.overflow
        missing += other.missing
    }
}
