import Foundation
import Registry

/// One predictor process speaking JSON lines: it prints `{"ready": true}` once loaded, then
/// answers each request line with one line. One request at a time; a reader thread hands
/// each line to the waiting request. When the process exits, a request waiting on it fails
/// at once with the exit status, never hangs.
final class Worker: @unchecked Sendable {
    struct Died: Error, CustomStringConvertible {
        let description: String
    }

    let process = Process()
    private let input: FileHandle
    private let lock = NSLock()
    private var pending: CheckedContinuation<String, any Error>?
    private var lines: [String] = []
    private var exited = false
    private var stderrTail = ""
    private let writes = DispatchQueue(label: "mv-worker-stdin")

    init(_ command: PredictorCommand, environment extra: [String: String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command.command
        process.currentDirectoryURL = command.folder.appendingPathComponent("serve")
        var environment = ProcessInfo.processInfo.environment
        environment["MV_MODEL_DIR"] = command.folder.path
        environment["MV_MODEL"] = command.resolved.model.value
        environment["MV_VERSION"] = command.resolved.version?.description ?? ""
        environment["MV_COMMIT"] = command.resolved.commit.description
        environment["PYTHONUNBUFFERED"] = "1"
        for (key, value) in extra { environment[key] = value }
        process.environment = environment
        let stdin = Pipe()
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stderr
        input = stdin.fileHandleForWriting
        do {
            try process.run()
        } catch {
            throw MVError("cannot start the predictor '\(command.command.joined(separator: " "))': \(error.localizedDescription)")
        }
        // The end of stdout, not the exit, marks the worker dead: an answer the process wrote
        // just before exiting is still delivered.
        let reader = Thread { [weak self, process] in
            var buffer = Data()
            let handle = stdout.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                buffer += chunk
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                    buffer.removeSubrange(buffer.startIndex...newline)
                    self?.deliver(line)
                }
            }
            for _ in 0..<50 where process.isRunning { Thread.sleep(forTimeInterval: 0.01) }
            self?.finish(status: process.isRunning ? nil : process.terminationStatus)
        }
        reader.start()
        let errors = Thread { [weak self] in
            let handle = stderr.fileHandleForReading
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                self?.noteError(String(decoding: chunk, as: UTF8.self))
            }
        }
        errors.start()
    }

    deinit { stop() }

    var isAlive: Bool { lock.withLock { !exited } }

    /// The last lines the predictor wrote on stderr, for messages.
    var errorTail: String { lock.withLock { stderrTail } }

    /// Closes the predictor's stdin and kills it. SIGKILL, not SIGTERM: mv serve ignores
    /// SIGTERM to drain on it, and an ignored signal stays ignored in the children it starts.
    func stop() {
        try? input.close()
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Fails the request waiting on this worker now, without waiting for the process to go.
    private func abandon() {
        let waiting = lock.withLock { () -> CheckedContinuation<String, any Error>? in
            defer { pending = nil }
            return pending
        }
        waiting?.resume(throwing: CancellationError())
    }

    /// Waits for the predictor's first line, which must be `{"ready": true}`.
    func waitReady() async throws {
        let line = try await next()
        guard case .object = (try? JSON.parse(string: line)), line.contains("\"ready\"") else {
            stop()
            throw Died(description: "the predictor's first line must be {\"ready\": true}, not '\(line.prefix(200))'")
        }
    }

    /// Sends one request line and returns the answer line. Cancelling (a request timeout)
    /// stops the process: its output would no longer match the requests.
    func call(_ line: String) async throws -> String {
        writes.async { [input] in
            do {
                try input.write(contentsOf: Data((line + "\n").utf8))
            } catch {
                // The process is gone; its exit fails the request.
            }
        }
        return try await withTaskCancellationHandler {
            try await next()
        } onCancel: {
            stop()
            abandon()
        }
    }

    private func next() async throws -> String {
        try await withCheckedThrowingContinuation { continuation in
            lock.lock()
            if !lines.isEmpty {
                let line = lines.removeFirst()
                lock.unlock()
                continuation.resume(returning: line)
            } else if exited {
                let tail = stderrTail
                lock.unlock()
                continuation.resume(throwing: Died(description: "the predictor exited" + Self.suffix(tail)))
            } else {
                pending = continuation
                lock.unlock()
            }
        }
    }

    private func deliver(_ line: String) {
        lock.lock()
        if let waiting = pending {
            pending = nil
            lock.unlock()
            waiting.resume(returning: line)
        } else {
            lines.append(line)
            lock.unlock()
        }
    }

    private func finish(status: Int32?) {
        lock.lock()
        exited = true
        let waiting = pending
        pending = nil
        let tail = stderrTail
        lock.unlock()
        let how = status.map { " with status \($0)" } ?? ""
        waiting?.resume(throwing: Died(description: "the predictor exited\(how)" + Self.suffix(tail)))
    }

    private func noteError(_ text: String) {
        lock.withLock {
            stderrTail = String((stderrTail + text).suffix(2000))
        }
    }

    private static func suffix(_ tail: String) -> String {
        let last = tail.split(separator: "\n").last.map(String.init) ?? ""
        return last.isEmpty ? "" : " (it said: \(last.prefix(300)))"
    }
}
