import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Files mv replaces or removes, moved aside and deleted by a detached `rm`.
///
/// Why: deleting a big file is slow on ext4 (8 MiB: ~2.5 ms on the measured machine, freeing
/// and discarding its blocks), and replacing a file by rename deletes the old one inside the
/// rename. Moving the old file into a trash folder (mv's is `.git/mv/trash/`) first is a
/// cheap rename; the deletion then runs after mv has answered. Whatever a killed `rm` leaves
/// is deleted by the next one.
public struct Trash {
    private let root: URL
    private let batch: URL
    private var created = false

    /// A trash in `root`, which must be on the same file system as the files it takes.
    public init(root: URL) {
        self.root = root
        batch = root.appendingPathComponent(UUID().uuidString, isDirectory: true)
    }

    /// Moves `file` into the trash; false when it is absent or cannot be moved there (another
    /// file system), and the caller deletes it as usual.
    public mutating func take(_ file: URL) -> Bool {
        guard prepare() else { return false }
        return (try? FileSystem.rename(file, to: batch.appendingPathComponent(UUID().uuidString))) != nil
    }

    /// Before `file` is replaced by a rename: a big file gets a second name in the trash, so
    /// the rename stays atomic but no longer frees the old file's blocks itself.
    public mutating func holdBeforeReplacing(_ file: URL) {
        guard let stamp = FileStamp(path: file.path), stamp.size >= Self.bigFile, prepare() else { return }
        try? FileSystem.link(file, as: batch.appendingPathComponent(UUID().uuidString))
    }

    private static let bigFile = 1 << 20

    private mutating func prepare() -> Bool {
        if !created {
            created = (try? FileManager.default.createDirectory(at: batch, withIntermediateDirectories: true)) != nil
        }
        return created
    }

    /// Starts deleting the trash (this batch and any left behind) without waiting for it.
    public func empty() {
        guard created else { return }
        Self.reapFinished()
        var pid = pid_t()
        let arguments = ["rm", "-rf", "--", root.path]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        if posix_spawn(&pid, "/bin/rm", nil, nil, &argv, environ) == 0 {
            Self.children.add(pid)
        } else {
            try? FileManager.default.removeItem(at: batch)
        }
    }

    /// `rm` processes started by this process, collected once done so that a long-running
    /// process (the test suite) does not keep zombies.
    private static let children = Children()

    private static func reapFinished() { children.reap() }

    private final class Children: @unchecked Sendable {
        private let lock = NSLock()
        private var pids: [pid_t] = []

        func add(_ pid: pid_t) {
            lock.lock()
            pids.append(pid)
            lock.unlock()
        }

        func reap() {
            lock.lock()
            pids.removeAll { pid in
                var status: Int32 = 0
                return waitpid(pid, &status, WNOHANG) != 0
            }
            lock.unlock()
        }
    }
}

extension Trash {
    /// Puts a new file at `destination` in one step: `fill` writes it under a temporary name
    /// beside it (same folder, so the same file system), which is then renamed over whatever
    /// is there — a big old file first getting a name in the trash. When `fill` or the rename
    /// fails, the temporary file is removed and `destination` is as it was.
    public mutating func replace(_ destination: URL, fill: (URL) throws -> Void) throws {
        let folder = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent(".mv-tmp-\(UUID().uuidString)")
        do {
            try fill(temporary)
            holdBeforeReplacing(destination)
            try FileSystem.rename(temporary, to: destination)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
    }
}
