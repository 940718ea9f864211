import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Blocking HTTP calls over URLSession for the LFS transfer's worker threads: small JSON
/// exchanges in memory, object bodies streamed to and from files, never whole in memory.
final class HTTPSession: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    /// What came back: the status, the headers, and the body when it was kept in memory
    /// (JSON answers, and error bodies of streamed downloads, at most 64 KiB).
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: Data
        /// Bytes written to the download file.
        let written: Int64
    }

    /// Connection-level failure: no answer at all (refused, reset, timed out).
    struct ConnectionError: Error, CustomStringConvertible {
        let description: String
    }

    private final class Exchange {
        let done = DispatchSemaphore(value: 0)
        var file: FileHandle?
        var acceptedStatuses: Set<Int> = []
        var response: HTTPURLResponse?
        var body = Data()
        var written: Int64 = 0
        var failure: Error?
        var onBytes: ((Int64) -> Void)?
    }

    private var session: URLSession!
    private let lock = NSLock()
    private var exchanges: [Int: Exchange] = [:]

    override init() {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 60
        configuration.httpMaximumConnectionsPerHost = 16
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    func invalidate() { session.finishTasksAndInvalidate() }

    /// Sends `request` (with `body` in memory, or the file `upload`) and waits for the
    /// answer. With `download`, a body answered with one of `streamStatuses` goes to that
    /// file (appended where it stands), `onBytes` told of each piece.
    func send(
        _ request: URLRequest, body: Data? = nil, upload: URL? = nil, download: FileHandle? = nil, streamStatuses: Set<Int> = [200, 206],
        onBytes: ((Int64) -> Void)? = nil
    ) throws -> Response {
        let exchange = Exchange()
        exchange.file = download
        exchange.acceptedStatuses = streamStatuses
        exchange.onBytes = onBytes
        let task: URLSessionTask
        if let upload {
            // A mapped file, not `fromFile:`: Foundation reads a file body through dispatch I/O
            // in small pieces, a thread wake-up each (64 × 8 MiB: 5.9 s against 3 s mapped).
            task = session.uploadTask(with: request, from: try Data(contentsOf: upload, options: .alwaysMapped))
        } else if let body {
            task = session.uploadTask(with: request, from: body)
        } else {
            task = session.dataTask(with: request)
        }
        lock.lock()
        exchanges[task.taskIdentifier] = exchange
        lock.unlock()
        task.resume()
        exchange.done.wait()
        lock.lock()
        exchanges[task.taskIdentifier] = nil
        lock.unlock()
        if let failure = exchange.failure {
            throw ConnectionError(description: (failure as NSError).localizedDescription)
        }
        guard let response = exchange.response else { throw ConnectionError(description: "no answer") }
        var headers: [String: String] = [:]
        for (key, value) in response.allHeaderFields {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return Response(status: response.statusCode, headers: headers, body: exchange.body, written: exchange.written)
    }

    private func exchange(_ task: URLSessionTask) -> Exchange? {
        lock.lock()
        defer { lock.unlock() }
        return exchanges[task.taskIdentifier]
    }

    func urlSession(
        _ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
        completionHandler: @escaping (URLSession.ResponseDisposition) -> Void
    ) {
        exchange(dataTask)?.response = response as? HTTPURLResponse
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        guard let exchange = exchange(dataTask) else { return }
        let status = exchange.response?.statusCode ?? 0
        if let file = exchange.file, exchange.acceptedStatuses.contains(status) {
            do {
                try file.write(contentsOf: data)
                exchange.written += Int64(data.count)
                exchange.onBytes?(Int64(data.count))
            } catch {
                exchange.failure = error
                dataTask.cancel()
            }
        } else if exchange.body.count < 1 << 16 || exchange.file == nil {
            exchange.body.append(data)
        }
    }

    func urlSession(
        _ session: URLSession, task: URLSessionTask, didSendBodyData bytesSent: Int64, totalBytesSent: Int64,
        totalBytesExpectedToSend: Int64
    ) {
        exchange(task)?.onBytes?(bytesSent)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        guard let exchange = exchange(task) else { return }
        if exchange.response == nil { exchange.response = task.response as? HTTPURLResponse }
        if let error, exchange.failure == nil { exchange.failure = error }
        exchange.done.signal()
    }
}
