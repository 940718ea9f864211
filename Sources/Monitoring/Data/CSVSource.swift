import Drift
import Foundation
import Learning
import ModelFormat
import Registry
import SystemIO

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

    /// Reads the file into `observation`: on several cores, in parts read at once and
    /// merged (when the file is large and holds no quotes, so every newline ends a record);
    /// else, or when a part fails, in one pass, whose errors name their line.
    func read(into observation: inout Observation) throws -> (rows: Int, sha256: String?) {
        let parts = Swift.min(ProcessInfo.processInfo.activeProcessorCount, 8)
        if let cuts = CSVStream.cuts(url, parts: parts), let header = try? CSVStream(url).readHeader() {
            let bounds = [0] + cuts + [Int.max]
            let results = Results(count: bounds.count - 1)
            let template = observation
            DispatchQueue.concurrentPerform(iterations: bounds.count - 1) { part in
                var stream = CSVStream(url)
                stream.range = bounds[part]..<bounds[part + 1]
                stream.knownHeader = part == 0 ? nil : header
                var mine = template
                let outcome = Result { try readPart(stream, into: &mine, header: part == 0 ? nil : header) }
                results.set(part, outcome.map { (mine, $0) })
            }
            if let all = results.all {
                var merged = template
                var rows = 0
                for (part, count) in all {
                    merged.merge(part)
                    rows += count
                }
                if rows > 0 {
                    PhaseTrace.mark("monitor: read \(source(of: url)) in \(all.count) parts")
                    observation = merged
                    return (rows, nil)
                }
            }
        }
        return (try readPart(CSVStream(url), into: &observation, header: nil), nil)
    }

    private func source(of url: URL) -> String { url.lastPathComponent }

    /// What each part produced, set from the threads that read them.
    final class Results: @unchecked Sendable {
        private let lock = NSLock()
        private var values: [Result<(Observation, Int), any Error>?]

        init(count: Int) { values = Array(repeating: nil, count: count) }

        func set(_ index: Int, _ value: Result<(Observation, Int), any Error>) { lock.withLock { values[index] = value } }

        /// Every part's observation and row count, or nil when one failed.
        var all: [(Observation, Int)]? {
            lock.withLock {
                var parts: [(Observation, Int)] = []
                for value in values {
                    guard let part = try? value?.get() else { return nil }
                    parts.append(part)
                }
                return parts
            }
        }
    }

    /// Reads one part (or the whole file); `header` is given for a part that starts past it.
    func readPart(_ stream: CSVStream, into observation: inout Observation, header knownHeader: [String]?) throws -> Int {
        let source = stream.source
        let reference = observation.reference
        var positions: [Int] = []
        var labelPosition: Int?
        var idPosition: Int?
        // Predicting only where it tells something: prediction drift, or labels to score.
        var encoding: FeatureEncoding?
        var schemaColumns: [[Int]] = []
        var batchLabels: [String?] = []
        var state = observation
        defer { observation = state }

        func flush() throws {
            guard var current = encoding, current.rows > 0, let predictor else { return }
            encoding = nil
            let predicted = try current.predictBatch()
            encoding = current
            for (index, value) in predicted.enumerated() {
                if predictor.target.task == .classification {
                    state.observePrediction(number: nil, label: predictor.target.label(of: value))
                } else {
                    state.observePrediction(number: value, label: nil)
                }
                if let label = batchLabels[index] { Prediction.pair(value, label, predictor, into: &state) }
            }
            batchLabels.removeAll(keepingCapacity: true)
        }

        func setUp(_ header: [String]) throws {
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
                throw MVError("\(source) has no column '\(idColumn)' to join the labels on", hint: "name the id column with --id-column")
            }
            let labelled = labelPosition != nil || (idPosition != nil && labels != nil)
            if let predictor, reference.predictions != nil || labelled {
                encoding = FeatureEncoding(predictor, referenceColumns: reference.columns.map(\.name))
                if let encoding { schemaColumns = reference.columns.indices.map { encoding.schemaColumns(reading: $0) } }
            }
        }
        if let knownHeader { try setUp(knownHeader) }
        let rows = try stream.read(
            header: setUp,
            row: { record in
                state.rows += 1
                for (column, position) in positions.enumerated() {
                    try record.withField(position) { cell in
                        if Cell.isMissing(cell) {
                            state.observeMissing(column)
                            if encoding != nil { for target in schemaColumns[column] { encoding?.missing(target) } }
                        } else if state.isNumeric(column) {
                            guard let value = Cell.number(cell), value.isFinite else {
                                throw MVError(
                                    "\(source) line \(record.line): column '\(reference.columns[column].name)' holds '\(String(decoding: Cell.trim(cell), as: UTF8.self))', not a number",
                                    hint: "the reference holds numbers there: fix the value, or leave it empty for a missing one")
                            }
                            state.observe(column, number: value)
                            if encoding != nil { for target in schemaColumns[column] { encoding?.number(target, value) } }
                        } else {
                            let label = String(decoding: Cell.trim(cell), as: UTF8.self)
                            state.observe(column, label: label)
                            if encoding != nil { for target in schemaColumns[column] { encoding?.label(target, label) } }
                        }
                    }
                }
                guard encoding != nil else { return }
                if encoding?.endRow() == true {
                    var label: String?
                    if let labelPosition {
                        label = record.withField(labelPosition) { String(decoding: Cell.trim($0), as: UTF8.self) }
                    } else if let idPosition, let labels {
                        label = labels.values[record.string(idPosition).trimmingCharacters(in: .whitespaces)]
                    }
                    if let text = label, Missing.isMissing(text) { label = nil }
                    batchLabels.append(label)
                    if batchLabels.count >= Self.batchRows { try flush() }
                } else {
                    state.unpredictable += 1
                    if state.unpredictableReason == nil { state.unpredictableReason = encoding?.firstFailure }
                }
            })
        try flush()
        return rows
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

/// Pairing predictions with labels.
enum Prediction {
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
