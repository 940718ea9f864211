import CGit2
import Foundation

/// A failed libgit2 call: what mv was doing, libgit2's own message, and the error class
/// callers branch on (a missing object, an existing ref, a lost compare-and-swap, a lock).
public struct GitError: Error, CustomStringConvertible, Sendable {
    public enum Code: Sendable, Equatable {
        case notFound, exists, modified, locked, ambiguous, unbornBranch, invalidSpec, notOwner
        case other(Int32)

        init(_ rc: Int32) {
            switch rc {
            case GIT_ENOTFOUND.rawValue: self = .notFound
            case GIT_EEXISTS.rawValue: self = .exists
            case GIT_EMODIFIED.rawValue: self = .modified
            case GIT_ELOCKED.rawValue: self = .locked
            case GIT_EAMBIGUOUS.rawValue: self = .ambiguous
            case GIT_EUNBORNBRANCH.rawValue: self = .unbornBranch
            case GIT_EINVALIDSPEC.rawValue: self = .invalidSpec
            case GIT_EOWNER.rawValue: self = .notOwner
            default: self = .other(rc)
            }
        }
    }

    public let code: Code
    public let message: String
    public let context: String

    public init(code: Code, message: String, context: String) {
        self.code = code
        self.message = message
        self.context = context
    }

    public var description: String { message.isEmpty ? context : "\(context): \(message)" }
}

/// Reads libgit2's thread-local error right after the failing call; in 1.5 `git_error_last`
/// may be NULL, so the return code alone still yields a usable error.
func check(_ rc: Int32, _ context: @autoclosure () -> String) throws {
    guard rc < 0 else { return }
    throw GitError(code: .init(rc), message: lastErrorMessage(), context: context())
}

func lastErrorMessage() -> String {
    guard let error = git_error_last(), let message = error.pointee.message else { return "" }
    return String(cString: message).trimmingCharacters(in: .whitespacesAndNewlines)
}
