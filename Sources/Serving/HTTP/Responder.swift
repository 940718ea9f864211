import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Registry
import Synchronization

/// The bounds every request is held to.
public struct ServeLimits: Sendable {
    /// Largest request body, in bytes (413 beyond).
    public var maxBody: Int
    /// Most rows in one request (413 beyond).
    public var maxRows: Int
    /// Most requests answered at once (503 beyond, at once: no queue).
    public var maxConcurrent: Int
    /// Longest time for one request, body included (504 beyond).
    public var timeout: Duration

    public init(maxBody: Int = 16 << 20, maxRows: Int = 100_000, maxConcurrent: Int = 256, timeout: Duration = .seconds(30)) {
        self.maxBody = maxBody
        self.maxRows = maxRows
        self.maxConcurrent = maxConcurrent
        self.timeout = timeout
    }
}

extension HTTPField.Name {
    static let modelName = HTTPField.Name("X-Model-Name")!
    static let modelVersion = HTTPField.Name("X-Model-Version")!
    static let modelCommit = HTTPField.Name("X-Model-Commit")!
    static let requestID = HTTPField.Name("X-Request-Id")!
    static let inferenceHeaderLength = HTTPField.Name("Inference-Header-Content-Length")!
}

/// Answers every route: takes one snapshot of the served models, bounds the request, reads
/// the body, dispatches to the protocol, and adds the X-Model-* and X-Request-Id headers.
struct ServeResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let table: ModelTable
    let metrics: ServerMetrics
    let limits: ServeLimits
    let predictionLog: PredictionLog?

    func respond(to request: Request, context: Context) async throws -> Response {
        let started = ContinuousClock.now
        let route = Route.classify(request.method, request.uri.path)
        let requestID = request.headers[.requestID].map { String($0.prefix(128)) } ?? Self.newRequestID()
        let busy = metrics.inFlight.wrappingAdd(1, ordering: .relaxed).newValue > limits.maxConcurrent
        defer { metrics.inFlight.wrappingSubtract(1, ordering: .relaxed) }
        // Whether this request's body is read: a busy server, a route without one, or a
        // Content-Length past --max-body (413 before reading) leave it to the drain below.
        let declared = request.headers[.contentLength].flatMap { Int($0) }
        let readsBody = route.takesBody && !busy && (declared ?? 0) <= limits.maxBody
        var answer: Answer
        if busy {
            answer = .error(
                .unavailable("the server is answering \(limits.maxConcurrent) requests already (--max-concurrent); retry"),
                family: route.family)
        } else {
            do {
                answer = try await Deadline.run(limits.timeout) {
                    try await self.answer(route, request: request, requestID: requestID, declared: declared)
                }
            } catch let error as ServeError {
                answer = .error(error, family: route.family)
            } catch {
                answer = .error(ServeError(status: 500, "\(error)"), family: route.family)
            }
        }
        // A body that was not read is read and dropped here, bounded: left unread on a
        // `Connection: close` request, its buffers outlive the connection.
        if !readsBody, (declared ?? 0) > 0 || request.headers[.transferEncoding] != nil {
            let body = request.body
            let bound = 4 * limits.maxBody
            _ = try? await Deadline.run(limits.timeout) {
                var seen = 0
                for try await part in body {
                    seen += part.readableBytes
                    if seen > bound { break }
                }
            }
        }
        var headers = HTTPFields()
        headers[.contentType] = answer.contentType
        headers[.requestID] = requestID
        if let name = answer.modelName { headers[.modelName] = name }
        if let model = answer.model {
            headers[.modelVersion] = model.version
            headers[.modelCommit] = model.commit
        }
        if case .wrongMethod(_, let allowed) = route { headers[.allow] = allowed }
        var buffer = ByteBuffer()
        buffer.writeString(answer.body)
        if request.method != .head { headers[.contentLength] = String(buffer.readableBytes) }
        let seconds = (ContinuousClock.now - started).seconds
        metrics.record(
            model: answer.modelName ?? "", version: answer.model?.version ?? "", route: route.name, status: answer.status, seconds: seconds,
            rows: answer.rows)
        if let predictionLog, let input = answer.input, let predictions = answer.predictions, let model = answer.model,
            predictionLog.wants()
        {
            predictionLog.add(
                PredictionLog.Entry(
                    time: Date(), requestID: requestID, model: answer.modelName ?? "", version: model.version, commit: model.commit,
                    route: route.name, table: input, predictions: predictions, seconds: seconds))
        }
        return Response(
            status: HTTPResponse.Status(code: answer.status), headers: headers,
            body: request.method == .head ? ResponseBody() : ResponseBody(byteBuffer: buffer))
    }

    private func answer(_ route: Route, request: Request, requestID: String, declared: Int?) async throws -> Answer {
        let served = table.snapshot()
        var body = ByteBuffer()
        if route.takesBody {
            if let length = declared, length > limits.maxBody {
                throw ServeError(status: 413, "the body is \(length) bytes, more than the server's --max-body \(limits.maxBody)")
            }
            do {
                body = try await request.body.collect(upTo: limits.maxBody)
            } catch is NIOTooManyBytesError {
                throw ServeError(status: 413, "the body is more than the server's --max-body \(limits.maxBody) bytes")
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // A broken chunked encoding or a connection closed mid-body.
                throw ServeError.badRequest("the request body could not be read: \(error)")
            }
        }
        let contentType = request.headers[.contentType]
        let requestedModel = request.uri.queryParameters["model"].map(String.init) ?? request.headers[.modelName]
        let binaryHeaderLength = request.headers[.inferenceHeaderLength].flatMap { Int($0) }
        let parsed = try body.withUnsafeReadableBytes { bytes throws(ServeError) -> Parsed in
            try parse(
                route, bytes: bytes, served: served, contentType: contentType, requestedModel: requestedModel, requestID: requestID,
                binaryHeaderLength: binaryHeaderLength)
        }
        switch parsed {
        case .answer(let answer):
            return answer
        case .job(let job):
            let predictions = try await job.loaded.predict(job.table, probabilities: job.probabilities)
            return .predicted(job.format(predictions), model: job.model, loaded: job.loaded, input: job.table, predictions: predictions)
        }
    }

    private func parse(
        _ route: Route, bytes: UnsafeRawBufferPointer, served: [ServedModel], contentType: String?, requestedModel: String?,
        requestID: String, binaryHeaderLength: Int?
    ) throws(ServeError) -> Parsed {
        switch route {
        case .ping:
            return .answer(.text("\n"))
        case .health:
            guard !served.isEmpty, served.allSatisfy({ $0.loaded != nil }) else {
                let missing = served.filter { $0.loaded == nil }.map { "\($0.spec): \($0.unavailable ?? "not loaded")" }
                throw ServeError.unavailable(missing.isEmpty ? "no model is served yet" : missing.joined(separator: "; "))
            }
            return .answer(.text("\n"))
        case .version:
            return .answer(.text(Registry.mvVersion))
        case .metrics:
            return .answer(.text(metrics.render(log: predictionLog), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        case .invocations:
            return .job(
                try MLflowProtocol.invocations(body: bytes, contentType: contentType, model: requestedModel, served: served, limits: limits)
            )
        case .tfStatus(let target):
            return .answer(try TFServingProtocol.status(target, served: served))
        case .tfMetadata(let target):
            return .answer(try TFServingProtocol.metadata(target, served: served))
        case .tfPredict(let target):
            return .job(try TFServingProtocol.predict(target, body: bytes, served: served, limits: limits))
        case .v2Server:
            return .answer(OpenInferenceProtocol.server(version: Registry.mvVersion))
        case .v2Live:
            return .answer(.json("{\"live\":true}"))
        case .v2Ready:
            return .answer(OpenInferenceProtocol.ready(served: served))
        case .v2Model(let model, let version):
            return .answer(try OpenInferenceProtocol.metadata(model, version: version, served: served))
        case .v2ModelReady(let model, let version):
            return .answer(try OpenInferenceProtocol.modelReady(model, version: version, served: served))
        case .v2Infer(let model, let version):
            return .job(
                try OpenInferenceProtocol.infer(
                    model, version: version, body: bytes, served: served, limits: limits, requestID: requestID,
                    binaryHeaderLength: binaryHeaderLength))
        case .unknown(let path):
            throw ServeError.notFound(
                "no endpoint '\(path)': mv serve answers /invocations, /ping, /health, /version, /metrics, /v1/models/<model>[:predict] and /v2/…"
            )
        case .wrongMethod(let path, let allowed):
            throw ServeError(status: 405, "'\(path)' takes \(allowed)")
        }
    }

    /// 16 hex digits, for requests that bring no X-Request-Id.
    static func newRequestID() -> String {
        let value = UInt64.random(in: .min ... .max)
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// Runs work with a time bound: past it the work is cancelled and the caller gets 504. The
/// answer waits for the work to end, which a body read does at once when cancelled (a
/// prediction, bounded by --max-rows, runs to its end): the request body must never be read
/// after the response is written, or by two tasks at once.
///
/// One watchdog task checks every deadline 20 times a second. A `Task.sleep` per request
/// would do the same, but a cancelled sleep keeps its timer (and ~700 bytes) until the time
/// it was due: at 10,000 requests a second and a 30 s timeout, 200 MB held for nothing.
enum Deadline {
    static func run<T: Sendable>(_ limit: Duration, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
        let expired = Atomic<Bool>(false)
        let child = Task { try await work() }
        let id = Watchdog.shared.add(deadline: .now + limit) {
            expired.store(true, ordering: .relaxed)
            child.cancel()
        }
        defer { Watchdog.shared.remove(id) }
        do {
            return try await withTaskCancellationHandler {
                try await child.value
            } onCancel: {
                child.cancel()
            }
        } catch {
            if expired.load(ordering: .relaxed) {
                throw ServeError(status: 504, "no answer within the server's --timeout \(limit)")
            }
            throw error
        }
    }
}

/// The deadlines of the requests in flight, and the one task that enforces them.
final class Watchdog: Sendable {
    static let shared = Watchdog()

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let expire: @Sendable () -> Void
    }

    private let entries = Mutex<[Int: Entry]>([:])
    private let nextID = Atomic<Int>(0)
    private let started = Atomic<Bool>(false)

    func add(deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> Int {
        if !started.load(ordering: .relaxed), started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            Task.detached { await self.patrol() }
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        entries.withLock { $0[id] = Entry(deadline: deadline, expire: expire) }
        return id
    }

    func remove(_ id: Int) {
        _ = entries.withLock { $0.removeValue(forKey: id) }
    }

    private func patrol() async {
        while true {
            try? await Task.sleep(for: .milliseconds(50))
            let now = ContinuousClock.now
            let due = entries.withLock { entries -> [Entry] in
                let due = entries.filter { $0.value.deadline <= now }
                for id in due.keys { entries.removeValue(forKey: id) }
                return Array(due.values)
            }
            for entry in due { entry.expire() }
        }
    }
}
