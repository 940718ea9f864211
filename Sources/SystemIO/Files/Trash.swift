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
        // The process id says whose batch it is: `empty` leaves a running process's batch alone.
        batch = root.appendingPathComponent("\(getpid())-\(UUID().uuidString)", isDirectory: true)
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

    /// Starts deleting this batch, and any batch left behind by a process that is gone,
    /// without waiting for it and without a word on the terminal.
    public func empty() {
        guard created else { return }
        if !Self.remove([batch] + abandoned(), emptying: root) { try? FileManager.default.removeItem(at: batch) }
    }

    /// Starts deleting the batches of processes that are gone (killed before their `rm`).
    public func removeAbandoned() {
        let batches = abandoned()
        if !batches.isEmpty { _ = Self.remove(batches, emptying: root) }
    }

    /// Batches of processes that are gone, and batches without an owner's id (an older mv's).
    private func abandoned() -> [URL] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { name in
            guard name != batch.lastPathComponent else { return false }
            if let pid = Int32(name.prefix { $0 != "-" }), Processes.isAlive(pid) { return false }
            return true
        }.map { root.appendingPathComponent($0) }
    }

    /// A detached `rm -rf` of `folders`, then `rmdir` of the trash folder (which fails,
    /// silently, while another command's batch is in it); output discarded. False when it
    /// cannot start.
    private static func remove(_ folders: [URL], emptying root: URL) -> Bool {
        reapFinished()
        var pid = pid_t()
        let script = #"rm -rf -- "$@"; exec rmdir -- "$0""#
        var argv = (["sh", "-c", script, root.path] + folders.map(\.path)).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        guard posix_spawn(&pid, "/bin/sh", &actions, nil, &argv, environ) == 0 else { return false }
        children.add(pid)
        return true
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
