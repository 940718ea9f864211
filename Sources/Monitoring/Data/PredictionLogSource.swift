import Drift
import Foundation
import Learning
import ModelFormat
import Registry
import SystemIO

/// Reads the JSON lines `mv serve --log-predictions` writes (docs/SERVING.md): files, or
/// folders of `*.jsonl` files. Each record's rows are observed for the version that served
/// them; records of other models, or outside the time window, are skipped.
struct PredictionLogSource {
    let files: [URL]
    let model: String
    let since: Date?
    let until: Date?

    /// One record as logged.
    struct Record {
        var version: String
        var columns: [String]
        var rows: [[String]]
        var predictions: [String]
        var requestID: String
    }

    /// Finds the log files among the paths given (folders are searched one level deep).
    static func files(_ urls: [URL]) throws -> [URL] {
        var files: [URL] = []
        for url in urls {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw MVError("cannot read '\(url.path)': no such file or folder")
            }
            if isDirectory.boolValue {
                let names = try FileManager.default.contentsOfDirectory(atPath: url.path).filter { $0.hasSuffix(".jsonl") }.sorted()
                guard !names.isEmpty else {
                    throw MVError(
                        "'\(url.path)' holds no prediction logs (*.jsonl)",
                        hint: "pass the folder given to 'mv serve --log-predictions', or a CSV file")
                }
                files += names.map { url.appendingPathComponent($0) }
            } else {
                files.append(url)
            }
        }
        return files
    }

    /// Calls `body` with every record of the model inside the window; returns how many
    /// records were skipped and the other models seen.
    func read(_ body: (Record, Int) throws -> Void) throws -> (skipped: Int, otherModels: Set<String>, records: Int) {
        var skipped = 0
        var others = Set<String>()
        var records = 0
        let dates = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        let plainDates = Date.ISO8601FormatStyle()
        for file in files {
            let source = file.lastPathComponent
            try LineReader(file).eachLine { bytes, line in
                guard !bytes.isEmpty else { return }
                let fail = { (problem: String) in
                    MVError(
                        "\(source) line \(line): \(problem); this is not a prediction log of 'mv serve --log-predictions'",
                        hint: "pass the log folder, or a CSV of rows with --data")
                }
                let json: OrderedJSON
                do { json = try OrderedJSON.parse(bytes) } catch let error as JSONSyntaxError { throw fail("not JSON (\(error.message))") }
                guard case .object(let members) = json else { throw fail("not a JSON object") }
                func member(_ key: String) -> OrderedJSON? { members.first { $0.key == key }?.value }
                guard case .string(let model)? = member("model"), case .string(let version)? = member("version"),
                    case .string(let time)? = member("time"), case .array(let columnValues)? = member("columns"),
                    case .array(let rowValues)? = member("rows"), case .array(let predictionValues)? = member("predictions")
                else { throw fail("a record needs time, model, version, columns, rows and predictions") }
                if since != nil || until != nil {
                    guard let date = (try? dates.parse(time)) ?? (try? plainDates.parse(time)) else {
                        throw fail("time '\(time)' is not ISO 8601")
                    }
                    if let since, date < since {
                        skipped += 1
                        return
                    }
                    if let until, date >= until {
                        skipped += 1
                        return
                    }
                }
                guard model == self.model else {
                    others.insert(model)
                    skipped += 1
                    return
                }
                let columns = try columnValues.map { value -> String in
                    guard case .string(let name) = value else { throw fail("'columns' must be names") }
                    return name
                }
                let rows = try rowValues.map { row -> [String] in
                    guard case .array(let cells) = row, cells.count == columns.count else {
                        throw fail("each row needs one value per column")
                    }
                    return cells.map(Self.text)
                }
                guard predictionValues.count == rows.count else { throw fail("one prediction per row is needed") }
                var requestID = ""
                if case .string(let id)? = member("request_id") { requestID = id }
                records += 1
                try body(
                    Record(
                        version: version, columns: columns, rows: rows, predictions: predictionValues.map(Self.text), requestID: requestID),
                    line)
            }
        }
        return (skipped, others, records)
    }

    /// A cell as text: numbers as written, strings as they are, null as missing.
    static func text(_ value: OrderedJSON) -> String {
        switch value {
        case .string(let text), .number(let text): return text
        case .bool(let flag): return flag ? "true" : "false"
        default: return ""
        }
    }

    /// Observes one record's rows, predictions and (joined) labels.
    static func observe(
        _ record: Record, line: Int, source: String, target: TargetSchema?, labels: Labels?, idColumn: String?,
        into state: inout Observation
    ) throws {
        let reference = state.reference
        var positions: [Int] = []
        for column in reference.columns {
            guard let position = record.columns.firstIndex(of: column.name) else {
                throw MVError(
                    "\(source) line \(line): the logged rows lack the column '\(column.name)' that the reference holds",
                    hint: "was this log written by another model? pass the matching model@version")
            }
            positions.append(position)
        }
        let idPosition = idColumn.flatMap { record.columns.firstIndex(of: $0) }
        for (rowIndex, row) in record.rows.enumerated() {
            state.rows += 1
            for (column, position) in positions.enumerated() {
                let text = row[position].trimmingCharacters(in: .whitespaces)
                if Missing.isMissing(text) {
                    state.observeMissing(column)
                } else if state.isNumeric(column) {
                    guard let value = Number.parse(text), value.isFinite else {
                        throw MVError(
                            "\(source) line \(line): column '\(reference.columns[column].name)' holds '\(text)', not a number",
                            hint: "the reference holds numbers there")
                    }
                    state.observe(column, number: value)
                } else {
                    state.observe(column, label: text)
                }
            }
            let prediction = record.predictions[rowIndex]
            let number = Number.parse(prediction)
            state.observePrediction(number: number, label: prediction)
            guard let target, let labels else { continue }
            let id: String
            if let idPosition {
                id = row[idPosition].trimmingCharacters(in: .whitespaces)
            } else if idColumn == "request_id" {
                id = record.rows.count == 1 ? record.requestID : "\(record.requestID)/\(rowIndex)"
            } else {
                continue
            }
            guard let label = labels.values[id] else { continue }
            switch target.task {
            case .regression:
                guard let predicted = number, let actual = Number.parse(label), actual.isFinite else {
                    state.unknownLabels += 1
                    continue
                }
                state.predicted.append(predicted)
                state.actual.append(actual)
            case .classification:
                guard let predicted = target.classes.firstIndex(of: prediction), let actual = target.classes.firstIndex(of: label) else {
                    state.unknownLabels += 1
                    continue
                }
                state.predicted.append(Double(predicted))
                state.actual.append(Double(actual))
            }
        }
    }
}

/// Reads a file line by line in blocks (prediction logs may be large).
struct LineReader {
    let url: URL

    init(_ url: URL) { self.url = url }

    func eachLine(_ body: ([UInt8], Int) throws -> Void) throws {
        let file: OpenFile
        do { file = try OpenFile(url.path) } catch { throw MVError("cannot read '\(url.path)': \(error)") }
        defer { try? file.close() }
        var offset = 0
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var pending: [UInt8] = []
        var line = 1
        while true {
            let got: Int
            do { got = try CSVStream.read(file, into: &block, at: offset) } catch { throw MVError("cannot read '\(url.path)': \(error)") }
            if got == 0 { break }
            offset += got
            var start = 0
            for index in 0..<got where block[index] == 10 {
                pending.append(contentsOf: block[start..<index])
                try body(pending, line)
                pending.removeAll(keepingCapacity: true)
                line += 1
                start = index + 1
            }
            pending.append(contentsOf: block[start..<got])
            if pending.count > 64 << 20 {
                throw MVError("'\(url.lastPathComponent)' line \(line) is longer than 64 MiB; this is not a prediction log")
            }
        }
        if !pending.isEmpty { try body(pending, line) }
    }
}
