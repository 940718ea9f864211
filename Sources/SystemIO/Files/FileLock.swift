import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock (flock) on a file, held until the value is released. It serialises mv
/// processes around publishing a commit and syncing the work tree, and the kernel drops it
/// if a process dies, so a crash never leaves a stale lock behind.
public final class FileLock {
    private let file: OpenFile

    /// Waits until this process holds the lock on `path` (created when missing).
    public init(path: URL) throws {
        file = try OpenFile(path.path, flags: O_RDWR | O_CREAT)
        try SystemCall.run("flock", path: path.path) { flock(file.descriptor, LOCK_EX) }
    }

    deinit {
        _ = flock(file.descriptor, LOCK_UN)
    }
}
