import Drift
import Foundation
import Learning
import ModelFormat
import Registry

/// Streams a CSV of current rows into an observation: every reference column, and when the
/// version can predict, the predictions (in batches) and the labels beside them.
struct CSVSource {
    let url: URL
    let predictor: Predictor?
    let labels: Labels?
    let idColumn: String?
    /// Columns besides the features that the file may hold.
    let targetName: String?

    static let batchRows = 4096

    func read(into observation: inout Observation) throws -> (rows: Int, sha256: String?) {
        let stream = CSVStream(url)
        let source = stream.source
        let reference = observation.reference
        var positions: [Int] = []
        var labelPosition: Int?
        var idPosition: Int?
        var featurePositions: [Int] = []
        var batch: [[String]] = []
        var batchLabels: [String?] = []
        var state = observation
        defer { observation = state }

        func flush() throws {
            guard let predictor, !batch.isEmpty else { return }
            let predictions = Prediction.predict(predictor, batch, source: source, into: &state)
            for (row, predicted) in predictions.enumerated() {
                guard let predicted else { continue }
                if let label = batchLabels[row] { Prediction.pair(predicted, label, predictor, into: &state) }
            }
            batch.removeAll(keepingCapacity: true)
            batchLabels.removeAll(keepingCapacity: true)
        }

        let rows = try stream.read(
            header: { header in
                let known = Set(reference.columns.map(\.name))
                for column in reference.columns where !header.contains(column.name) {
                    throw MVError(
                        "\(source) lacks the column '\(column.name)' that the reference holds",
                        hint: "pass the model's feature columns: \(reference.columns.map(\.name).joined(separator: ", "))")
                }
                for name in header where !known.contains(name) && name != targetName && name != idColumn {
                    throw MVError(
                        "unexpected column '\(name)' in \(source): the model takes \(reference.columns.map(\.name).joined(separator: ", "))"
                            + (targetName.map { " (and '\($0)' as labels)" } ?? ""),
                        hint: "drop the column, or name it with --id-column if it identifies rows")
                }
                positions = reference.columns.map { column in header.firstIndex(of: column.name) ?? 0 }
                labelPosition = targetName.flatMap { header.firstIndex(of: $0) }
                idPosition = idColumn.flatMap { header.firstIndex(of: $0) }
                if let idColumn, idPosition == nil {
                    throw MVError(
                        "\(source) has no column '\(idColumn)' to join the labels on", hint: "name the id column with --id-column")
                }
                if let predictor { featurePositions = predictor.featureNames.map { header.firstIndex(of: $0) ?? 0 } }
            },
            row: { record in
                state.rows += 1
                for (column, position) in positions.enumerated() {
                    try record.withField(position) { cell in
                        if Cell.isMissing(cell) {
                            state.observeMissing(column)
                        } else if state.isNumeric(column) {
                            guard let value = Cell.number(cell), value.isFinite else {
                                throw MVError(
                                    "\(source) line \(record.line): column '\(reference.columns[column].name)' holds '\(String(decoding: Cell.trim(cell), as: UTF8.self))', not a number",
                                    hint: "the reference holds numbers there: fix the value, or leave it empty for a missing one")
                            }
                            state.observe(column, number: value)
                        } else {
                            state.observe(column, label: String(decoding: Cell.trim(cell), as: UTF8.self))
                        }
                    }
                }
                if predictor != nil {
                    batch.append(featurePositions.map { record.string($0) })
                    var label: String?
                    if let labelPosition {
                        label = record.string(labelPosition).trimmingCharacters(in: .whitespaces)
                    } else if let idPosition, let labels {
                        label = labels.values[record.string(idPosition).trimmingCharacters(in: .whitespaces)]
                    }
                    if let text = label, Missing.isMissing(text) { label = nil }
                    batchLabels.append(label)
                    if batch.count >= Self.batchRows { try flush() }
                }
            })
        try flush()
        return (rows, nil)
    }
}

/// Labels read from `--labels FILE`: id → label text.
struct Labels {
    let values: [String: String]
    let source: String

    /// Reads the id column and the target column of a labels CSV.
    static func read(_ url: URL, idColumn: String, target: String) throws -> Labels {
        let stream = CSVStream(url)
        var idPosition = 0
        var labelPosition = 0
        var values: [String: String] = [:]
        try stream.read(
            header: { header in
                guard let id = header.firstIndex(of: idColumn) else {
                    throw MVError(
                        "\(stream.source) has no column '\(idColumn)'", hint: "the labels file needs the id column and '\(target)'")
                }
                guard let label = header.firstIndex(of: target) else {
                    throw MVError(
                        "\(stream.source) has no column '\(target)' (the model's target)",
                        hint: "the labels file needs '\(idColumn)' and '\(target)'")
                }
                idPosition = id
                labelPosition = label
            },
            row: { record in
                let id = record.string(idPosition).trimmingCharacters(in: .whitespaces)
                guard values[id] == nil else {
                    throw MVError("\(stream.source) line \(record.line): id '\(id)' appears twice", hint: "give each row one label")
                }
                values[id] = record.string(labelPosition).trimmingCharacters(in: .whitespaces)
            })
        return Labels(values: values, source: stream.source)
    }
}

/// Predicting current rows and pairing predictions with labels.
enum Prediction {
    /// Predicts a batch, observing each prediction; a row the model cannot take (a missing
    /// value it has no fill for, say) is counted and skipped, not fatal.
    static func predict(_ predictor: Predictor, _ rows: [[String]], source: String, into state: inout Observation) -> [Double?] {
        func observe(_ predictions: Predictions, _ index: Int) {
            let value = predictions.values[index]
            if predictor.target.task == .classification {
                state.observePrediction(number: nil, label: predictions.label(index))
            } else {
                state.observePrediction(number: value, label: nil)
            }
        }
        let table = CSVTable(header: predictor.featureNames, rows: rows)
        if let predictions = try? predictor.predict(table, source: source, probabilities: false) {
            for index in 0..<predictions.count { observe(predictions, index) }
            return predictions.values.map { $0 }
        }
        return rows.map { row in
            do {
                let one = try predictor.predict(CSVTable(header: predictor.featureNames, rows: [row]), source: source, probabilities: false)
                observe(one, 0)
                return one.values[0]
            } catch {
                state.unpredictable += 1
                if state.unpredictableReason == nil { state.unpredictableReason = "\(error)" }
                return nil
            }
        }
    }

    /// Records a prediction beside its label (a class index for classification).
    static func pair(_ predicted: Double, _ label: String, _ predictor: Predictor, into state: inout Observation) {
        switch predictor.target.task {
        case .regression:
            guard let actual = Number.parse(label), actual.isFinite else {
                state.unknownLabels += 1
                return
            }
            state.predicted.append(predicted)
            state.actual.append(actual)
        case .classification:
            guard let index = predictor.target.classes.firstIndex(of: label) else {
                state.unknownLabels += 1
                return
            }
            state.predicted.append(predicted)
            state.actual.append(Double(index))
        }
    }
}
