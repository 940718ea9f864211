import Foundation
import Learning
import Registry

/// Encodes streamed cells straight into a version's feature matrix (imputation,
/// standardisation and one-hot columns as its schema says), so `mv monitor` predicts a
/// million rows without building a table of strings. Categories the version never saw are
/// all zeros, as `--ignore-unknown-categories` does; a missing cell without a fill value
/// makes the row unpredictable.
struct FeatureEncoding {
    let predictor: Predictor
    /// Per schema column: the reference column it is read from, its first encoded feature,
    /// and for a categorical column the feature of each category.
    private let sources: [Int]
    private let offsets: [Int]
    private let categories: [[String: Int]]
    let width: Int
    private(set) var values: [Double] = []
    private(set) var rows = 0
    private var row: [Double]
    private var rowFailed = false
    private(set) var firstFailure: String?

    /// nil when a schema column is not among the reference's columns.
    init?(_ predictor: Predictor, referenceColumns: [String]) {
        self.predictor = predictor
        var sources: [Int] = []
        var offsets: [Int] = []
        var categories: [[String: Int]] = []
        var offset = 0
        for column in predictor.features.columns {
            guard let source = referenceColumns.firstIndex(of: column.name) else { return nil }
            sources.append(source)
            offsets.append(offset)
            let labels = column.categories ?? []
            categories.append(Dictionary(labels.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a }))
            offset += column.kind == .numeric ? 1 : labels.count
        }
        self.sources = sources
        self.offsets = offsets
        self.categories = categories
        width = offset
        row = [Double](repeating: 0, count: offset)
    }

    /// The schema columns that read reference column `column`.
    func schemaColumns(reading column: Int) -> [Int] { sources.indices.filter { sources[$0] == column } }

    mutating func number(_ schemaColumn: Int, _ value: Double) {
        let column = predictor.features.columns[schemaColumn]
        if column.kind == .categorical {
            // A categorical column written as numbers: its labels are the numbers' text.
            label(schemaColumn, YAMLText.number(value))
            return
        }
        if let mean = column.mean, let std = column.std {
            row[offsets[schemaColumn]] = (value - mean) / std
        } else {
            row[offsets[schemaColumn]] = value
        }
    }

    mutating func label(_ schemaColumn: Int, _ text: String) {
        let column = predictor.features.columns[schemaColumn]
        if column.kind == .numeric {
            guard let value = Number.parse(text), value.isFinite else {
                fail("column '\(column.name)' holds '\(text)', not a number")
                return
            }
            number(schemaColumn, value)
            return
        }
        if let k = categories[schemaColumn][text] { row[offsets[schemaColumn] + k] = 1 }
    }

    mutating func missing(_ schemaColumn: Int) {
        let column = predictor.features.columns[schemaColumn]
        guard predictor.features.impute != nil, let fill = column.fill else {
            fail("'\(column.name)' is missing and \(predictor.resolved.label) has no fill value for it")
            return
        }
        label(schemaColumn, fill)
    }

    private mutating func fail(_ reason: String) {
        rowFailed = true
        if firstFailure == nil { firstFailure = reason }
    }

    /// Ends the row: appended to the batch, or dropped when it could not be encoded.
    /// Returns whether it was kept.
    mutating func endRow() -> Bool {
        defer {
            for index in row.indices { row[index] = 0 }
            rowFailed = false
        }
        guard !rowFailed else { return false }
        values += row
        rows += 1
        return true
    }

    /// Predicts the batch and empties it.
    mutating func predictBatch() throws -> [Double] {
        defer {
            values.removeAll(keepingCapacity: true)
            rows = 0
        }
        guard rows > 0 else { return [] }
        return try predictor.predict(encoded: Matrix(rows: rows, columns: width, values: values))
    }
}

/// Numbers as the text a CSV cell would hold.
enum YAMLText {
    static func number(_ value: Double) -> String {
        value == value.rounded() && Swift.abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}
