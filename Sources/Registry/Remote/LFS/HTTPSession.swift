import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import SystemIO

/// One request as the LFS transfer builds it: method, URL and headers (names compared
/// without case, as HTTP does).
struct HTTPRequest {
    var url: URL
    var method = "GET"
    private(set) var headers: [(name: String, value: String)] = []

    init(url: URL, method: String = "GET") {
        self.url = url
        self.method = method
    }

    /// Sets `name` to `value`, replacing any value it had under any spelling.
    mutating func setValue(_ value: String, forHTTPHeaderField name: String) {
        headers.removeAll { $0.name.lowercased() == name.lowercased() }
        headers.append((name, value))
    }
}

/// How to reach HTTP servers, read once from git's configuration and the environment as
/// git-lfs reads them: `http.proxy` or `https_proxy`/`http_proxy` (skipped for `no_proxy`
/// hosts and loopback), `http.sslVerify` and `http.sslCAInfo`.
struct HTTPSettings {
    var proxy: URL?
    var noProxy: [String] = []
    var verifyTLS = true
    var caFile: String?
    /// Connections kept open to one host.
    var connectionsPerHost = 8

    init(git: GitCLI, endpoint: URL) {
        self.init(scheme: endpoint.scheme ?? "https", environment: ProcessInfo.processInfo.environment) { key in
            try? git.config(key)
        }
    }

    /// The settings for an endpoint of `scheme`, from git's configuration (`config` gives a
    /// key's value, nil when unset) and the environment.
    init(scheme: String, environment: [String: String], config: (String) -> String?) {
        func setting(_ key: String) -> String? { config(key).flatMap { $0.isEmpty ? nil : $0 } }
        func variable(_ name: String) -> String? {
            (environment[name] ?? environment[name.uppercased()]).flatMap { $0.isEmpty ? nil : $0 }
        }
        if let proxy = setting("http.proxy") ?? variable(scheme.lowercased() == "http" ? "http_proxy" : "https_proxy") {
            // A proxy given without a scheme is an HTTP proxy, as git reads it.
            self.proxy = URL(string: proxy.contains("://") ? proxy : "http://" + proxy)
        }
        noProxy = (variable("no_proxy") ?? "").split(separator: ",").map {
            $0.trimmingCharacters(in: .whitespaces).lowercased()
        }.filter { !$0.isEmpty }
        verifyTLS = setting("http.sslverify").map { !["false", "no", "off", "0"].contains($0.lowercased()) } ?? true
        caFile = setting("http.sslcainfo")
    }

    /// Whether a request to `url` goes through the proxy.
    func proxies(_ url: URL) -> Bool {
        guard proxy != nil, let host = url.host?.lowercased() else { return false }
        // Loopback is never proxied, as git-lfs (Go's net/http) has it.
        if host == "localhost" || host.hasPrefix("127.") || host == "::1" || host == "[::1]" { return false }
        return !noProxy.contains { entry in
            if entry == "*" { return true }
            let suffix = entry.hasPrefix(".") ? String(entry.dropFirst()) : entry
            return host == suffix || host.hasSuffix("." + suffix)
        }
    }
}

/// Blocking HTTP calls over async-http-client (swift-nio) for the LFS transfer's worker
/// threads: small JSON exchanges in memory, object bodies streamed to and from files, never
/// whole in memory. Connections are kept and reused across requests to a host.
final class HTTPSession: Sendable {
    /// What came back: the status, the headers, and the body when it was kept in memory
    /// (JSON answers, and error bodies of streamed downloads, at most 64 KiB).
    struct Response: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        /// Bytes written to the download file.
        let written: Int64
    }

    /// Connection-level failure: no answer at all (refused, reset, timed out), or a TLS
    /// certificate that is not trusted, which no retry mends.
    struct ConnectionError: Error, CustomStringConvertible {
        let description: String
        var retryable = true
    }

    private let direct: HTTPClient
    private let proxied: HTTPClient?
    private let settings: HTTPSettings

    /// Pieces an upload is sent in: the socket takes them as fast as it drains, and each is
    /// reported to the progress line.
    static let uploadPiece = 4 << 20

    init(_ settings: HTTPSettings) {
        self.settings = settings
        var tls = TLSConfiguration.makeClientConfiguration()
        if !settings.verifyTLS { tls.certificateVerification = .none }
        if let caFile = settings.caFile { tls.trustRoots = .file(caFile) }
        func client(proxy: HTTPClient.Configuration.Proxy?) -> HTTPClient {
            var configuration = HTTPClient.Configuration(
                tlsConfiguration: tls,
                // Idle-time limits, as URLSession's and git-lfs's: a slow transfer that keeps moving is not cut.
                timeout: .init(connect: .seconds(30), read: .seconds(60), write: .seconds(60)),
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: settings.connectionsPerHost),
                proxy: proxy,
                decompression: .disabled)
            // A refused connection fails its request at once; `HTTPTransfer` retries with its
            // own backoff (the pool would keep trying until the 30 s connect timeout).
            configuration.connectionPool.retryConnectionEstablishment = false
            // HTTP/1.1, as git-lfs speaks by default: one connection per object in flight, and
            // no HTTP/2 flow-control window between a large body and the socket.
            configuration.httpVersion = .http1Only
            return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        }
        direct = client(proxy: nil)
        if let proxy = settings.proxy, let host = proxy.host {
            let authorization = proxy.user.map { HTTPClient.Authorization.basic(username: $0, password: proxy.password ?? "") }
            proxied = client(proxy: .server(host: host, port: proxy.port ?? 80, authorization: authorization))
        } else {
            proxied = nil
        }
    }

    /// Closes the connections; the session takes no requests after it.
    func invalidate() {
        try? direct.syncShutdown()
        try? proxied?.syncShutdown()
    }

    /// Sends `request` (with `body` in memory, or the file `upload`) and waits for the
    /// answer. With `download`, a body answered with one of `streamStatuses` goes to that
    /// file (appended where it stands), `onBytes` told of each piece.
    func send(
        _ request: HTTPRequest, body: Data? = nil, upload: URL? = nil, download: FileHandle? = nil, streamStatuses: Set<Int> = [200, 206],
        onBytes: ((Int64) -> Void)? = nil
    ) throws -> Response {
        // Called on one event loop at a time while this thread waits below.
        let report = Callback(onBytes)
        var headers = HTTPHeaders()
        for header in request.headers { headers.add(name: header.name, value: header.value) }
        let requestBody: HTTPClient.Body?
        // Closed once the answer is in (or the request failed).
        var sentFile: NIOFileHandle?
        defer { try? sentFile?.close() }
        if let upload {
            let file = try OpenFile(upload.path)
            let size = try file.size()
            if size > 0, request.url.scheme?.lowercased() == "http" {
                // In plain HTTP the socket takes the file's pages straight from the page cache
                // (sendfile): no copy through mv's memory, none of a map's page faults.
                let descriptor = dup(file.descriptor)
                guard descriptor >= 0 else { throw ConnectionError(description: "cannot open '\(upload.path)' again to send it") }
                let handle = NIOFileHandle(_deprecatedTakingOwnershipOfDescriptor: descriptor)
                sentFile = handle
                requestBody = Self.sending(handle, size: size, report: report)
            } else {
                // TLS encrypts from memory: the file is read a piece at a time as the socket drains.
                requestBody = Self.reading(file, size: size, report: report)
            }
        } else if let body {
            requestBody = .bytes(body)
        } else {
            requestBody = nil
        }
        let collector = Collector(file: download.map(Handle.init), accepted: streamStatuses, report: report)
        let client = settings.proxies(request.url) ? (proxied ?? direct) : direct
        do {
            let outgoing = try HTTPClient.Request(
                url: request.url, method: HTTPMethod(rawValue: request.method), headers: headers, body: requestBody)
            return try client.execute(request: outgoing, delegate: collector).wait()
        } catch let error as Collector.WriteFailed {
            throw ConnectionError(description: "could not write the download: \(error.underlying)")
        } catch let error as HTTPClientError {
            throw ConnectionError(description: Self.describe(error))
        } catch let error as IOError {
            // "connection refused", "connection reset by peer"…: the system's words.
            throw ConnectionError(description: String(cString: strerror(error.errnoCode)).lowercased())
        } catch {
            let text = "\(error)"
            if text.contains("CERTIFICATE_VERIFY_FAILED") {
                throw ConnectionError(
                    description: "the server's TLS certificate is not trusted (git's http.sslCAInfo names a CA bundle to trust)",
                    retryable: false)
            }
            throw ConnectionError(description: text)
        }
    }

    /// The file's bytes as file regions of `uploadPiece`, each reported once written.
    private static func sending(_ handle: NIOFileHandle, size: Int, report: Callback) -> HTTPClient.Body {
        .stream(contentLength: Int64(size)) { writer in
            @Sendable func write(from start: Int) -> EventLoopFuture<Void> {
                let end = min(start + uploadPiece, size)
                let sent = writer.write(.fileRegion(FileRegion(fileHandle: handle, readerIndex: start, endIndex: end)))
                return sent.flatMap {
                    report.call(Int64(end - start))
                    return end < size ? write(from: end) : sent
                }
            }
            return write(from: 0)
        }
    }

    /// The file's bytes read in pieces of `uploadPiece`, the next read once the last piece is
    /// written, so one piece per upload is in memory.
    private static func reading(_ file: OpenFile, size: Int, report: Callback) -> HTTPClient.Body {
        .stream(contentLength: Int64(size)) { writer in
            @Sendable func write(from start: Int, after previous: EventLoopFuture<Void>) -> EventLoopFuture<Void> {
                let end = min(start + uploadPiece, size)
                let written = previous.flatMapThrowing { () -> ByteBuffer in
                    var piece = ByteBufferAllocator().buffer(capacity: end - start)
                    let count = try piece.writeWithUnsafeMutableBytes(minimumWritableBytes: end - start) { space -> Int in
                        guard let base = space.baseAddress else { return 0 }
                        return try file.readFully(into: base, count: end - start, at: start)
                    }
                    guard count == end - start else { throw ShortRead(path: file.path) }
                    return piece
                }.flatMap { piece in
                    writer.write(.byteBuffer(piece)).map { report.call(Int64(end - start)) }
                }
                return end < size ? write(from: end, after: written) : written
            }
            // An empty first write gives the chain the request's event loop to run on.
            return write(from: 0, after: writer.write(.byteBuffer(ByteBuffer())))
        }
    }

    /// The file to upload ended before its size (it changed while being sent).
    private struct ShortRead: Error, CustomStringConvertible {
        let path: String
        var description: String { "'\(path)' became shorter while it was being sent" }
    }

    private static func describe(_ error: HTTPClientError) -> String {
        switch error {
        case .connectTimeout: return "the connection timed out"
        case .readTimeout: return "no data for 60 seconds"
        case .writeTimeout: return "the server took no data for 60 seconds"
        case .remoteConnectionClosed: return "the server closed the connection"
        default: return "\(error)"
        }
    }

    /// The progress callback of one request, only ever run on the event loop that sends or
    /// receives its body while the caller's thread waits.
    private struct Callback: @unchecked Sendable {
        let body: ((Int64) -> Void)?
        init(_ body: ((Int64) -> Void)?) { self.body = body }
        func call(_ bytes: Int64) { body?(bytes) }
    }

    /// The download file, written from the request's event loop only.
    private struct Handle: @unchecked Sendable {
        let file: FileHandle
    }

    /// Gathers one answer: its head, then its body into the file (when its status is one to
    /// stream) or into memory. Each request's events come in order on one event loop.
    private final class Collector: HTTPClientResponseDelegate, @unchecked Sendable {
        struct WriteFailed: Error {
            let underlying: Error
        }

        let file: Handle?
        let accepted: Set<Int>
        let report: Callback
        var status = 0
        var headers: [String: String] = [:]
        var body = Data()
        var written: Int64 = 0

        init(file: Handle?, accepted: Set<Int>, report: Callback) {
            self.file = file
            self.accepted = accepted
            self.report = report
        }

        func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
            status = Int(head.status.code)
            for (name, value) in head.headers { headers[name.lowercased()] = value }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            if let file, accepted.contains(status) {
                do {
                    try buffer.withUnsafeReadableBytes { try file.file.write(contentsOf: $0) }
                } catch {
                    return task.eventLoop.makeFailedFuture(WriteFailed(underlying: error))
                }
                written += Int64(buffer.readableBytes)
                report.call(Int64(buffer.readableBytes))
            } else if body.count < 1 << 16 || file == nil {
                body.append(contentsOf: buffer.readableBytesView)
            }
            return task.eventLoop.makeSucceededVoidFuture()
        }

        func didFinishRequest(task: HTTPClient.Task<Response>) throws -> Response {
            Response(status: status, headers: headers, body: body, written: written)
        }
    }
}
