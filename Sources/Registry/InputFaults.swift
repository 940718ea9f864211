import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Turns a fault on a memory-mapped file into mv's usual one-line error.
///
/// mv compares and hashes inputs through memory maps (cheaper than copying them). If another
/// program cuts such a file short meanwhile (a training job rewriting its checkpoint), the
/// next access to a page past the new end raises SIGBUS, which would kill mv with a bare
/// "Bus error". While weights are being stored nothing is committed yet — refs move only
/// after every input was read and found unchanged — so the handler says so and exits with
/// status 1. (git, which maps files to hash them too, simply dies.) What is left behind is
/// a staging folder under `.git/mv/` and a `tmp_pack_*` file, which Git ignores.
enum InputFaults {
    static func guarding<T>(_ body: () throws -> T) rethrows -> T {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            // Only async-signal-safe calls here.
            let message: StaticString = """
                mv: error: a file mv was reading was cut short by another program; nothing was committed
                hint: wait for whatever writes it to finish, then run the command again

                """
            _ = write(2, message.utf8Start, message.utf8CodeUnitCount)
            _exit(1)
        }
        sigemptyset(&action.sa_mask)
        var previous = sigaction()
        sigaction(SIGBUS, &action, &previous)
        defer { sigaction(SIGBUS, &previous, nil) }
        return try body()
    }
}
