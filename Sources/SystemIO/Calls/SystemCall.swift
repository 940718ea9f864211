import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A system call that failed: which call, on which file, and the `errno` it left.
public struct SystemError: UserError, Sendable, Equatable {
    /// The call, e.g. `pwrite`.
    public let call: String
    /// The file it was about, when there is one.
    public let path: String?
    public let code: Int32

    public init(call: String, path: String?, code: Int32) {
        self.call = call
        self.path = path
        self.code = code
    }

    /// `cannot write '/x/y': No space left on device (pwrite)`.
    public var message: String {
        let subject = path.map { " '\($0)'" } ?? ""
        return "cannot \(Self.verb(call))\(subject): \(reason) (\(call))"
    }

    /// The C library's text for the code.
    public var reason: String { String(cString: strerror(code)) }

    private static func verb(_ call: String) -> String {
        switch call {
        case "open", "mkstemp": "open"
        case "read", "pread", "preadv2", "fstat", "stat": "read"
        case "write", "pwrite", "writev": "write"
        case "fsync", "fdatasync": "sync"
        case "ftruncate": "resize"
        case "posix_fallocate": "reserve space for"
        case "mmap": "map"
        case "flock": "lock"
        case "rename": "rename"
        case "link": "link"
        case "unlink": "remove"
        case "fchmod": "change the mode of"
        case "close": "close"
        default: "use"
        }
    }
}

/// The funnel every system call of mv goes through: interrupted calls (EINTR) are retried,
/// and a failure becomes a `SystemError` that names the call and the file.
public enum SystemCall {
    /// Runs `body` until it returns something other than -1 with `errno` EINTR; -1 with any
    /// other `errno` throws. Returns the call's result.
    @inline(__always)
    @discardableResult
    public static func run<Result: BinaryInteger>(_ call: String, path: String?, _ body: () -> Result) throws -> Result {
        while true {
            let result = body()
            if result >= 0 { return result }
            let code = errno
            if code == EINTR { continue }
            throw SystemError(call: call, path: path, code: code)
        }
    }

    /// For the calls that return an error number instead of setting `errno`
    /// (`posix_fallocate`, `posix_memalign`, `posix_spawn`).
    public static func check(_ call: String, path: String?, _ body: () -> Int32) throws {
        while true {
            let code = body()
            if code == 0 { return }
            if code == EINTR { continue }
            throw SystemError(call: call, path: path, code: code)
        }
    }
}
