import Learning
import Registry

/// The Open Inference Protocol (KServe V2, also Triton's and MLServer's): server and model
/// health, model metadata from the manifest, and `/infer` with either one tensor of shape
/// [N, F] in the version's column order or one tensor per column (BYTES for categories, as
/// MLServer's `content_type: "pd"` sends a data frame). Answers `predict` and, for models
/// with class probabilities, `predict_proba`.
enum OpenInferenceProtocol {
    static let numericTypes: Set<String> = [
        "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16", "FP32", "FP64",
    ]

    static func server(version: String) -> Answer {
        var writer = JSONWriter()
        writer.raw("{\"name\":\"mv\",\"version\":")
        writer.string(version)
        writer.raw(",\"extensions\":[]}")
        return .json(writer.text)
    }

    static func ready(served: [ServedModel]) -> Answer {
        let ready = !served.isEmpty && served.allSatisfy { $0.loaded != nil }
        return Answer(status: ready ? 200 : 503, body: "{\"ready\":\(ready)}")
    }

    static func modelReady(_ model: String, version: String?, served: [ServedModel]) throws(ServeError) -> Answer {
        do {
            let (slot, loaded) = try served.slot(model, version: version)
            var writer = JSONWriter()
            writer.raw("{\"name\":")
            writer.string(slot.name)
            writer.raw(",\"ready\":true}")
            return .json(writer.text, model: slot.name, loaded: loaded)
        } catch  where error.status == 503 {
            var writer = JSONWriter()
            writer.raw("{\"name\":")
            writer.string(model)
            writer.raw(",\"ready\":false,\"error\":")
            writer.string(error.message)
            writer.raw("}")
            return Answer(status: 503, body: writer.text, modelName: model)
        }
    }

    static func metadata(_ model: String, version: String?, served: [ServedModel]) throws(ServeError) -> Answer {
        let (slot, loaded) = try served.slot(model, version: version)
        var writer = JSONWriter()
        writer.raw("{\"name\":")
        writer.string(slot.name)
        writer.raw(",\"versions\":")
        let versions = served.filter { $0.name == model }.compactMap(\.loaded?.version)
        writer.list(Array(Set(versions)).sorted()) { $0.string($1) }
        writer.raw(",\"platform\":\"mv\",\"inputs\":")
        writer.list(loaded.columns) { writer, column in
            writer.raw("{\"name\":")
            writer.string(column.name)
            writer.raw(",\"datatype\":")
            writer.string(column.numeric ? "FP64" : "BYTES")
            writer.raw(",\"shape\":[-1]}")
        }
        writer.raw(",\"outputs\":[{\"name\":\"predict\",\"datatype\":")
        writer.string(loaded.isClassifier ? labelType(loaded.classes) : "FP64")
        writer.raw(",\"shape\":[-1]}")
        if loaded.hasProbabilities {
            writer.raw(",{\"name\":\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[-1,\(loaded.classes.count)]}")
        }
        writer.raw("],\"parameters\":{\"algorithm\":")
        writer.string(loaded.manifest.algorithm)
        writer.raw(",\"task\":")
        writer.string(loaded.manifest.task)
        writer.raw(",\"commit\":")
        writer.string(loaded.commit)
        writer.raw("}}")
        return .json(writer.text, model: slot.name, loaded: loaded)
    }

    /// INT64 when every class label is a whole number, else BYTES (an unknown list: BYTES).
    static func labelType(_ classes: [String]) -> String {
        !classes.isEmpty && classes.allSatisfy { Int64($0) != nil } ? "INT64" : "BYTES"
    }

    static func predictType(_ predictions: Predictions) -> String {
        predictions.target.task == .classification ? labelType(predictions.classes) : "FP64"
    }

    static func infer(
        _ model: String, version: String?, body: UnsafeRawBufferPointer, served: [ServedModel], limits: ServeLimits, requestID: String,
        binaryHeaderLength: Int? = nil
    ) throws(ServeError) -> PredictionJob {
        let (slot, loaded) = try served.slot(model, version: version)
        // Triton's binary tensor extension (what tritonclient sends by default): a JSON header
        // of `Inference-Header-Content-Length` bytes, then each input's raw bytes in order.
        var json = body
        var binary = UnsafeRawBufferPointer(start: nil, count: 0)
        if let length = binaryHeaderLength {
            guard length >= 0, length <= body.count else {
                throw .badRequest("Inference-Header-Content-Length \(length) is beyond the body's \(body.count) bytes")
            }
            json = UnsafeRawBufferPointer(rebasing: body[0..<length])
            binary = UnsafeRawBufferPointer(rebasing: body[length...])
        }
        let document = try JSON.parse(json)
        guard case .object = document, let inputs = document["inputs"]?.array, !inputs.isEmpty else {
            throw .badRequest("the body needs 'inputs': a list of tensors, each with name, shape, datatype and data")
        }
        let names = loaded.featureNames
        let reader = RowReader(columns: names, maxRows: limits.maxRows)
        var cursor = 0
        let tensors = try inputs.map { input throws(ServeError) in try Tensor(input, binary: binary, cursor: &cursor) }
        guard cursor == binary.count else {
            throw .badRequest("\(binary.count - cursor) bytes of binary data follow the inputs' binary_data_size")
        }
        let table: CSVTable
        if tensors.count == 1, tensors[0].shape.count == 2 {
            let tensor = tensors[0]
            let (rows, width) = (tensor.shape[0], tensor.shape[1])
            // A predictor command that declares no columns takes rows by position.
            let header = names.isEmpty ? (0..<width).map(String.init) : names
            guard width == header.count else {
                throw .badRequest(
                    "input '\(tensor.name)' has \(width) columns; \(slot.name) \(loaded.version) takes \(names.count) (\(names.joined(separator: ", ")))"
                )
            }
            try reader.checkCount(rows)
            var cells: [[String]] = []
            cells.reserveCapacity(rows)
            for row in 0..<rows {
                var line: [String] = []
                for c in 0..<width {
                    line.append(try reader.cell(tensor.data[row * width + c], column: header[c], row: row))
                }
                cells.append(line)
            }
            table = CSVTable(header: header, rows: cells)
        } else {
            var pairs: [(key: String, value: JSON)] = []
            for tensor in tensors {
                guard tensor.shape.count == 1 || (tensor.shape.count == 2 && tensor.shape[1] == 1) else {
                    throw .badRequest(
                        "input '\(tensor.name)' has shape \(tensor.shape); send one tensor of shape [N, \(names.count)] or one of shape [N] per column"
                    )
                }
                pairs.append((tensor.name, .array(tensor.data)))
            }
            table = try reader.columnar(pairs)
        }
        var wanted = ["predict"] + (loaded.hasProbabilities ? ["predict_proba"] : [])
        if let outputs = document["outputs"]?.array {
            var names: [String] = []
            for output in outputs {
                guard let name = output["name"]?.string else { throw .badRequest("each entry of 'outputs' needs a 'name'") }
                guard wanted.contains(name) else {
                    throw .badRequest("unknown output '\(name)'; \(slot.name) \(loaded.version) has \(wanted.joined(separator: ", "))")
                }
                names.append(name)
            }
            if !names.isEmpty { wanted = names }
        }
        let outputs = wanted
        let id = document["id"]?.string ?? requestID
        return PredictionJob(model: slot.name, loaded: loaded, table: table, probabilities: wanted.contains("predict_proba")) {
            predictions in
            var writer = JSONWriter()
            writer.raw("{\"model_name\":")
            writer.string(slot.name)
            writer.raw(",\"model_version\":")
            writer.string(loaded.version)
            writer.raw(",\"id\":")
            writer.string(id)
            writer.raw(",\"parameters\":{},\"outputs\":[")
            let labels = PredictionWriter(predictions)
            for (index, name) in outputs.enumerated() {
                if index > 0 { writer.raw(",") }
                if name == "predict" {
                    writer.raw("{\"name\":\"predict\",\"datatype\":")
                    writer.string(predictType(predictions))
                    writer.raw(",\"shape\":[\(predictions.count)],\"data\":")
                    labels.writeAll(into: &writer)
                    writer.raw("}")
                } else {
                    let classes = predictions.classes.count
                    writer.raw("{\"name\":\"predict_proba\",\"datatype\":\"FP64\",\"shape\":[\(predictions.count),\(classes)],\"data\":[")
                    for row in 0..<predictions.count {
                        for k in 0..<classes {
                            if row > 0 || k > 0 { writer.raw(",") }
                            writer.number(predictions.probability(row, k))
                        }
                    }
                    writer.raw("],\"parameters\":{\"classes\":")
                    writer.list(predictions.classes) { $0.string($1) }
                    writer.raw("}}")
                }
            }
            writer.raw("]}")
            return writer.text
        }
    }

    /// One input tensor, its data flattened row-major and checked against its shape.
    struct Tensor {
        let name: String
        let shape: [Int]
        let data: [JSON]

        init(_ input: JSON, binary: UnsafeRawBufferPointer, cursor: inout Int) throws(ServeError) {
            guard let name = input["name"]?.string else { throw .badRequest("every input needs a 'name'") }
            guard let datatype = input["datatype"]?.string else { throw .badRequest("input '\(name)' needs a 'datatype'") }
            guard let shapeValues = input["shape"]?.array, !shapeValues.isEmpty else {
                throw .badRequest("input '\(name)' needs a 'shape' (a list of sizes)")
            }
            var shape: [Int] = []
            for value in shapeValues {
                guard case .number(let text) = value, let size = Int(text), size >= 0, size <= 100_000_000 else {
                    throw .badRequest("input '\(name)': shape entries must be sizes, found \(value.kindName)")
                }
                shape.append(size)
            }
            var flat: [JSON] = []
            if case .number(let text)? = input["parameters"]?["binary_data_size"] {
                guard let size = Int(text), size >= 0, size <= binary.count - cursor else {
                    throw .badRequest("input '\(name)': binary_data_size \(text) is beyond the binary data sent")
                }
                flat = try Self.decode(UnsafeRawBufferPointer(rebasing: binary[cursor..<(cursor + size)]), datatype: datatype, name: name)
                cursor += size
            } else {
                guard let raw = input["data"] else { throw .badRequest("input '\(name)' has no 'data'") }
                func flatten(_ value: JSON) {
                    if case .array(let values) = value { values.forEach(flatten) } else { flat.append(value) }
                }
                flatten(raw)
            }
            var expected = 1
            for size in shape {
                let (product, overflow) = expected.multipliedReportingOverflow(by: size)
                guard !overflow else { throw .badRequest("input '\(name)': shape \(shape) is too large") }
                expected = product
            }
            guard flat.count == expected else {
                throw .badRequest("input '\(name)' has shape \(shape) (\(expected) values) but \(flat.count) values")
            }
            let isBytes = datatype == "BYTES"
            guard isBytes || OpenInferenceProtocol.numericTypes.contains(datatype) else {
                throw .badRequest("input '\(name)': unknown datatype '\(datatype)'")
            }
            for value in flat {
                switch value {
                case .string where isBytes, .number where !isBytes, .bool where datatype == "BOOL", .null: continue
                default:
                    throw .badRequest("input '\(name)' is \(datatype) but holds \(value.kindName)")
                }
            }
            self.name = name
            self.shape = shape
            self.data = flat
        }

        /// Little-endian values of `datatype`, or BYTES as 4-byte-length-prefixed strings.
        static func decode(_ bytes: UnsafeRawBufferPointer, datatype: String, name: String) throws(ServeError) -> [JSON] {
            func numbers<T>(_ type: T.Type, _ text: (T) -> String) throws(ServeError) -> [JSON] {
                let width = MemoryLayout<T>.size
                guard bytes.count % width == 0 else {
                    throw .badRequest("input '\(name)': \(bytes.count) bytes is not a whole number of \(datatype) values")
                }
                return (0..<(bytes.count / width)).map { .number(text(bytes.loadUnaligned(fromByteOffset: $0 * width, as: T.self))) }
            }
            switch datatype {
            case "FP64": return try numbers(UInt64.self) { "\(Double(bitPattern: UInt64(littleEndian: $0)))" }
            case "FP32": return try numbers(UInt32.self) { "\(Float(bitPattern: UInt32(littleEndian: $0)))" }
            case "INT64": return try numbers(Int64.self) { "\(Int64(littleEndian: $0))" }
            case "INT32": return try numbers(Int32.self) { "\(Int32(littleEndian: $0))" }
            case "INT16": return try numbers(Int16.self) { "\(Int16(littleEndian: $0))" }
            case "INT8": return try numbers(Int8.self) { "\($0)" }
            case "UINT64": return try numbers(UInt64.self) { "\(UInt64(littleEndian: $0))" }
            case "UINT32": return try numbers(UInt32.self) { "\(UInt32(littleEndian: $0))" }
            case "UINT16": return try numbers(UInt16.self) { "\(UInt16(littleEndian: $0))" }
            case "UINT8": return try numbers(UInt8.self) { "\($0)" }
            case "BOOL": return bytes.map { .bool($0 != 0) }
            case "BYTES":
                var values: [JSON] = []
                var offset = 0
                while offset < bytes.count {
                    guard offset + 4 <= bytes.count else { throw .badRequest("input '\(name)': a BYTES element is cut short") }
                    let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                    offset += 4
                    guard length <= bytes.count - offset else { throw .badRequest("input '\(name)': a BYTES element is cut short") }
                    guard let text = String(validating: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)]), as: UTF8.self)
                    else { throw .badRequest("input '\(name)': a BYTES element is not UTF-8") }
                    values.append(.string(text))
                    offset += length
                }
                return values
            default:
                throw .badRequest("input '\(name)': binary data of datatype '\(datatype)' is not supported")
            }
        }
    }
}
