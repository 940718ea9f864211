import Foundation
import TestSupport
import XCTest

/// A real `mv serve` on an ephemeral loopback port, as a user starts it.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    private let errorPipe = Pipe()
    private let outputPipe = Pipe()
    private let logBuffer = LogBuffer()

    init(_ arguments: [String], in folder: URL, file: StaticString = #filePath, line: UInt = #line) throws {
        process.executableURL = GitTestCase.mvBinary
        process.arguments = ["serve", "--port", "0"] + arguments
        process.currentDirectoryURL = folder
        process.environment = GitTestCase.environment
        process.standardOutput = outputPipe
        process.standardError = errorPipe
        process.standardInput = FileHandle.nullDevice
        try process.run()
        errorPipe.fileHandleForReading.readabilityHandler = { [logBuffer] handle in
            logBuffer.append(handle.availableData)
        }
        // The first stdout line names the address.
        var buffer = Data()
        let deadline = Date().addingTimeInterval(30)
        while !buffer.contains(UInt8(ascii: "\n")) {
            let chunk = outputPipe.fileHandleForReading.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                throw ServerError.exited(process.terminationStatus, logBuffer.text)
            }
            buffer += chunk
            if Date() > deadline { throw ServerError.exited(-1, "no address within 30 s: \(logBuffer.text)") }
        }
        let first = String(decoding: buffer, as: UTF8.self).split(separator: "\n")[0]
        guard first.hasPrefix("mv serve: listening on http://127.0.0.1:"), let number = Int(first.split(separator: ":").last ?? "")
        else { throw ServerError.exited(-1, "unexpected first line '\(first)'") }
        port = number
    }

    var log: String { logBuffer.text }

    /// SIGTERM, then the exit status.
    @discardableResult
    func stop() -> Int32 {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
        process.waitUntilExit()
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    func send(_ request: HTTPRequestText) throws -> HTTPAnswer {
        try HTTPConnection(port: port).exchange(request.bytes)
    }

    func get(_ path: String, headers: [String: String] = [:]) throws -> HTTPAnswer {
        try send(HTTPRequestText(method: "GET", path: path, headers: headers))
    }

    func post(_ path: String, json: String, headers: [String: String] = [:]) throws -> HTTPAnswer {
        var all = headers
        if all["Content-Type"] == nil { all["Content-Type"] = "application/json" }
        return try send(HTTPRequestText(method: "POST", path: path, headers: all, body: Data(json.utf8)))
    }

    /// Polls until `condition` holds for an answer of `path`, up to `seconds`.
    func waitUntil(_ seconds: Double, _ path: String, _ condition: (HTTPAnswer) -> Bool) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(try get(path)) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return false
    }
}

enum ServerError: Error, CustomStringConvertible {
    case exited(Int32, String)
    case socket(String)

    var description: String {
        switch self {
        case .exited(let status, let log): "mv serve exited (\(status)): \(log)"
        case .socket(let what): what
        }
    }
}

/// A request written out by hand, so tests can send what well-behaved clients never do.
struct HTTPRequestText {
    var method: String
    var path: String
    var headers: [String: String] = [:]
    var body = Data()

    var bytes: Data {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if headers["Transfer-Encoding"] == nil, method != "GET" || !body.isEmpty { head += "Content-Length: \(body.count)\r\n" }
        head += "\r\n"
        return Data(head.utf8) + body
    }
}

/// A parsed response.
struct HTTPAnswer {
    let status: Int
    let headers: [String: String]
    let body: Data

    var text: String { String(decoding: body, as: UTF8.self) }

    func header(_ name: String) -> String? { headers[name.lowercased()] }

    func json() throws -> Any { try JSONSerialization.jsonObject(with: body, options: [.fragmentsAllowed]) }

    func object() throws -> [String: Any] { try XCTUnwrap(try json() as? [String: Any], text) }

    /// The numbers of the first list after `"key":`, read with Swift's exact parser
    /// (Foundation's JSONSerialization on Linux can be off in the last digit).
    func numbers(_ key: String, occurrence: Int = 0) -> [Double] {
        var rest = Substring(text)
        for _ in 0...occurrence {
            guard let found = rest.range(of: "\"\(key)\":[") else { return [] }
            rest = rest[found.upperBound...]
        }
        guard let end = rest.firstIndex(of: "]") else { return [] }
        return rest[..<end].split(separator: ",").compactMap { Double($0.trimmingCharacters(in: .whitespaces)) }
    }
}

/// One TCP connection to the server, plain POSIX sockets.
final class HTTPConnection {
    let socket: Int32

    init(port: Int) throws {
        socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw ServerError.socket("socket() failed") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(socket)
            throw ServerError.socket("cannot connect to 127.0.0.1:\(port)")
        }
    }

    deinit { close(socket) }

    func write(_ data: Data) throws {
        try data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let sent = Glibc.send(socket, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
                guard sent > 0 else { throw ServerError.socket("send failed (\(errno))") }
                offset += sent
            }
        }
    }

    /// Reads one response (Content-Length or until close).
    func readAnswer() throws -> HTTPAnswer {
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Range<Data.Index>?
        var expected: Int?
        while true {
            if headerEnd == nil, let end = data.range(of: Data("\r\n\r\n".utf8)) {
                headerEnd = end
                let head = String(decoding: data[..<end.lowerBound], as: UTF8.self)
                for line in head.split(separator: "\r\n").dropFirst() {
                    let parts = line.split(separator: ":", maxSplits: 1)
                    if parts.count == 2, parts[0].lowercased() == "content-length" {
                        expected = Int(parts[1].trimmingCharacters(in: .whitespaces))
                    }
                }
            }
            if let end = headerEnd, let expected, data.count - end.upperBound >= expected { break }
            let count = recv(socket, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        guard let end = headerEnd else { throw ServerError.socket("no response head in \(data.count) bytes") }
        let head = String(decoding: data[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n")
        let statusLine = head.first.map(String.init) ?? ""
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers[parts[0].lowercased()] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        var body = Data(data[end.upperBound...])
        if let expected, body.count > expected { body = body.prefix(expected) }
        return HTTPAnswer(status: status, headers: headers, body: body)
    }

    func exchange(_ request: Data) throws -> HTTPAnswer {
        try write(request)
        return try readAnswer()
    }
}

/// The server's stderr as it arrives.
final class LogBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ chunk: Data) { lock.withLock { data += chunk } }

    var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }
}
