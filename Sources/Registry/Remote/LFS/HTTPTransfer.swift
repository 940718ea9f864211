import Foundation
import Git
import SystemIO
import TensorStore

/// An LFS server over HTTP(S), spoken to through its batch API (basic transfer):
/// `POST <endpoint>/objects/batch` for 1, 2, 4, 8, then 16 objects at a time (100 when only
/// asking what the server lacks), then each object's action with exactly
/// the headers the server gave — PUT then verify up, GET down — several at once. Failures
/// of the connection and 5xx/429 answers are retried with backoff; a download cut short
/// resumes where it stopped (`Range`) on the next attempt or run; every object is checked
/// against its SHA-256 before it enters the local store. Credentials come from the URL or
/// `git credential fill` when the server answers 401, as git-lfs gets them.
struct HTTPTransfer: LFSTransfer {
    let endpoint: URL
    let git: GitCLI
    let remote: String
    /// Objects in flight at once: git-lfs's `lfs.concurrenttransfers` (default 8).
    var concurrency = 8
    /// Attempts per request before giving up.
    var attempts = 4
    /// Proxy and TLS settings, as git-lfs reads them.
    var settings: HTTPSettings

    init(endpoint: URL, git: GitCLI, remote: String) {
        self.endpoint = endpoint
        self.git = git
        self.remote = remote
        settings = HTTPSettings(git: git, endpoint: endpoint)
        if let configured = try? git.config("lfs.concurrenttransfers"), let number = Int(configured), number > 0 {
            concurrency = min(number, 64)
        }
    }

    /// A session with a connection to each host for each worker and each batch thread.
    private func makeSession() -> HTTPSession {
        var settings = settings
        settings.connectionsPerHost = max(1, concurrency) + 2
        return HTTPSession(settings)
    }

    func upload(_ pointers: [LFSPointer], from store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64) {
        try run(.upload, pointers, store: store, progress: progress)
    }

    func download(_ pointers: [LFSPointer], into store: LFSObjectStore, progress: TransferProgress?) throws -> (objects: Int, bytes: Int64)
    {
        try run(.download, pointers.filter { !store.contains($0) }, store: store, progress: progress)
    }

    func lacking(_ pointers: [LFSPointer]) throws -> [LFSPointer] {
        let session = makeSession()
        defer { session.invalidate() }
        let client = BatchClient(endpoint: endpoint, git: git, session: session, attempts: attempts)
        var lacking: [LFSPointer] = []
        for start in stride(from: 0, to: pointers.count, by: 100) {
            let batch = Array(pointers[start..<min(start + 100, pointers.count)])
            let answers = try client.batch(.upload, batch)
            // An object the server has comes back without actions.
            lacking += batch.filter { pointer in
                guard case .success(let actions) = answers[pointer.oid] else { return true }
                return !actions.isEmpty
            }
        }
        return lacking
    }

    enum Operation: String { case upload, download }

    /// One object's action from the batch answer.
    struct Action {
        let href: URL
        let headers: [String: String]
        /// The server said the action needs no credentials of ours (`authenticated: true`).
        var authenticated = false
    }

    /// Objects per batch request at most. Small batches start objects moving sooner: the
    /// server checks every object of a batch in its store before it answers (giftless on S3:
    /// a HEAD request each, 0.5 s for 64), and later batches are answered while earlier
    /// objects move.
    static let batchSize = 16

    /// `pointers` in batches of 1, 2, 4, … up to `batchSize` objects: the first object moves
    /// as soon as the server has looked at one, not sixteen, while the next batches are
    /// answered during its transfer.
    static func batches(_ pointers: [LFSPointer]) -> [[LFSPointer]] {
        var batches: [[LFSPointer]] = []
        var start = 0
        var size = 1
        while start < pointers.count {
            let end = min(start + size, pointers.count)
            batches.append(Array(pointers[start..<end]))
            start = end
            size = min(2 * size, batchSize)
        }
        return batches
    }

    private func run(_ operation: Operation, _ pointers: [LFSPointer], store: LFSObjectStore, progress: TransferProgress?) throws -> (
        objects: Int, bytes: Int64
    ) {
        guard !pointers.isEmpty else { return (0, 0) }
        let session = makeSession()
        defer { session.invalidate() }
        let client = BatchClient(endpoint: endpoint, git: git, session: session, attempts: attempts)
        let meter = Meter(total: pointers.reduce(Int64(0)) { $0 + Int64($1.size) }, report: progress)
        let batches = Self.batches(pointers)
        let queue = TransferQueue(batches: batches.count)
        let workers = max(1, concurrency)
        // Two threads ask for batches in turn; the workers move the objects they answer for.
        let askers = min(2, batches.count)
        Threads.run(workers + askers) { [queue] thread in
            if thread < askers {
                while let index = queue.takeBatch(runAhead: 2 * workers) {
                    do {
                        let answers = try client.batch(operation, batches[index])
                        PhaseTrace.mark("lfs: batch \(index + 1) of \(batches.count) answered")
                        for pointer in batches[index] {
                            switch answers[pointer.oid] {
                            case nil: queue.fail("\(pointer): the server's answer left it out")
                            case .failure(let refusal): queue.fail("\(pointer): \(refusal)")
                            case .success(let actions) where actions.isEmpty:
                                // The server has it (upload); a download always has an action.
                                if operation == .download { queue.fail("\(pointer): the server gave no download action") }
                                meter.add(Int64(pointer.size))
                            case .success(let actions): queue.add((pointer, actions))
                            }
                        }
                    } catch {
                        queue.stop(error)
                    }
                    queue.batchDone()
                }
                return
            }
            while let (pointer, actions) = queue.takeJob() {
                do {
                    switch operation {
                    case .upload: try client.put(pointer, actions: actions, store: store, meter: meter)
                    case .download: try client.get(pointer, actions: actions, store: store, meter: meter)
                    }
                    queue.moved(pointer)
                } catch {
                    queue.fail("\(pointer): \(error)")
                }
            }
        }
        if let fatal = queue.fatal { throw fatal }
        let failures = queue.failures
        if !failures.isEmpty {
            let verb = operation == .upload ? "uploaded to" : "downloaded from"
            throw MVError(
                "\(failures.count) of \(pointers.count) LFS object(s) could not be \(verb) \(endpoint.absoluteString): \(failures[0])"
                    + (failures.count > 1 ? " (and \(failures.count - 1) more)" : ""),
                hint: operation == .upload
                    ? "nothing was pushed; run the command again (objects already sent are not sent again)"
                    : "run the command again: what arrived is kept, and a download cut short resumes")
        }
        return (queue.movedCount, queue.movedBytes)
    }
}

/// The batch API's requests, and each object's transfer with retries.
struct BatchClient {
    let endpoint: URL
    let git: GitCLI
    let session: HTTPSession
    let attempts: Int
    private let credentials: Credentials

    init(endpoint: URL, git: GitCLI, session: HTTPSession, attempts: Int) {
        self.endpoint = endpoint
        self.git = git
        self.session = session
        self.attempts = attempts
        credentials = Credentials(url: endpoint, git: git)
    }

    static let mediaType = "application/vnd.git-lfs+json"

    /// Each object's actions (or why the server refused it), by oid.
    func batch(_ operation: HTTPTransfer.Operation, _ pointers: [LFSPointer]) throws -> [String: Result<
        [String: HTTPTransfer.Action], BatchRefusal
    >] {
        let body: [String: Any] = [
            "operation": operation.rawValue, "transfers": ["basic"], "hash_algo": "sha256",
            "objects": pointers.map { ["oid": $0.oid, "size": $0.size] },
        ]
        let data = try JSONSerialization.data(withJSONObject: body)
        var request = HTTPRequest(url: endpoint.appendingPathComponent("objects/batch"), method: "POST")
        request.setValue(Self.mediaType, forHTTPHeaderField: "Accept")
        request.setValue(Self.mediaType, forHTTPHeaderField: "Content-Type")
        let response = try credentials.authorized { authorization in
            var request = request
            if let authorization { request.setValue(authorization, forHTTPHeaderField: "Authorization") }
            return try withRetries("the batch request") { try session.send(request, body: data) }
        }
        guard response.status == 200 else { throw refusal(response, doing: "the batch request") }
        guard let json = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any],
            let objects = json["objects"] as? [[String: Any]]
        else {
            throw MVError(
                "the LFS server at \(endpoint.absoluteString) answered the batch request with something that is not a batch answer")
        }
        if let transfer = json["transfer"] as? String, transfer != "basic" {
            throw MVError("the LFS server at \(endpoint.absoluteString) chose the '\(transfer)' transfer; mv speaks 'basic'")
        }
        var answers: [String: Result<[String: HTTPTransfer.Action], BatchRefusal>] = [:]
        for object in objects {
            guard let oid = object["oid"] as? String else { continue }
            if let error = object["error"] as? [String: Any] {
                let code = error["code"] as? Int ?? 0
                answers[oid] = .failure(BatchRefusal(message: "\(code) \(error["message"] as? String ?? "refused")"))
                continue
            }
            var actions: [String: HTTPTransfer.Action] = [:]
            for (name, value) in object["actions"] as? [String: Any] ?? [:] {
                guard let action = value as? [String: Any], let text = action["href"] as? String, let href = URL(string: text) else {
                    continue
                }
                actions[name] = HTTPTransfer.Action(
                    href: href, headers: action["header"] as? [String: String] ?? [:],
                    authenticated: object["authenticated"] as? Bool ?? false)
            }
            answers[oid] = .success(actions)
        }
        return answers
    }

    /// The action's headers, exactly; and, as git-lfs does, our credentials where the server
    /// did not say the action is authenticated, gave none itself, and the link is on the LFS
    /// server's own host (never to a storage host's signed link).
    func apply(_ action: HTTPTransfer.Action, to request: inout HTTPRequest) {
        for (key, value) in action.headers { request.setValue(value, forHTTPHeaderField: key) }
        if !action.authenticated, !action.headers.keys.contains(where: { $0.lowercased() == "authorization" }),
            action.href.host == endpoint.host, action.href.port == endpoint.port, let authorization = credentials.current
        {
            request.setValue(authorization, forHTTPHeaderField: "Authorization")
        }
    }

    /// PUT the object, then the verify action when there is one.
    func put(_ pointer: LFSPointer, actions: [String: HTTPTransfer.Action], store: LFSObjectStore, meter: Meter) throws {
        guard let upload = actions["upload"] else { return }
        var request = HTTPRequest(url: upload.href, method: "PUT")
        apply(upload, to: &request)
        var sent: Int64 = 0
        let response = try withRetries("the upload") { () -> HTTPSession.Response in
            meter.add(-sent)
            sent = 0
            return try session.send(request, upload: store.url(of: pointer.oid)) { bytes in
                sent += bytes
                meter.add(bytes)
            }
        }
        guard (200..<300).contains(response.status) else { throw refusal(response, doing: "the upload") }
        guard let verify = actions["verify"] else { return }
        var check = HTTPRequest(url: verify.href, method: "POST")
        check.setValue(Self.mediaType, forHTTPHeaderField: "Accept")
        check.setValue(Self.mediaType, forHTTPHeaderField: "Content-Type")
        apply(verify, to: &check)
        let body = try JSONSerialization.data(withJSONObject: ["oid": pointer.oid, "size": pointer.size])
        let verified = try withRetries("the verify request") { try session.send(check, body: body) }
        guard (200..<300).contains(verified.status) else { throw refusal(verified, doing: "the verify request") }
    }

    /// GET the object into its partial file (resuming what an earlier attempt left), then
    /// check it and move it into the store.
    func get(_ pointer: LFSPointer, actions: [String: HTTPTransfer.Action], store: LFSObjectStore, meter: Meter) throws {
        guard let download = actions["download"] else { throw MVError("the server gave no download action") }
        let partial = try store.partialDownload(of: pointer)
        try withRetries("the download") { () -> Void in
            if !FileManager.default.fileExists(atPath: partial.path) { FileManager.default.createFile(atPath: partial.path, contents: nil) }
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            var have = Int64(try handle.seekToEnd())
            if have > Int64(pointer.size) {
                try handle.truncate(atOffset: 0)
                have = 0
            }
            // Whole already (a run stopped while checking it): only the check is left.
            if have == Int64(pointer.size) { return }
            meter.add(have)
            var request = HTTPRequest(url: download.href)
            apply(download, to: &request)
            if have > 0 { request.setValue("bytes=\(have)-", forHTTPHeaderField: "Range") }
            let streamed = have > 0 ? Set([206]) : Set([200])
            var received: Int64 = 0
            let response: HTTPSession.Response
            do {
                response = try session.send(request, download: handle, streamStatuses: streamed) { bytes in
                    received += bytes
                    meter.add(bytes)
                }
            } catch {
                // What arrived stays for the next attempt; only the meter forgets it.
                meter.add(-(have + received))
                throw error
            }
            if have > 0 && (response.status == 200 || response.status == 416) {
                // The server ignored the range, or refused it: start again from the first byte.
                try handle.truncate(atOffset: 0)
                meter.add(-have)
                throw RetryNow()
            }
            guard streamed.contains(response.status) else {
                meter.add(-have)
                if response.status >= 500 || response.status == 429 { throw ServerBusy(response: response) }
                throw refusal(response, doing: "the download")
            }
        }
        do {
            try store.adopt(partial.path, as: pointer)
        } catch {
            meter.add(-Int64(pointer.size))
            throw error
        }
    }

    /// Runs `body` until it succeeds, a connection failure or a 5xx/429 answer (thrown as
    /// `Retryable`) repeating after 0.5 s, 1 s, 2 s…; any other failure ends it.
    @discardableResult
    func withRetries<T>(_ what: String, _ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let result = try body()
                if let response = result as? HTTPSession.Response, response.status >= 500 || response.status == 429, attempt < attempts {
                    PhaseTrace.mark("lfs: \(what) answered \(response.status); retrying")
                    Thread.sleep(forTimeInterval: 0.5 * Double(1 << (attempt - 1)))
                    continue
                }
                return result
            } catch is RetryNow where attempt < attempts {
                continue
            } catch let busy as ServerBusy {
                guard attempt < attempts else { throw refusal(busy.response, doing: what) }
                PhaseTrace.mark("lfs: \(what) answered \(busy.response.status); retrying")
                Thread.sleep(forTimeInterval: 0.5 * Double(1 << (attempt - 1)))
            } catch let error as HTTPSession.ConnectionError {
                PhaseTrace.mark("lfs: \(what) failed: \(error.description)")
                guard error.retryable else {
                    throw MVError("\(what) to \(endpoint.host ?? endpoint.absoluteString) failed: \(error.description)")
                }
                guard attempt < attempts else {
                    throw MVError("\(what) to \(endpoint.host ?? endpoint.absoluteString) failed \(attempts) times: \(error.description)")
                }
                Thread.sleep(forTimeInterval: 0.5 * Double(1 << (attempt - 1)))
            }
        }
    }

    /// The error for an answer that is not a success, with the server's own message.
    func refusal(_ response: HTTPSession.Response, doing what: String) -> MVError {
        let json = try? JSONSerialization.jsonObject(with: response.body) as? [String: Any]
        let message =
            (json?["message"] as? String)
            ?? String(decoding: response.body.prefix(200), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let reason: String
        switch response.status {
        case 401: reason = "credentials were refused"
        case 403: reason = "access denied (the credentials lack the right, or a signed link expired)"
        case 404: reason = "not found"
        case 413: reason = "the object is larger than the server takes"
        case 507: reason = "the server's storage is full"
        default: reason = "HTTP \(response.status)"
        }
        return MVError(
            "\(what) to \(endpoint.host ?? endpoint.absoluteString) failed: \(reason) (\(response.status)\(message.isEmpty ? "" : ": " + message))"
        )
    }
}

/// Why the server refused one object in its batch answer.
struct BatchRefusal: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// A download answered in full where a range was asked: retried from the start at once.
struct RetryNow: Error, CustomStringConvertible {
    var description: String { "the server would not resume the download" }
}

/// A 5xx or 429 answer to a request whose body went to a file: retried after a pause.
struct ServerBusy: Error {
    let response: HTTPSession.Response
}

/// Credentials for the LFS endpoint: from its URL, else `git credential fill` once the
/// server answers 401 (approved when they work, rejected when refused, as git does).
final class Credentials: @unchecked Sendable {
    let url: URL
    let git: GitCLI
    private let lock = NSLock()
    /// Held while git is asked for credentials, so threads that all met a 401 ask once.
    private let filling = NSLock()
    private var authorization: String?
    private var filled: String?
    private var approved = false

    init(url: URL, git: GitCLI) {
        self.url = url
        self.git = git
        if let user = url.user {
            let token = "\(user):\(url.password ?? "")"
            authorization = "Basic " + Data(token.utf8).base64EncodedString()
        }
        knownToNeedCredentials = (try? git.config("lfs.\(Self.withoutUserInfo(url)).access")) == "basic"
    }

    /// The Authorization header in use, if any.
    var current: String? {
        lock.lock()
        defer { lock.unlock() }
        return authorization
    }

    /// Runs `send` without credentials (or the URL's), and once more with git's when the
    /// server answers 401. Where git-lfs (or an earlier run) recorded that the server wants
    /// them (`lfs.<url>.access = basic`), they are sent from the start.
    func authorized(_ send: (String?) throws -> HTTPSession.Response) throws -> HTTPSession.Response {
        lock.lock()
        var current = authorization
        lock.unlock()
        if current == nil, knownToNeedCredentials { current = try filledAuthorization(after: nil) }
        let first = try send(current)
        guard first.status == 401 else {
            if current != nil, (200..<300).contains(first.status) { approve() }
            return first
        }
        guard let header = try filledAuthorization(after: current) else { return first }
        let second = try send(header)
        if second.status == 401 {
            // Refused credentials are forgotten, as git does; a 403 is about rights, not them.
            lock.lock()
            let refused = filled
            lock.unlock()
            _ = try? git.run(["credential", "reject"], input: (refused ?? "") + "\n")
        } else if (200..<300).contains(second.status) {
            approve()
            // As git-lfs records it, so the next run sends them at once.
            if !knownToNeedCredentials { _ = try? git.run(["config", "lfs.\(bareURL).access", "basic"]) }
        }
        return second
    }

    /// Tells git the credentials it filled worked (its helpers store them), once.
    private func approve() {
        lock.lock()
        let pending = approved ? nil : filled
        approved = true
        lock.unlock()
        if let pending { _ = try? git.run(["credential", "approve"], input: pending + "\n") }
    }

    private var bareURL: String { Self.withoutUserInfo(url) }

    static func withoutUserInfo(_ url: URL) -> String {
        var components = URLComponents(url: url, resolvingAgainstBaseURL: false)
        components?.user = nil
        components?.password = nil
        return components?.url?.absoluteString ?? url.absoluteString
    }

    /// git-lfs's record that the server wants credentials (read once, before any thread runs).
    private let knownToNeedCredentials: Bool

    /// git's credentials for the endpoint as a header, asked for once across threads (nil:
    /// those that `refused` was already were refused, or git has none).
    private func filledAuthorization(after refused: String?) throws -> String? {
        filling.lock()
        defer { filling.unlock() }
        lock.lock()
        let current = authorization
        lock.unlock()
        if let current, current != refused { return current }
        guard refused == nil || filled == nil else { return nil }
        let fill = try git.run(["credential", "fill"], input: "url=\(bareURL)\n\n")
        guard fill.status == 0 else {
            throw MVError(
                "the LFS server at \(url.host ?? url.absoluteString) asks for credentials (401) and git has none for it",
                hint:
                    "store them with a credential helper (git config credential.helper store, then git credential approve), or put them in lfs.url"
            )
        }
        var fields: [String: String] = [:]
        for line in fill.output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        let header = "Basic " + Data("\(fields["username"] ?? ""):\(fields["password"] ?? "")".utf8).base64EncodedString()
        lock.lock()
        filled = fill.output
        approved = false
        authorization = header
        lock.unlock()
        return header
    }
}

/// Bytes moved across all workers, reported in order.
final class Meter: @unchecked Sendable {
    private let lock = NSLock()
    private var done: Int64 = 0
    let total: Int64
    let report: TransferProgress?

    init(total: Int64, report: TransferProgress?) {
        self.total = total
        self.report = report
        report?(0, total)
    }

    func add(_ bytes: Int64) {
        lock.lock()
        defer { lock.unlock() }
        done = max(0, min(total, done + bytes))
        report?(done, total)
    }
}

/// Threads for work that waits on the network: more of them run than there are cores.
enum Threads {
    /// Runs `body` on `count` threads at once (each given its number) and waits for all of them.
    static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let finished = DispatchSemaphore(value: 0)
        for number in 0..<count {
            let thread = Thread {
                body(number)
                finished.signal()
            }
            thread.name = "mv.lfs.\(number)"
            thread.start()
        }
        for _ in 0..<count { finished.wait() }
    }
}

/// The objects the batch answers gave, waiting for a worker, and what became of them.
/// Workers wait while batches are still being asked for; a batch request that fails stops
/// everything (it is about the server or the credentials, not one object).
final class TransferQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private let batches: Int
    private var nextBatch = 0
    private var batchesDone = 0
    private var jobs: [(LFSPointer, [String: HTTPTransfer.Action])] = []
    private(set) var failures: [String] = []
    private(set) var fatal: Error?
    private(set) var movedCount = 0
    private(set) var movedBytes: Int64 = 0
    init(batches: Int) {
        self.batches = batches
    }

    /// The next batch to ask for; nil when none is left. Waits while `runAhead` objects are
    /// already waiting, so signed links are used soon after the server issues them (they
    /// expire). A batch given up after a fatal error still counts as done, so no worker
    /// waits for it.
    func takeBatch(runAhead: Int) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.count >= runAhead && fatal == nil { condition.wait() }
        guard nextBatch < batches else { return nil }
        if fatal != nil {
            batchesDone += batches - nextBatch
            nextBatch = batches
            condition.broadcast()
            return nil
        }
        nextBatch += 1
        return nextBatch - 1
    }

    func add(_ job: (LFSPointer, [String: HTTPTransfer.Action])) {
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    func batchDone() {
        condition.lock()
        batchesDone += 1
        condition.broadcast()
        condition.unlock()
    }

    /// The next object to move; waits while batches may still bring some.
    func takeJob() -> (LFSPointer, [String: HTTPTransfer.Action])? {
        condition.lock()
        defer { condition.unlock() }
        while jobs.isEmpty && batchesDone < batches && fatal == nil { condition.wait() }
        guard fatal == nil, !jobs.isEmpty else { return nil }
        condition.broadcast()
        return jobs.removeFirst()
    }

    func moved(_ pointer: LFSPointer) {
        condition.lock()
        movedCount += 1
        movedBytes += Int64(pointer.size)
        condition.unlock()
    }

    func fail(_ reason: String) {
        condition.lock()
        failures.append(reason)
        condition.unlock()
    }

    func stop(_ error: Error) {
        condition.lock()
        if fatal == nil { fatal = error }
        condition.broadcast()
        condition.unlock()
    }
}
