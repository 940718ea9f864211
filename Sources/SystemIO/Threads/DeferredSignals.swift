import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Holds back SIGINT, SIGTERM and SIGHUP while a phase that must not stop half-way runs
/// (moving refs and bringing the work tree in line after them): a signal that arrives
/// meanwhile is remembered, and when the last holder is released the default action is
/// restored and the signal raised again, so the process ends as it would have, just later.
/// SIGKILL cannot be held back; the work-tree journal covers it.
public final class DeferredSignals: @unchecked Sendable {
    /// Signals held back while any holder is alive.
    static let deferred: [Int32] = [SIGINT, SIGTERM, SIGHUP]
    nonisolated(unsafe) private static var pending: Int32 = 0
    nonisolated(unsafe) private static var previous: [Int32: sigaction] = [:]
    private static let lock = NSLock()
    nonisolated(unsafe) private static var holders = 0

    /// Starts holding signals back (nested holders share one period).
    public init() {
        Self.lock.lock()
        defer { Self.lock.unlock() }
        Self.holders += 1
        guard Self.holders == 1 else { return }
        Self.pending = 0
        for signal in Self.deferred {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in
                // Only async-signal-safe work here: remember the first signal.
                if DeferredSignals.pending == 0 { DeferredSignals.pending = received }
            }
            sigemptyset(&action.sa_mask)
            var old = sigaction()
            sigaction(signal, &action, &old)
            Self.previous[signal] = old
        }
    }

    deinit {
        Self.lock.lock()
        Self.holders -= 1
        guard Self.holders == 0 else {
            Self.lock.unlock()
            return
        }
        for signal in Self.deferred {
            var old = Self.previous[signal] ?? sigaction()
            sigaction(signal, &old, nil)
        }
        let received = Self.pending
        Self.pending = 0
        Self.lock.unlock()
        if received != 0 { raise(received) }
    }

    /// The signal received while held back, if any (0: none).
    public static var received: Int32 { pending }
}

/// Named points where a test makes mv stop dead, as SIGKILL would: `MV_STOP_AT=<name>` in
/// the environment kills the process when it reaches that point. The crash tests use it to
/// stop mv between two steps deterministically (after the refs moved, before the work tree
/// followed, say) and check that the next mv recovers.
public enum CrashPoint {
    private static let target: String? = getenv("MV_STOP_AT").map { String(cString: $0) }

    public static func reached(_ name: @autoclosure () -> String) {
        guard let target, target == name() else { return }
        kill(getpid(), SIGKILL)
    }
}

/// Processes by id.
public enum Processes {
    /// Whether process `pid` exists (it may belong to another user).
    public static func isAlive(_ pid: Int32) -> Bool {
        guard pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    public static var current: Int32 { getpid() }
}
