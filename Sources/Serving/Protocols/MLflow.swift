import Foundation
import Learning
import Registry

/// MLflow's scoring server protocol (`mlflow models serve`): `POST /invocations` with JSON in
/// one of four shapes or CSV with a header row, answered `{"predictions": [...]}`.
enum MLflowProtocol {
    static let jsonKeys = ["dataframe_split", "dataframe_records", "instances", "inputs"]

    static func invocations(
        body: UnsafeRawBufferPointer, contentType: String?, model: String?, served: [ServedModel], limits: ServeLimits
    ) throws(ServeError) -> PredictionJob {
        let name = try chooseModel(model, served: served)
        let (slot, loaded) = try served.slot(name)
        let reader = RowReader(columns: loaded.featureNames, maxRows: limits.maxRows)
        let media = (contentType ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        let table: CSVTable
        switch media {
        case "application/json":
            table = try rows(JSON.parse(body), reader: reader)
        case "text/csv":
            do {
                table = try CSV.parse(Data(body), source: "the request body")
            } catch {
                throw .badRequest("\(error)")
            }
            try reader.checkCount(table.rows.count)
        default:
            throw ServeError(
                status: 415,
                "this endpoint takes application/json or text/csv, not '\(contentType ?? "no content type")'")
        }
        return PredictionJob(model: slot.name, loaded: loaded, table: table, probabilities: false) { predictions in
            var writer = JSONWriter()
            writer.raw("{\"predictions\":")
            PredictionWriter(predictions).writeAll(into: &writer)
            writer.raw("}")
            return writer.text
        }
    }

    /// `/invocations` serves one model: the only one, or the one `?model=` or the
    /// X-Model-Name header names.
    static func chooseModel(_ requested: String?, served: [ServedModel]) throws(ServeError) -> String {
        if let requested { return requested }
        let names = Array(Set(served.map(\.name))).sorted()
        guard names.count == 1, let only = names.first else {
            if names.isEmpty { throw .unavailable("no model is served yet") }
            throw .badRequest(
                "this server serves \(names.joined(separator: ", ")); name one with ?model=NAME or an X-Model-Name header")
        }
        return only
    }

    static func rows(_ document: JSON, reader: RowReader) throws(ServeError) -> CSVTable {
        guard case .object(let pairs) = document else {
            throw .badRequest("the body must be a JSON object with one of \(jsonKeys.joined(separator: ", "))")
        }
        let present = pairs.map(\.key).filter { jsonKeys.contains($0) }
        guard present.count == 1, let key = present.first, let value = document[key] else {
            throw .badRequest(
                present.isEmpty
                    ? "the body holds none of \(jsonKeys.joined(separator: ", ")) (found: \(pairs.map(\.key).joined(separator: ", ")))"
                    : "the body holds \(present.joined(separator: " and ")); send exactly one")
        }
        if let extra = pairs.map(\.key).first(where: { !jsonKeys.contains($0) && $0 != "params" }) {
            throw .badRequest("unexpected field '\(extra)' beside '\(key)'")
        }
        switch key {
        case "dataframe_split":
            guard let columns = value["columns"]?.array, let data = value["data"]?.array else {
                throw .badRequest("'dataframe_split' needs 'columns' (a list of names) and 'data' (a list of rows)")
            }
            var header: [String] = []
            for column in columns {
                guard let name = column.string else { throw .badRequest("'dataframe_split.columns' must hold strings") }
                header.append(name)
            }
            return try reader.lists(data, header: header)
        case "dataframe_records":
            guard let records = value.array else { throw .badRequest("'dataframe_records' must be a list of objects") }
            return try reader.records(records)
        default:
            return try reader.instances(value, field: key)
        }
    }

    static func describe(_ error: any Error) -> String {
        if let failure = error as? MVError { return failure.message }
        return "\(error)"
    }
}
