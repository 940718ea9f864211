import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Turns a fault on a memory-mapped file into a one-line error and exit status 1.
///
/// mv compares and hashes inputs through memory maps (cheaper than copying them). If another
/// program cuts such a file short meanwhile (a training job rewriting its checkpoint), the
/// next access to a page past the new end raises SIGBUS, which would kill mv with a bare
/// "Bus error". (git, which maps files to hash them too, simply dies.) While `guarding` runs,
/// the handler writes the caller's message to stderr and exits with status 1 instead; the
/// caller must only run code whose effects are safe to abandon that way (nothing committed).
public enum FaultGuard {
    /// The message the handler prints; set before the handler is installed and only read by
    /// it (a signal handler cannot capture context).
    nonisolated(unsafe) private static var message: StaticString = ""

    public static func guarding<T>(message: StaticString, _ body: () throws -> T) rethrows -> T {
        Self.message = message
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // Only async-signal-safe calls here.
            let text = FaultGuard.message
            _ = write(2, text.utf8Start, text.utf8CodeUnitCount)
            _exit(1)
        }
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(SIGBUS, &action, &previous)
        defer { sigaction(SIGBUS, &previous, nil) }
        return try body()
    }
}
