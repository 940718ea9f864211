import CGit2
import Foundation

/// Blob ids of files computed on background threads while the caller writes the same files
/// into a pack.
///
/// Ids come from `git_odb_hashfile`, i.e. libgit2's SHA-1 with collision detection (sha1dc),
/// as `git hash-object` computes them: the id is a security boundary, so no faster plain
/// SHA-1 here. libgit2 1.5 has no public streaming hash, but `git_odb_hashfile` streams the
/// file through a 64 KiB buffer (`git_odb__hashfd`), so hashing a 4 GiB tensor costs no
/// memory — unlike `git_odb_hash` over a whole-file mapping, whose touched pages would all
/// count in the process's RSS. It takes no repository handle, so it is safe off the thread
/// that owns the repository; its error message is read on the same worker thread.
final class BlobHashQueue: @unchecked Sendable {
    enum Outcome: Sendable {
        case id(ObjectID)
        case failed(String)
    }

    private let paths: [String]
    private let condition = NSCondition()
    // Guarded by `condition`.
    private var outcomes: [Outcome?]
    private var next = 0
    private var cancelled = false

    /// Starts `workers` threads taking files in order.
    init(paths: [String], workers: Int) {
        self.paths = paths
        outcomes = Array(repeating: nil, count: paths.count)
        for number in 0..<max(1, min(workers, paths.count)) {
            let thread = Thread { [self] in run() }
            thread.name = "mv.blob-hash.\(number)"
            thread.start()
        }
    }

    /// The id of file `index` once hashed; nil while it is not (without `wait`).
    func outcome(_ index: Int, wait: Bool) -> Outcome? {
        condition.lock()
        defer { condition.unlock() }
        while wait && outcomes[index] == nil { condition.wait() }
        return outcomes[index]
    }

    /// Workers stop after the file they are hashing; the caller does not wait for them.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.unlock()
    }

    private func run() {
        while true {
            condition.lock()
            guard !cancelled, next < paths.count else {
                condition.unlock()
                return
            }
            let index = next
            next += 1
            condition.unlock()

            var oid = git_oid()
            let outcome: Outcome
            if git_odb_hashfile(&oid, paths[index], GIT_OBJECT_BLOB) == 0 {
                outcome = .id(ObjectID(oid))
            } else {
                let message = lastErrorMessage()
                outcome = .failed("cannot hash '\(paths[index])'" + (message.isEmpty ? "" : ": \(message)"))
            }
            condition.lock()
            outcomes[index] = outcome
            condition.broadcast()
            condition.unlock()
        }
    }
}

extension BlobHashQueue.Outcome {
    func get() throws -> ObjectID {
        switch self {
        case .id(let id): return id
        case .failed(let message): throw GitError(code: .other(-1), message: "", context: message)
        }
    }
}
