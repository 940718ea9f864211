import CGit2
import CMbedTLSStandIns
import Foundation
import SystemIO

/// libgit2's global state, initialised once per process before the first repository opens.
enum Library {
    static let initialized: Bool = {
        // ~5 ms of parsing the system's CA bundle for HTTPS, which mv never uses (CMbedTLSStandIns).
        mv_skip_certificate_bundle(1)
        _ = git_libgit2_init()
        mv_skip_certificate_bundle(0)
        // Refuse to write objects that point at missing objects: a dangling tree entry would
        // otherwise only show up later in `git fsck`.
        _ = mv_git_set_strict_object_creation(1)
        // libgit2 re-hashes every object it reads with sha1dc (git itself only does so in
        // fsck): ~330 MB/s, most of the time of reading a big tensor back. mv checks every
        // tensor it reads against the manifest's SHA-256 instead.
        _ = mv_git_set_strict_hash_verification(0)
        // libgit2 maps packs in 1 GiB windows up to 8 GiB by default, and every page it reads
        // stays mapped, so re-hashing a 4 GiB tensor showed 4.2 GiB of RSS. Smaller windows
        // and a low mapped limit make it unmap what it has read.
        _ = mv_git_set_mwindow_size(32 << 20)
        _ = mv_git_set_mwindow_mapped_limit(128 << 20)
        // libgit2 reads each packed blob into a fresh malloc'd buffer. Above glibc's default
        // threshold each is a new mmap, i.e. pages zeroed and (on a VM) handed out by the
        // hypervisor on first touch: most of the time of reading a 4 GiB tensor back. Served
        // from the heap, the same memory is reused blob after blob (at most a few chunks).
        Heap.reuseLargeBlocks(mmapThreshold: 96 << 20, trimThreshold: 256 << 20)
        return true
    }()
}

/// libgit2's process-wide setup, which mv can start early.
public enum GitLibrary {
    /// Runs libgit2's one-time initialisation on another thread while the caller does other
    /// work (parsing arguments): ~1 ms, now that it skips the system's CA bundle (it took
    /// ~5 ms with it). The first repository opened waits for it to finish.
    public static func prepareInBackground() {
        setup.start()
        Thread.detachNewThread {
            _ = Library.initialized
            setup.finish()
        }
    }

    /// Waits for the setup started by `prepareInBackground`, if any. Call before the process
    /// exits: exiting while libgit2 initialises on the other thread runs exit's handlers under
    /// it and crashes (`mv --version` died with SIGSEGV in ~5% of runs).
    public static func waitForBackgroundSetup() {
        setup.wait()
    }

    private static let setup = SetupGate()
}

/// Whether the background setup was started, and whether it has finished.
private final class SetupGate: @unchecked Sendable {
    private let condition = NSCondition()
    private var started = false
    private var finished = false

    func start() {
        condition.lock()
        started = true
        condition.unlock()
    }

    func finish() {
        condition.lock()
        finished = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while started && !finished { condition.wait() }
        condition.unlock()
    }
}
