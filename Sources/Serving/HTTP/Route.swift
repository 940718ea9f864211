import Hummingbird

/// Every endpoint `mv serve` answers, from the method and path alone.
enum Route: Sendable {
    // MLflow scoring server
    case ping, health, version, invocations
    // Prometheus
    case metrics
    // TF Serving REST
    case tfStatus(TFServingProtocol.Target)
    case tfMetadata(TFServingProtocol.Target)
    case tfPredict(TFServingProtocol.Target)
    // Open Inference Protocol
    case v2Server, v2Live, v2Ready
    case v2Model(String, version: String?)
    case v2ModelReady(String, version: String?)
    case v2Infer(String, version: String?)
    case unknown(String)
    case wrongMethod(String, allowed: String)

    var family: Family {
        switch self {
        case .ping, .health, .version, .invocations: .mlflow
        case .tfStatus, .tfMetadata, .tfPredict: .tfserving
        case .v2Server, .v2Live, .v2Ready, .v2Model, .v2ModelReady, .v2Infer: .oip
        case .metrics, .unknown, .wrongMethod: .server
        }
    }

    /// The route's name in /metrics (a bounded set: paths with model names are folded).
    var name: String {
        switch self {
        case .ping: "mlflow_ping"
        case .health: "mlflow_health"
        case .version: "mlflow_version"
        case .invocations: "mlflow_invocations"
        case .metrics: "metrics"
        case .tfStatus: "tfserving_status"
        case .tfMetadata: "tfserving_metadata"
        case .tfPredict: "tfserving_predict"
        case .v2Server: "v2_server"
        case .v2Live: "v2_live"
        case .v2Ready: "v2_ready"
        case .v2Model: "v2_model"
        case .v2ModelReady: "v2_model_ready"
        case .v2Infer: "v2_infer"
        case .unknown: "unknown"
        case .wrongMethod: "wrong_method"
        }
    }

    var takesBody: Bool {
        switch self {
        case .invocations, .tfPredict, .v2Infer: true
        default: false
        }
    }

    static func classify(_ method: HTTPRequest.Method, _ path: String) -> Route {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let route = match(parts)
        let post = method == .post
        switch route {
        case .invocations, .tfPredict, .v2Infer:
            return post ? route : .wrongMethod(path, allowed: "POST")
        case .unknown:
            return route
        default:
            return method == .get || method == .head ? route : .wrongMethod(path, allowed: "GET")
        }
    }

    private static func match(_ parts: [String]) -> Route {
        switch parts.first {
        case "ping" where parts.count == 1: return .ping
        case "health" where parts.count == 1: return .health
        case "version" where parts.count == 1: return .version
        case "invocations" where parts.count == 1: return .invocations
        case "metrics" where parts.count == 1: return .metrics
        case "v1": return tfServing(Array(parts.dropFirst()))
        case "v2": return openInference(Array(parts.dropFirst()))
        default: return .unknown("/" + parts.joined(separator: "/"))
        }
    }

    /// `models/<m>[/versions/<n>|/labels/<l>][/metadata|:predict]`
    private static func tfServing(_ parts: [String]) -> Route {
        guard parts.count >= 2, parts[0] == "models" else { return .unknown("/v1/" + parts.joined(separator: "/")) }
        var rest = Array(parts.dropFirst())
        var verb: String?
        if let last = rest.last, let colon = last.firstIndex(of: ":") {
            verb = String(last[last.index(after: colon)...])
            rest[rest.count - 1] = String(last[..<colon])
        }
        var metadata = false
        if verb == nil, rest.count > 1, rest.last == "metadata" {
            metadata = true
            rest.removeLast()
        }
        var target = TFServingProtocol.Target(model: rest[0])
        switch rest.count {
        case 1: break
        case 3 where rest[1] == "versions": target.version = rest[2]
        case 3 where rest[1] == "labels": target.label = rest[2]
        default: return .unknown("/v1/" + parts.joined(separator: "/"))
        }
        switch verb {
        case nil: return metadata ? .tfMetadata(target) : .tfStatus(target)
        case "predict": return .tfPredict(target)
        default: return .unknown("/v1/" + parts.joined(separator: "/"))
        }
    }

    /// `health/live|ready`, `models/<m>[/versions/<v>][/ready|/infer]`
    private static func openInference(_ parts: [String]) -> Route {
        switch parts.count {
        case 0: return .v2Server
        case 2 where parts == ["health", "live"]: return .v2Live
        case 2 where parts == ["health", "ready"]: return .v2Ready
        default: break
        }
        guard parts.count >= 2, parts[0] == "models" else { return .unknown("/v2/" + parts.joined(separator: "/")) }
        let model = parts[1]
        var rest = Array(parts.dropFirst(2))
        var version: String?
        if rest.count >= 2, rest[0] == "versions" {
            version = rest[1]
            rest.removeFirst(2)
        }
        switch rest {
        case []: return .v2Model(model, version: version)
        case ["ready"]: return .v2ModelReady(model, version: version)
        case ["infer"]: return .v2Infer(model, version: version)
        default: return .unknown("/v2/" + parts.joined(separator: "/"))
        }
    }
}
