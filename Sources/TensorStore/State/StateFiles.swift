import Foundation
import SystemIO

/// Every file mv keeps in a repository's git directory besides Git's own, and what each
/// holds. All of them belong to this clone alone: none is committed or pushed, and losing
/// any costs at most speed (a cache is rebuilt by the next command that needs it) — except
/// `writerLock`, which the kernel releases when its holder dies anyway.
public struct StateFiles: Sendable {
    /// The repository's git directory (`.git`, or a bare repository's folder).
    public let gitDirectory: URL

    public init(gitDirectory: URL) {
        self.gitDirectory = gitDirectory
    }

    /// `.git/mv.lock`: empty; mv processes hold an advisory `flock` on it while they publish
    /// a commit and update the work tree (`FileLock`).
    public var writerLock: URL { gitDirectory.appendingPathComponent("mv.lock") }

    /// `.git/mv/`: the folder of everything below.
    public var root: URL { gitDirectory.appendingPathComponent("mv", isDirectory: true) }

    /// `.git/mv/staging/<pid>-<uuid>/`: files one command prepares (work-tree copies of new
    /// tensors, reports, manifests) before its commit; removed by that command, or by the next
    /// mv once process `pid` is gone.
    public var staging: URL { root.appendingPathComponent("staging", isDirectory: true) }

    /// `.git/mv/journal`: JSON, the work-tree update of a commit mv published (the commit, its
    /// branch, each file with the blob it gets and the blob it had), written before the
    /// refs move and removed once the work tree and index match; the next mv that finds it
    /// finishes the update.
    public var journal: URL { root.appendingPathComponent("journal") }

    /// `.git/mv/pending-packs/<pid>-pack-<checksum>`: empty files, one per pack process
    /// `pid` installed for a version it has not published yet (`PendingPacks`).
    public var pendingPacks: URL { root.appendingPathComponent("pending-packs", isDirectory: true) }

    /// `.git/mv/index-lock-owner`: the process id of the mv that is writing the index; with
    /// `.git/index.lock` present and that process gone, the lock is mv's own, left by a kill.
    public var indexLockOwner: URL { root.appendingPathComponent("index-lock-owner") }

    /// `.git/mv/recovered`: one line per interrupted update mv finished or leftover it
    /// removed (`<date> <what>`), newest last, cut to its newer half past 64 KiB; `mv status`
    /// shows it.
    public var recoveryLog: URL { root.appendingPathComponent("recovered") }

    /// `.git/mv/trash/<uuid>/`: replaced work-tree files awaiting deletion by a detached
    /// `rm` (`Trash`).
    public var trash: URL { root.appendingPathComponent("trash", isDirectory: true) }

    /// `.git/mv/input-cache.json`: what mv stored for the input files it read, keyed by
    /// path, offset, size, dtype and chunk size, valid while the file's stamp is unchanged
    /// (`InputCache`).
    public var inputCache: URL { root.appendingPathComponent("input-cache.json") }

    /// `.git/mv/fingerprints`: `<blob id> <fingerprint>` per line for the tensors and chunks
    /// mv stored, cut to its newer half past 4 MiB (`TensorFingerprints`).
    public var fingerprints: URL { root.appendingPathComponent("fingerprints") }

    /// `.git/mv/fingerprint-key`: the 32 random bytes the fingerprints are keyed with, mode
    /// 0600 (`TensorFingerprints`).
    public var fingerprintKey: URL { root.appendingPathComponent("fingerprint-key") }

    /// `.git/mv/verified-tensors`: one SHA-256 per line of a manifest digest and the blob
    /// ids mv saw it agree with, cut to its newer half past 4 MiB (`VerifiedTensors`).
    public var verifiedTensors: URL { root.appendingPathComponent("verified-tensors") }

    /// `.git/mv/assembled.json`: for each work-tree file mv assembled from chunks, its stamp
    /// and the chunk blob ids it holds (`AssembledFiles`).
    public var assembledFiles: URL { root.appendingPathComponent("assembled.json") }

    /// A temporary file in `.git/mv/` for a hook's input (`index-<uuid>` for GIT_INDEX_FILE,
    /// `COMMIT_EDITMSG-<uuid>` for commit-msg); removed after the hook.
    public func hookScratch(_ name: String) -> URL {
        root.appendingPathComponent("\(name)-\(UUID().uuidString)")
    }

    /// A new, empty staging folder of this process; the caller removes it.
    public func makeStagingFolder() throws -> URL {
        let url = staging.appendingPathComponent("\(Processes.current)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Removes the staging folders of processes that are gone (and unnamed ones an older mv
    /// left); returns the bytes freed.
    public func removeAbandonedStaging() -> Int64 {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: staging.path)) ?? []
        var freed: Int64 = 0
        for name in names {
            if let pid = Int32(name.prefix { $0 != "-" }), Processes.isAlive(pid) { continue }
            let folder = staging.appendingPathComponent(name)
            freed += Self.size(of: folder)
            try? FileManager.default.removeItem(at: folder)
        }
        return freed
    }

    /// Bytes of the regular files below `folder`.
    static func size(of folder: URL) -> Int64 {
        guard let walker = FileManager.default.enumerator(atPath: folder.path) else { return 0 }
        var total: Int64 = 0
        for case let name as String in walker {
            total += FileStamp(path: folder.appendingPathComponent(name).path)?.size ?? 0
        }
        return total
    }
}
