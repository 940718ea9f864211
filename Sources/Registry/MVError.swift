import Foundation

/// A failure mv reports to the user: one line saying what is wrong, an optional hint
/// saying what to type next, and the process exit status to use.
public struct MVError: Error, CustomStringConvertible, LocalizedError, Sendable {
    public let message: String
    public let hint: String?
    public let exitCode: Int32
    /// A multi-line report shown before the error line (a failed gate's rules).
    public let details: String?

    public init(_ message: String, hint: String? = nil, exitCode: Int32 = 1, details: String? = nil) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
        self.details = details
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
