import Drift
import Foundation
import Learning
import ModelFormat
import Registry

/// Everything observed of the current data for one version: each reference column's
/// values, the predictions, and prediction–label pairs for live metrics.
struct Observation {
    let reference: ReferenceProfile
    /// Per reference column: which observer holds it (numeric or categorical slot).
    private let slots: [(numeric: Bool, index: Int)]
    private(set) var numeric: [NumericObserver] = []
    private(set) var categorical: [CategoryObserver] = []
    var predictions: ColumnObservation?
    /// For live metrics: predicted and actual values (class indices for classification).
    var predicted: [Double] = []
    var actual: [Double] = []
    /// Rows read, rows the model could not predict (and the first reason), labels that name
    /// no class the model knows.
    var rows = 0
    var unpredictable = 0
    var unpredictableReason: String?
    var unknownLabels = 0

    init(reference: ReferenceProfile) {
        self.reference = reference
        var slots: [(Bool, Int)] = []
        for column in reference.columns {
            if column.kind == .numeric, let sketch = column.numeric {
                slots.append((true, numeric.count))
                numeric.append(NumericObserver(sketch: sketch))
            } else {
                slots.append((false, categorical.count))
                categorical.append(CategoryObserver(known: column.categorical?.categories.map(\.label) ?? []))
            }
        }
        self.slots = slots
        predictions = reference.predictions.map(ColumnObservation.init(reference:))
    }

    /// Whether reference column `column` is observed as numbers.
    func isNumeric(_ column: Int) -> Bool { slots[column].numeric }

    mutating func observeMissing(_ column: Int) {
        let slot = slots[column]
        if slot.numeric { numeric[slot.index].observeMissing() } else { categorical[slot.index].observeMissing() }
    }

    mutating func observe(_ column: Int, number: Double) {
        numeric[slots[column].index].observe(number)
    }

    mutating func observe(_ column: Int, label: String) {
        categorical[slots[column].index].observe(label)
    }

    /// One prediction, as a number (regression) or a class label.
    mutating func observePrediction(number: Double?, label: String?) {
        switch predictions {
        case .numeric(var observer):
            predictions = nil
            if let number { observer.observe(number) } else { observer.observeMissing() }
            predictions = .numeric(observer)
        case .categorical(var observer):
            predictions = nil
            if let label { observer.observe(label) } else { observer.observeMissing() }
            predictions = .categorical(observer)
        case nil:
            break
        }
    }

    /// Adds what another observation of the same reference saw (a part of the same file).
    mutating func merge(_ other: Observation) {
        for index in numeric.indices { numeric[index].merge(other.numeric[index]) }
        for index in categorical.indices { categorical[index].merge(other.categorical[index]) }
        switch (predictions, other.predictions) {
        case (.numeric(var mine)?, .numeric(let theirs)?):
            mine.merge(theirs)
            predictions = .numeric(mine)
        case (.categorical(var mine)?, .categorical(let theirs)?):
            mine.merge(theirs)
            predictions = .categorical(mine)
        default:
            break
        }
        predicted += other.predicted
        actual += other.actual
        rows += other.rows
        unpredictable += other.unpredictable
        unpredictableReason = unpredictableReason ?? other.unpredictableReason
        unknownLabels += other.unknownLabels
    }

    /// The drift of every reference column and of the predictions.
    func drift(options: DriftOptions) -> (features: DatasetDrift, predictions: ColumnDrift?) {
        var columns: [ColumnDrift] = []
        for (index, column) in reference.columns.enumerated() {
            let slot = slots[index]
            let observation: ColumnObservation = slot.numeric ? .numeric(numeric[slot.index]) : .categorical(categorical[slot.index])
            if let drift = Comparison.drift(of: column, observation, options: options) { columns.append(drift) }
        }
        var predictionDrift: ColumnDrift?
        if let profile = reference.predictions, let predictions {
            predictionDrift = Comparison.drift(of: profile, predictions, options: options)
        }
        return (DatasetDrift(columns: columns, options: options), predictionDrift)
    }
}
