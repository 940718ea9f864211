import Foundation
import Learning
import Registry
import Synchronization

/// A fixed number of predictor processes for one version. A request takes an idle worker
/// (or waits for one, within its timeout), sends its rows, and gives the worker back. A
/// worker that dies fails its request with 503 and is replaced in the background; the pool
/// stops its processes when the last request of a retired version lets go of it.
final class WorkerPool: Sendable {
    let command: PredictorCommand
    let size: Int
    private let log: @Sendable (String) -> Void
    private let state = Mutex(State())
    private let nextID = Atomic<Int>(0)

    struct State {
        var idle: [Worker] = []
        var all: [Worker] = []
        var waiters: [(id: Int, continuation: CheckedContinuation<Worker, any Error>)] = []
        var closed = false
        var restarts = 0
    }

    init(_ command: PredictorCommand, size: Int, log: @escaping @Sendable (String) -> Void) {
        self.command = command
        self.size = size
        self.log = log
    }

    deinit { close() }

    /// Starts every worker and waits until each printed its ready line (a version that
    /// cannot start is not swapped in).
    func start(timeout: Duration) async throws {
        let workers = try (0..<size).map { _ in try Worker(command, environment: [:]) }
        state.withLock { $0.all = workers }
        do {
            try await Deadline.run(timeout) {
                for worker in workers { try await worker.waitReady() }
            }
        } catch {
            close()
            let tail = workers.first?.errorTail.split(separator: "\n").last.map { " (it said: \($0))" } ?? ""
            if let serveError = error as? ServeError, serveError.status == 504 {
                throw MVError("the predictor of \(command.resolved.label) printed no ready line within \(timeout)\(tail)")
            }
            throw MVError("the predictor of \(command.resolved.label) did not start: \(error)\(tail)")
        }
        state.withLock { $0.idle = workers }
    }

    func close() {
        let (workers, waiters) = state.withLock { state -> ([Worker], [CheckedContinuation<Worker, any Error>]) in
            state.closed = true
            defer {
                state.all = []
                state.idle = []
                state.waiters = []
            }
            return (state.all, state.waiters.map(\.continuation))
        }
        for worker in workers { worker.stop() }
        for waiter in waiters { waiter.resume(throwing: ServeError.unavailable("the predictor of \(command.resolved.label) was stopped")) }
    }

    var restarts: Int { state.withLock { $0.restarts } }

    /// Sends `table` to a worker and reads back one prediction per row.
    func predict(_ table: CSVTable) async throws(ServeError) -> Predictions {
        let worker: Worker
        do { worker = try await acquire() } catch let error as ServeError { throw error } catch {
            throw ServeError.unavailable("no predictor process is free: \(error)")
        }
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        var writer = JSONWriter()
        writer.raw("{\"id\":\(id),\"columns\":")
        writer.list(table.header) { $0.string($1) }
        writer.raw(",\"rows\":")
        writer.list(table.rows) { writer, row in
            writer.list(row) { writer, cell in
                if JSON.isNumber(cell) { writer.raw(cell) } else if cell.isEmpty { writer.raw("null") } else { writer.string(cell) }
            }
        }
        writer.raw("}")
        let line: String
        do {
            line = try await worker.call(writer.text)
        } catch {
            replace(worker)
            if _Concurrency.Task.isCancelled { throw ServeError(status: 504, "the predictor gave no answer in time; it was restarted") }
            throw ServeError.unavailable("\(error); it is being restarted, retry")
        }
        release(worker)
        return try Self.predictions(line, id: id, rows: table.rows.count)
    }

    /// Parses `{"id": N, "predictions": [...]}` or `{"id": N, "error": "..."}`.
    static func predictions(_ line: String, id: Int, rows: Int) throws(ServeError) -> Predictions {
        let answer: JSON
        do {
            answer = try JSON.parse(string: line)
        } catch {
            throw ServeError(status: 502, "the predictor answered something that is not JSON: \(line.prefix(200))")
        }
        if let message = answer["error"]?.string { throw ServeError.badRequest(message) }
        guard let values = answer["predictions"]?.array else {
            throw ServeError(status: 502, "the predictor's answer has no 'predictions' list: \(line.prefix(200))")
        }
        if case .number(let text)? = answer["id"], Int(text) != id {
            throw ServeError(status: 502, "the predictor answered request \(text), not \(id)")
        }
        guard values.count == rows else {
            throw ServeError(status: 502, "the predictor returned \(values.count) predictions for \(rows) rows")
        }
        var numbers: [Double] = []
        var labels: [String] = []
        for value in values {
            switch value {
            case .number(let text): numbers.append(Double(text) ?? .nan)
            case .string(let text): labels.append(text)
            default: throw ServeError(status: 502, "the predictor returned \(value.kindName) as a prediction")
            }
        }
        if labels.isEmpty {
            return Predictions(target: TargetSchema(name: "prediction", task: .regression), values: numbers, probabilities: nil)
        }
        guard numbers.isEmpty else { throw ServeError(status: 502, "the predictor mixed numbers and labels") }
        let classes = Array(Set(labels)).sorted()
        let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, Double($0)) })
        return Predictions(
            target: TargetSchema(name: "prediction", task: .classification, classes: classes), values: labels.map { index[$0] ?? 0 },
            probabilities: nil)
    }

    private func acquire() async throws -> Worker {
        let id = nextID.wrappingAdd(1, ordering: .relaxed).newValue
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready = state.withLock { state -> Result<Worker, any Error>? in
                    if state.closed { return .failure(ServeError.unavailable("the predictor of \(command.resolved.label) was stopped")) }
                    if let worker = state.idle.popLast() { return .success(worker) }
                    state.waiters.append((id, continuation))
                    return nil
                }
                if let ready { continuation.resume(with: ready) }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Worker, any Error>? in
                guard let at = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: at).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func release(_ worker: Worker) {
        let waiter = state.withLock { state -> CheckedContinuation<Worker, any Error>? in
            guard !state.closed else { return nil }
            if state.waiters.isEmpty {
                state.idle.append(worker)
                return nil
            }
            return state.waiters.removeFirst().continuation
        }
        waiter?.resume(returning: worker)
    }

    /// Stops a worker whose stream can no longer be trusted and starts another, retrying
    /// with a pause while the new one fails to start.
    private func replace(_ dead: Worker) {
        dead.stop()
        let closed = state.withLock { state -> Bool in
            state.all.removeAll { $0 === dead }
            state.restarts += 1
            return state.closed
        }
        guard !closed else { return }
        log(
            "\(command.resolved.label): a predictor process died (\(dead.errorTail.split(separator: "\n").last ?? "no message")); restarting it"
        )
        _Concurrency.Task { [weak self] in
            var pause = Duration.milliseconds(100)
            while let self, !self.state.withLock({ $0.closed }) {
                do {
                    let worker = try Worker(self.command, environment: [:])
                    try await Deadline.run(.seconds(60)) { try await worker.waitReady() }
                    let keep = self.state.withLock { state -> Bool in
                        guard !state.closed else { return false }
                        state.all.append(worker)
                        return true
                    }
                    if keep { self.release(worker) } else { worker.stop() }
                    return
                } catch {
                    self.log("\(self.command.resolved.label): the predictor did not restart (\(error)); retrying in \(pause)")
                    try? await _Concurrency.Task.sleep(for: pause)
                    pause = min(pause * 2, .seconds(10))
                }
            }
        }
    }
}
