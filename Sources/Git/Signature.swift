import CGit2
import Foundation

/// Who made a commit or tag and when, as a value (libgit2's `git_signature` is created on demand).
public struct Signature: Sendable, Equatable {
    public var name: String
    public var email: String
    public var time: Date
    /// Offset from UTC in minutes, as Git records it.
    public var offsetMinutes: Int

    public init(name: String, email: String, time: Date = Date(), offsetMinutes: Int? = nil) {
        self.name = name
        self.email = email
        self.time = time
        self.offsetMinutes = offsetMinutes ?? TimeZone.current.secondsFromGMT(for: time) / 60
    }

    init(_ pointer: UnsafePointer<git_signature>) {
        let sig = pointer.pointee
        name = sig.name.map { String(cString: $0) } ?? ""
        email = sig.email.map { String(cString: $0) } ?? ""
        time = Date(timeIntervalSince1970: TimeInterval(sig.when.time))
        offsetMinutes = Int(sig.when.offset)
    }

    /// Calls `body` with a libgit2 signature that lives only for the call.
    func withGitSignature<T>(_ body: (UnsafeMutablePointer<git_signature>) throws -> T) throws -> T {
        var sig: UnsafeMutablePointer<git_signature>?
        try check(
            git_signature_new(&sig, name, email, git_time_t(time.timeIntervalSince1970.rounded(.down)), Int32(offsetMinutes)),
            "invalid identity '\(name) <\(email)>'")
        guard let sig else { throw GitError(code: .other(-1), message: "", context: "creating a signature") }
        defer { git_signature_free(sig) }
        return try body(sig)
    }
}
