import Learning
import Registry

/// Turns the shapes JSON clients send rows in into the table `Predictor` reads, cells
/// spelled as CSV would spell them: a number as its literal text, a string as itself, null as
/// a missing value (imputed if the version was trained with --impute, refused otherwise).
struct RowReader {
    let columns: [String]
    let maxRows: Int

    func cell(_ value: JSON, column: String, row: Int) throws(ServeError) -> String {
        switch value {
        case .number(let text):
            guard let value = Double(text), value.isFinite else {
                throw .badRequest("row \(row + 1), column '\(column)': \(text.prefix(40)) is out of range")
            }
            return text
        case .string(let text): return text
        case .null: return ""
        case .bool(let flag): return flag ? "true" : "false"
        case .array, .object:
            throw .badRequest("row \(row + 1), column '\(column)': expected a number or a string, found \(value.kindName)")
        }
    }

    func checkCount(_ count: Int) throws(ServeError) {
        guard count > 0 else { throw .badRequest("the request holds no rows") }
        guard count <= maxRows else {
            throw ServeError(status: 413, "the request holds \(count) rows, more than the server's --max-rows \(maxRows)")
        }
    }

    /// `[{"x": 1, "c": "a"}, …]`: keys are column names; a key absent from a record is a
    /// missing value there.
    func records(_ rows: [JSON]) throws(ServeError) -> CSVTable {
        try checkCount(rows.count)
        var header: [String] = []
        var seen = Set<String>()
        for (index, row) in rows.enumerated() {
            guard case .object(let pairs) = row else {
                throw .badRequest("row \(index + 1): expected an object of column values, found \(row.kindName)")
            }
            for pair in pairs where seen.insert(pair.key).inserted { header.append(pair.key) }
        }
        let position = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        var table: [[String]] = []
        table.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            var cells = Array(repeating: "", count: header.count)
            if case .object(let pairs) = row {
                for pair in pairs {
                    guard let at = position[pair.key] else { continue }
                    cells[at] = try cell(pair.value, column: pair.key, row: index)
                }
            }
            table.append(cells)
        }
        return CSVTable(header: header, rows: table)
    }

    /// `[[1, "a"], …]` in the version's column order (or `[1, 2]` for a one-column model).
    func lists(_ rows: [JSON], header: [String]? = nil) throws(ServeError) -> CSVTable {
        try checkCount(rows.count)
        var header = header ?? columns
        // A predictor command that declares no columns takes rows by position.
        if header.isEmpty, case .array(let first)? = rows.first { header = (0..<first.count).map(String.init) }
        var table: [[String]] = []
        table.reserveCapacity(rows.count)
        for (index, row) in rows.enumerated() {
            let values: [JSON]
            if case .array(let list) = row {
                values = list
            } else if header.count == 1 {
                values = [row]
            } else {
                throw .badRequest(
                    "row \(index + 1): expected a list of \(header.count) values (\(header.joined(separator: ", "))), found \(row.kindName)"
                )
            }
            guard values.count == header.count else {
                throw .badRequest(
                    "row \(index + 1) holds \(values.count) values; expected \(header.count) (\(header.joined(separator: ", ")))")
            }
            var cells: [String] = []
            cells.reserveCapacity(values.count)
            for (c, value) in values.enumerated() { cells.append(try cell(value, column: header[c], row: index)) }
            table.append(cells)
        }
        return CSVTable(header: header, rows: table)
    }

    /// `{"x": [1, 2], "c": ["a", "b"]}`: one list per column, all the same length.
    func columnar(_ pairs: [(key: String, value: JSON)]) throws(ServeError) -> CSVTable {
        guard let first = pairs.first else { throw .badRequest("the request holds no columns") }
        var lists: [[JSON]] = []
        for pair in pairs {
            guard case .array(let values) = pair.value else {
                throw .badRequest("column '\(pair.key)': expected a list of values, found \(pair.value.kindName)")
            }
            lists.append(values)
        }
        let count = lists[0].count
        try checkCount(count)
        if let uneven = pairs.indices.first(where: { lists[$0].count != count }) {
            throw .badRequest("column '\(pairs[uneven].key)' holds \(lists[uneven].count) values, column '\(first.key)' \(count)")
        }
        var table: [[String]] = []
        table.reserveCapacity(count)
        for row in 0..<count {
            var cells: [String] = []
            for (c, pair) in pairs.enumerated() { cells.append(try cell(lists[c][row], column: pair.key, row: row)) }
            table.append(cells)
        }
        return CSVTable(header: pairs.map(\.key), rows: table)
    }

    /// TF Serving's and MLflow's `instances`/`inputs`: a list of records, a list of lists, or
    /// an object of columns.
    func instances(_ value: JSON, field: String) throws(ServeError) -> CSVTable {
        switch value {
        case .array(let rows):
            if case .object = rows.first { return try records(rows) }
            return try lists(rows)
        case .object(let pairs):
            return try columnar(pairs)
        default:
            throw .badRequest("'\(field)' must be a list of rows or an object of columns, found \(value.kindName)")
        }
    }
}

/// How a prediction is written into a JSON answer: numbers for regression, the class label
/// for classification (a number when every label is one, as scikit-learn's would be).
struct PredictionWriter {
    let predictions: Predictions
    let numericLabels: Bool

    init(_ predictions: Predictions) {
        self.predictions = predictions
        numericLabels = predictions.classes.allSatisfy { Double($0) != nil }
    }

    func write(_ index: Int, into writer: inout JSONWriter) {
        if predictions.target.task == .classification {
            let label = predictions.label(index)
            if numericLabels, let number = Double(label) { writer.number(number) } else { writer.string(label) }
        } else {
            writer.number(predictions.values[index])
        }
    }

    func writeAll(into writer: inout JSONWriter) {
        writer.list(0..<predictions.count) { writer, index in write(index, into: &writer) }
    }
}
