import Foundation

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

    /// `.git/mv/staging/<uuid>/`: files one command prepares (work-tree copies of new
    /// tensors, reports, manifests) before its commit; removed by that command.
    public var staging: URL { root.appendingPathComponent("staging", isDirectory: true) }

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

    /// A new, empty staging folder; the caller removes it.
    public func makeStagingFolder() throws -> URL {
        let url = staging.appendingPathComponent(UUID().uuidString, isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
