import Foundation

/// A started child process, waited for by its termination handler. Foundation's
/// `Process.waitUntilExit` on Linux polls its run loop every 50 ms, so each git that a
/// command ran cost at least 50 ms (`mv push` runs a dozen: 0.6 s); the handler wakes the
/// waiter as the child exits (under 1 ms).
public final class ChildExit: Sendable {
    private let exited = DispatchSemaphore(value: 0)

    /// Starts `process`, whose termination handler this takes.
    public init(starting process: Process) throws {
        process.terminationHandler = { [exited] _ in exited.signal() }
        try process.run()
    }

    /// Waits for the child to exit; its status is then read from the process.
    public func wait() {
        exited.wait()
        // Any later wait returns at once too.
        exited.signal()
    }

    /// Waits at most `seconds`; false when the child is still running.
    public func wait(atMost seconds: Double) -> Bool {
        guard exited.wait(timeout: .now() + seconds) == .success else { return false }
        exited.signal()
        return true
    }
}

extension Process {
    /// The exit status, or 128 + the signal's number when a signal ended it, as a shell
    /// reports it. Only once it has exited.
    public var shellStatus: Int32 {
        terminationReason == .uncaughtSignal ? 128 + terminationStatus : terminationStatus
    }
}
