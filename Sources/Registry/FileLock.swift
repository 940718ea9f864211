import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// An advisory lock (flock) on a file in the git directory. It serialises mv processes
/// around publishing a commit and syncing the work tree, and the kernel drops it if a
/// process dies, so a crash never leaves a stale lock behind.
final class FileLock {
    private let descriptor: Int32

    init(path: URL) throws {
        let fd = open(path.path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw MVError("cannot open lock file '\(path.path)': \(String(cString: strerror(errno)))") }
        while flock(fd, LOCK_EX) != 0 {
            guard errno == EINTR else {
                close(fd)
                throw MVError("cannot lock '\(path.path)': \(String(cString: strerror(errno)))")
            }
        }
        descriptor = fd
    }

    deinit {
        _ = flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
