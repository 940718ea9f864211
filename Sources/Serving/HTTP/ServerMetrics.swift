import Synchronization

/// The counters `GET /metrics` prints in Prometheus' text format 0.0.4: requests by model,
/// version, route and status, a latency histogram by route, rows predicted, reloads by
/// result, and one `mv_model_info` line per served version.
public final class ServerMetrics: Sendable {
    struct RequestKey: Hashable {
        let model: String
        let version: String
        let route: String
        let status: Int
    }

    struct ModelVersion: Hashable, Comparable {
        let model: String
        let version: String

        static func < (lhs: ModelVersion, rhs: ModelVersion) -> Bool { (lhs.model, lhs.version) < (rhs.model, rhs.version) }
    }

    struct Histogram {
        var buckets: [Int]
        var sum: Double = 0
        var count = 0
    }

    struct State {
        var requests: [RequestKey: Int] = [:]
        var latency: [String: Histogram] = [:]
        var rows: [ModelVersion: Int] = [:]
        var reloads: [Bool: Int] = [:]
        var fetches: [Bool: Int] = [:]
        var info: [(model: String, version: String, commit: String, spec: String)] = []
    }

    static let bounds: [Double] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let state = Mutex(State())
    /// Requests being answered now, for the concurrency bound.
    let inFlight = Atomic<Int>(0)

    public init() {}

    func record(model: String, version: String, route: String, status: Int, seconds: Double, rows: Int) {
        state.withLock { state in
            state.requests[RequestKey(model: model, version: version, route: route, status: status), default: 0] += 1
            var histogram = state.latency[route] ?? Histogram(buckets: Array(repeating: 0, count: Self.bounds.count))
            if let bucket = Self.bounds.firstIndex(where: { seconds <= $0 }) { histogram.buckets[bucket] += 1 }
            histogram.sum += seconds
            histogram.count += 1
            state.latency[route] = histogram
            if rows > 0 { state.rows[ModelVersion(model: model, version: version), default: 0] += rows }
        }
    }

    func reload(succeeded: Bool) {
        state.withLock { $0.reloads[succeeded, default: 0] += 1 }
    }

    func fetched(succeeded: Bool) {
        state.withLock { $0.fetches[succeeded, default: 0] += 1 }
    }

    func setModels(_ models: [ServedModel]) {
        let info = models.compactMap { slot in
            slot.loaded.map { (model: slot.name, version: $0.version, commit: $0.commit, spec: slot.spec.description) }
        }
        state.withLock { $0.info = info }
    }

    /// The exposition text.
    func render(log: PredictionLog? = nil) -> String {
        let state = state.withLock { $0 }
        var out = ""
        out += "# HELP mv_requests_total Requests answered, by model, version, route and HTTP status.\n"
        out += "# TYPE mv_requests_total counter\n"
        for (key, count) in state.requests.sorted(by: { "\($0.key)" < "\($1.key)" }) {
            out +=
                "mv_requests_total{model=\(quoted(key.model)),version=\(quoted(key.version)),route=\(quoted(key.route)),status=\"\(key.status)\"} \(count)\n"
        }
        out += "# HELP mv_request_duration_seconds Time from the request's head to its answer, by route.\n"
        out += "# TYPE mv_request_duration_seconds histogram\n"
        for (route, histogram) in state.latency.sorted(by: { $0.key < $1.key }) {
            var cumulative = 0
            for (index, bound) in Self.bounds.enumerated() {
                cumulative += histogram.buckets[index]
                out += "mv_request_duration_seconds_bucket{route=\(quoted(route)),le=\"\(bound)\"} \(cumulative)\n"
            }
            out += "mv_request_duration_seconds_bucket{route=\(quoted(route)),le=\"+Inf\"} \(histogram.count)\n"
            out += "mv_request_duration_seconds_sum{route=\(quoted(route))} \(histogram.sum)\n"
            out += "mv_request_duration_seconds_count{route=\(quoted(route))} \(histogram.count)\n"
        }
        out += "# HELP mv_rows_predicted_total Input rows predicted, by model and version.\n"
        out += "# TYPE mv_rows_predicted_total counter\n"
        for (key, count) in state.rows.sorted(by: { $0.key < $1.key }) {
            out += "mv_rows_predicted_total{model=\(quoted(key.model)),version=\(quoted(key.version))} \(count)\n"
        }
        out += "# HELP mv_reloads_total Versions loaded after a stage moved (or at start), by result.\n"
        out += "# TYPE mv_reloads_total counter\n"
        out += "mv_reloads_total{result=\"success\"} \(state.reloads[true] ?? 0)\n"
        out += "mv_reloads_total{result=\"failure\"} \(state.reloads[false] ?? 0)\n"
        if !state.fetches.isEmpty {
            out += "# HELP mv_fetches_total Tag fetches from --remote, by result.\n"
            out += "# TYPE mv_fetches_total counter\n"
            out += "mv_fetches_total{result=\"success\"} \(state.fetches[true] ?? 0)\n"
            out += "mv_fetches_total{result=\"failure\"} \(state.fetches[false] ?? 0)\n"
        }
        out += "# HELP mv_model_info The version each served model answers with now.\n"
        out += "# TYPE mv_model_info gauge\n"
        for info in state.info {
            out +=
                "mv_model_info{model=\(quoted(info.model)),version=\(quoted(info.version)),commit=\(quoted(info.commit)),served=\(quoted(info.spec))} 1\n"
        }
        out += "# HELP mv_requests_in_flight Requests being answered.\n"
        out += "# TYPE mv_requests_in_flight gauge\n"
        out += "mv_requests_in_flight \(inFlight.load(ordering: .relaxed))\n"
        if let log {
            out += "# HELP mv_prediction_log_records_total Prediction log records, by outcome (dropped: the queue was full).\n"
            out += "# TYPE mv_prediction_log_records_total counter\n"
            out += "mv_prediction_log_records_total{outcome=\"written\"} \(log.written.load(ordering: .relaxed))\n"
            out += "mv_prediction_log_records_total{outcome=\"dropped\"} \(log.dropped.load(ordering: .relaxed))\n"
            out += "mv_prediction_log_records_total{outcome=\"failed\"} \(log.failed.load(ordering: .relaxed))\n"
        }
        return out
    }

    private func quoted(_ value: String) -> String {
        "\""
            + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
    }
}
