import Foundation
import SystemIO

/// A failure mv reports to the user: one line saying what is wrong, an optional hint
/// saying what to type next, and the process exit status to use.
public struct MVError: UserError, LocalizedError, Sendable {
    public let message: String
    public let hint: String?
    public let exitCode: Int32
    /// The failed gates behind the error, which the CLI shows in full before the error line.
    public let gateReports: [GateReport]

    public init(_ message: String, hint: String? = nil, exitCode: Int32 = 1, gateReports: [GateReport] = []) {
        self.message = message
        self.hint = hint
        self.exitCode = exitCode
        self.gateReports = gateReports
    }

    public var description: String { message }
    public var errorDescription: String? { message }
}
