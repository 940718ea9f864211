import Learning
import Registry

/// Which protocol a route belongs to: it decides the shape of error bodies.
enum Family: String, Sendable {
    case mlflow, tfserving, oip, server
}

/// What a route answers, before it becomes a Hummingbird `Response`.
struct Answer: Sendable {
    var status = 200
    var body: String
    var contentType = "application/json"
    /// The slot's model name and the version that answered, for the X-Model-* headers.
    var modelName: String?
    var model: LoadedModel?
    /// What was predicted, for the prediction log.
    var input: CSVTable?
    var predictions: Predictions?

    /// Rows predicted, for /metrics.
    var rows: Int { predictions?.count ?? 0 }

    static func json(_ body: String, model: String? = nil, loaded: LoadedModel? = nil) -> Answer {
        Answer(body: body, modelName: model, model: loaded)
    }

    static func predicted(_ body: String, model: String, loaded: LoadedModel, input: CSVTable, predictions: Predictions) -> Answer {
        Answer(body: body, modelName: model, model: loaded, input: input, predictions: predictions)
    }

    static func text(_ body: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8") -> Answer {
        Answer(status: status, body: body, contentType: contentType)
    }

    /// An error in the family's shape: MLflow `{"error_code", "message"}`, TF Serving and the
    /// Open Inference Protocol `{"error"}`.
    static func error(_ error: ServeError, family: Family) -> Answer {
        var writer = JSONWriter()
        switch family {
        case .mlflow:
            writer.raw("{\"error_code\":")
            writer.string(error.mlflowCode)
            writer.raw(",\"message\":")
            writer.string(error.message)
            writer.raw("}")
        case .tfserving, .oip, .server:
            writer.raw("{\"error\":")
            writer.string(error.message)
            writer.raw("}")
        }
        return Answer(status: error.status, body: writer.text)
    }
}

/// A prediction request parsed and checked against the version, waiting for its
/// predictions; `format` writes the protocol's answer around them.
struct PredictionJob: Sendable {
    let model: String
    let loaded: LoadedModel
    let table: CSVTable
    let probabilities: Bool
    let format: @Sendable (Predictions) -> String
}

/// What a route's synchronous part produces: an answer, or predictions still to make.
enum Parsed: Sendable {
    case answer(Answer)
    case job(PredictionJob)
}
