import Learning
import Registry

/// TensorFlow Serving's REST API: model status, metadata, and `:predict` with `instances`
/// (answered `predictions`) or `inputs` (answered `outputs`). Stages are its labels; a
/// version is the major number or the full `X.Y.Z`.
enum TFServingProtocol {
    /// Where a `/v1/models/...` path points.
    struct Target {
        var model: String
        var version: String?
        var label: String?
    }

    static func status(_ target: Target, served: [ServedModel]) throws(ServeError) -> Answer {
        let named = served.filter { $0.name == target.model }
        if named.isEmpty { _ = try served.slot(target.model) }
        var entries: [(version: String, state: String, message: String)] = []
        if target.version != nil || target.label != nil {
            let (_, loaded) = try served.slot(target.model, stage: target.label, version: target.version)
            entries.append((loaded.major, "AVAILABLE", ""))
        } else {
            for slot in named {
                if let loaded = slot.loaded {
                    if !entries.contains(where: { $0.version == loaded.major }) { entries.append((loaded.major, "AVAILABLE", "")) }
                } else {
                    entries.append(("0", "UNAVAILABLE", slot.unavailable ?? "not loaded"))
                }
            }
        }
        var writer = JSONWriter()
        writer.raw("{\"model_version_status\":")
        writer.list(entries) { writer, entry in
            writer.raw("{\"version\":")
            writer.string(entry.version)
            writer.raw(",\"state\":")
            writer.string(entry.state)
            writer.raw(",\"status\":{\"error_code\":")
            writer.string(entry.message.isEmpty ? "OK" : "UNAVAILABLE")
            writer.raw(",\"error_message\":")
            writer.string(entry.message)
            writer.raw("}}")
        }
        writer.raw("}")
        let loaded = named.first?.loaded
        return .json(writer.text, model: target.model, loaded: loaded)
    }

    static func metadata(_ target: Target, served: [ServedModel]) throws(ServeError) -> Answer {
        let (slot, loaded) = try served.slot(target.model, stage: target.label, version: target.version)
        var writer = JSONWriter()
        writer.raw("{\"model_spec\":{\"name\":")
        writer.string(slot.name)
        writer.raw(",\"signature_name\":\"\",\"version\":")
        writer.string(loaded.major)
        writer.raw("},\"metadata\":{\"signature_def\":{\"signature_def\":{\"serving_default\":{\"inputs\":{")
        for (index, column) in loaded.columns.enumerated() {
            if index > 0 { writer.raw(",") }
            writer.string(column.name)
            writer.raw(":{\"dtype\":")
            writer.string(column.numeric ? "DT_DOUBLE" : "DT_STRING")
            writer.raw(",\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"}]},\"name\":")
            writer.string(column.name)
            writer.raw("}")
        }
        writer.raw("},\"outputs\":{\"predictions\":{\"dtype\":")
        writer.string(loaded.isClassifier ? "DT_STRING" : "DT_DOUBLE")
        writer.raw(
            ",\"tensor_shape\":{\"dim\":[{\"size\":\"-1\"}]},\"name\":\"predictions\"}},\"method_name\":\"tensorflow/serving/predict\"}}}}}"
        )
        return .json(writer.text, model: slot.name, loaded: loaded)
    }

    static func predict(_ target: Target, body: UnsafeRawBufferPointer, served: [ServedModel], limits: ServeLimits) throws(ServeError)
        -> PredictionJob
    {
        let (slot, loaded) = try served.slot(target.model, stage: target.label, version: target.version)
        let document = try JSON.parse(body)
        guard case .object(let pairs) = document else { throw .badRequest("the body must be a JSON object with 'instances' or 'inputs'") }
        let reader = RowReader(columns: loaded.featureNames, maxRows: limits.maxRows)
        let present = pairs.map(\.key).filter { $0 == "instances" || $0 == "inputs" }
        guard present.count == 1, let key = present.first, let value = document[key] else {
            throw .badRequest(present.isEmpty ? "the body needs 'instances' or 'inputs'" : "send 'instances' or 'inputs', not both")
        }
        if let extra = pairs.map(\.key).first(where: { $0 != key && $0 != "signature_name" }) {
            throw .badRequest("unexpected field '\(extra)' beside '\(key)'")
        }
        let table = try reader.instances(value, field: key)
        return PredictionJob(model: slot.name, loaded: loaded, table: table, probabilities: false) { predictions in
            var writer = JSONWriter()
            writer.raw(key == "instances" ? "{\"predictions\":" : "{\"outputs\":")
            PredictionWriter(predictions).writeAll(into: &writer)
            writer.raw("}")
            return writer.text
        }
    }
}
