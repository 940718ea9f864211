/// A request the server refuses: the HTTP status and a message for the client. Each protocol
/// wraps the message in its own error shape (MLflow's `error_code`, TF Serving's `error`,
/// the Open Inference Protocol's `error`).
public struct ServeError: Error, Sendable, Equatable {
    public let status: Int
    public let message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    static func badRequest(_ message: String) -> ServeError { ServeError(status: 400, message) }
    static func notFound(_ message: String) -> ServeError { ServeError(status: 404, message) }
    static func unavailable(_ message: String) -> ServeError { ServeError(status: 503, message) }

    /// MLflow's name for the status.
    var mlflowCode: String {
        switch status {
        case 400, 413, 415: "BAD_REQUEST"
        case 404: "RESOURCE_DOES_NOT_EXIST"
        case 503: "TEMPORARILY_UNAVAILABLE"
        case 504: "DEADLINE_EXCEEDED"
        default: "INTERNAL_ERROR"
        }
    }
}
