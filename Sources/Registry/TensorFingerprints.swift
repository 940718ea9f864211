import Foundation
import Git
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// Keyed fingerprints of the whole-tensor blobs mv stored in this repository
/// (`.git/mv/fingerprints`, "<blob id> <fingerprint>" per line), under a random key of this
/// clone's own (`.git/mv/fingerprint-key`). Both are local caches: never pushed, safe to
/// delete (a new key discards the old fingerprints).
///
/// Why: `mv add` finds a new version's unchanged tensors by reading only the new file, where
/// comparing bytes read the stored blob too and needed its pack in memory. A fingerprint is
/// recorded from the very bytes whose blob id and SHA-256 mv computed, so a match stands for
/// those bytes (see `TensorFingerprinter` for the odds of a false one).
struct TensorFingerprints: Sendable {
    let key: FingerprintKey
    private let known: [ObjectID: String]

    /// The repository's key and fingerprints, the key created when missing; nil where this
    /// CPU computes fingerprints more slowly than comparing bytes, or no key can be kept.
    static func load(gitDirectory: URL) -> TensorFingerprints? {
        guard TensorFingerprinter.isFast, let key = key(gitDirectory: gitDirectory) else { return nil }
        var known: [ObjectID: String] = [:]
        for line in AppendedLines.read(file(in: gitDirectory)) {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[1].count == 32, let id = ObjectID(hex: String(fields[0])) else { continue }
            known[id] = String(fields[1])
        }
        return TensorFingerprints(key: key, known: known)
    }

    func fingerprint(of blob: ObjectID) -> String? { known[blob] }

    /// Records fingerprints computed under `key` (dropped if the repository's key changed
    /// meanwhile, which only a deleted key file can cause).
    static func remember(_ entries: [(blob: ObjectID, fingerprint: String)], key: FingerprintKey, gitDirectory: URL) {
        guard !entries.isEmpty, Self.key(gitDirectory: gitDirectory, create: false) == key else { return }
        AppendedLines.append(entries.map { "\($0.blob) \($0.fingerprint)" }, to: file(in: gitDirectory), limit: limit)
    }

    static let limit = 4 << 20

    static func file(in gitDirectory: URL) -> URL { gitDirectory.appendingPathComponent("mv/fingerprints") }
    static func keyFile(in gitDirectory: URL) -> URL { gitDirectory.appendingPathComponent("mv/fingerprint-key") }

    /// The key on disk; a new one (readable by the owner only) when there is none, created
    /// whole or not at all: linked into place, so two commands starting together agree.
    static func key(gitDirectory: URL, create: Bool = true) -> FingerprintKey? {
        let url = keyFile(in: gitDirectory)
        if let data = FileManager.default.contents(atPath: url.path) { return FingerprintKey(bytes: Array(data)) }
        guard create else { return nil }
        let folder = url.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent("fingerprint-key.\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return nil }
        defer { unlink(temporary.path) }
        let key = FingerprintKey.random()
        let written = key.bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == FingerprintKey.byteCount else { return nil }
        if link(temporary.path, url.path) == 0 {
            // Fingerprints left from an earlier key mean nothing under this one.
            unlink(file(in: gitDirectory).path)
            return key
        }
        guard errno == EEXIST, let data = FileManager.default.contents(atPath: url.path) else { return nil }
        return FingerprintKey(bytes: Array(data))
    }
}
