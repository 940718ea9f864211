import Foundation
import Learning
import Registry
import Synchronization
import SystemIO

/// `--log-predictions DIR`: one JSON line per sampled request — time, request id, model,
/// version, commit, route, the input rows as the schema read them, the predictions, the
/// latency — written by a thread of its own. Requests only append to a bounded queue; when it
/// is full the record is dropped and counted, never the request. Files rotate by size:
/// `predictions-<UTC time>-<pid>.jsonl`, a new one past `maxBytes`.
public final class PredictionLog: Sendable {
    /// What one request leaves for the writer (formatted off the request path).
    struct Entry: Sendable {
        let time: Date
        let requestID: String
        let model: String
        let version: String
        let commit: String
        let route: String
        let table: CSVTable
        let predictions: Predictions
        let seconds: Double
    }

    public let folder: URL
    let sample: Double
    let maxBytes: Int
    let capacity: Int
    private let queue = Mutex<[Entry]>([])
    private let ready = DispatchSemaphore(value: 0)
    private let stopped = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)
    let written = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let failed = Atomic<Int>(0)

    /// Makes the folder (or fails with a message the CLI prints) and starts the writer.
    public init(folder: URL, sample: Double, maxBytes: Int = 64 << 20, capacity: Int = 10_000) throws {
        self.folder = folder
        self.sample = sample
        self.maxBytes = maxBytes
        self.capacity = capacity
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw MVError("cannot create the prediction log folder '\(folder.path)': \(error.localizedDescription)")
        }
        guard FileManager.default.isWritableFile(atPath: folder.path) else {
            throw MVError("cannot write to the prediction log folder '\(folder.path)'", hint: "pick a folder you can write to")
        }
        let thread = Thread { [self] in self.drain() }
        thread.name = "mv-prediction-log"
        thread.start()
    }

    /// Whether this request is one of the sampled ones.
    func wants() -> Bool { sample >= 1 || Double.random(in: 0..<1) < sample }

    func add(_ entry: Entry) {
        let accepted = queue.withLock { entries -> Bool in
            guard entries.count < capacity else { return false }
            entries.append(entry)
            return true
        }
        if accepted { ready.signal() } else { dropped.add(1, ordering: .relaxed) }
    }

    /// Writes what is queued and stops the writer (at shutdown).
    public func close() {
        stopped.store(true, ordering: .relaxed)
        ready.signal()
        _ = finished.wait(timeout: .now() + 10)
    }

    private func drain() {
        var file: OpenFile?
        var size = 0
        while true {
            _ = ready.wait(timeout: .now() + 1)
            let batch = queue.withLock { entries -> [Entry] in
                defer { entries.removeAll(keepingCapacity: true) }
                return entries
            }
            if !batch.isEmpty {
                var text = ""
                for entry in batch { text += Self.line(entry) + "\n" }
                do {
                    if file == nil || size >= maxBytes {
                        try file?.close()
                        file = try OpenFile(newFileName(), flags: O_WRONLY | O_CREAT | O_APPEND)
                        size = 0
                    }
                    let bytes = Array(text.utf8)
                    try bytes.withUnsafeBytes { try file?.write($0) }
                    size += bytes.count
                    written.add(batch.count, ordering: .relaxed)
                } catch {
                    failed.add(batch.count, ordering: .relaxed)
                    try? file?.close()
                    file = nil
                }
            }
            if stopped.load(ordering: .relaxed), queue.withLock({ $0.isEmpty }) { break }
        }
        try? file?.close()
        finished.signal()
    }

    private func newFileName() -> String {
        let stamp = Date().formatted(
            .iso8601.year().month().day().dateSeparator(.omitted).time(includingFractionalSeconds: true).timeSeparator(.omitted)
                .timeZone(separator: .omitted))
        var name = folder.appendingPathComponent("predictions-\(stamp)-\(getpid()).jsonl").path
        var counter = 1
        while FileManager.default.fileExists(atPath: name) {
            counter += 1
            name = folder.appendingPathComponent("predictions-\(stamp)-\(getpid())-\(counter).jsonl").path
        }
        return name
    }

    /// One record: `{"time", "request_id", "model", "version", "commit", "route",
    /// "latency_ms", "columns", "rows", "predictions"[, "probabilities", "classes"]}`.
    static func line(_ entry: Entry) -> String {
        var writer = JSONWriter()
        writer.raw("{\"time\":")
        writer.string(Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(entry.time))
        writer.raw(",\"request_id\":")
        writer.string(entry.requestID)
        writer.raw(",\"model\":")
        writer.string(entry.model)
        writer.raw(",\"version\":")
        writer.string(entry.version)
        writer.raw(",\"commit\":")
        writer.string(entry.commit)
        writer.raw(",\"route\":")
        writer.string(entry.route)
        writer.raw(",\"latency_ms\":")
        writer.number((entry.seconds * 1e6).rounded() / 1e3)
        writer.raw(",\"columns\":")
        writer.list(entry.table.header) { $0.string($1) }
        writer.raw(",\"rows\":")
        writer.list(entry.table.rows) { writer, row in
            writer.list(row) { writer, cell in
                // A cell that reads as a JSON number is written as one; anything else as text.
                if JSON.isNumber(cell) {
                    writer.raw(cell)
                } else {
                    writer.string(cell)
                }
            }
        }
        writer.raw(",\"predictions\":")
        PredictionWriter(entry.predictions).writeAll(into: &writer)
        if entry.predictions.probabilities != nil {
            writer.raw(",\"classes\":")
            writer.list(entry.predictions.classes) { $0.string($1) }
            writer.raw(",\"probabilities\":")
            writer.list(0..<entry.predictions.count) { writer, row in
                writer.list(entry.predictions.classes.indices) { writer, k in writer.number(entry.predictions.probability(row, k)) }
            }
        }
        writer.raw("}")
        return writer.text
    }
}
