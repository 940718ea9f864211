import Foundation
import Git
import ModelFormat
import SystemIO

/// Keyed fingerprints of the tensor and chunk blobs mv stored in this repository
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
    static func load(_ state: StateFiles) -> TensorFingerprints? {
        guard TensorFingerprinter.isFast, let key = key(state) else { return nil }
        var known: [ObjectID: String] = [:]
        for line in AppendedLines.read(state.fingerprints) {
            let fields = line.split(separator: " ")
            guard fields.count == 2, fields[1].count == 32, let id = ObjectID(hex: String(fields[0])) else { continue }
            known[id] = String(fields[1])
        }
        return TensorFingerprints(key: key, known: known)
    }

    func fingerprint(of blob: ObjectID) -> String? { known[blob] }

    /// Records fingerprints computed under `key` (dropped if the repository's key changed
    /// meanwhile, which only a deleted key file can cause).
    static func remember(_ entries: [(blob: ObjectID, fingerprint: String)], key: FingerprintKey, state: StateFiles) {
        guard !entries.isEmpty, Self.key(state, create: false) == key else { return }
        AppendedLines.append(entries.map { "\($0.blob) \($0.fingerprint)" }, to: state.fingerprints, limit: limit)
    }

    static let limit = 4 << 20

    /// The key on disk; a new one (readable by the owner only) when there is none, created
    /// whole or not at all: linked into place, so two commands starting together agree.
    static func key(_ state: StateFiles, create: Bool = true) -> FingerprintKey? {
        let url = state.fingerprintKey
        if let data = FileManager.default.contents(atPath: url.path) { return FingerprintKey(bytes: Array(data)) }
        guard create else { return nil }
        let folder = url.deletingLastPathComponent()
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let temporary = folder.appendingPathComponent("fingerprint-key.\(UUID().uuidString).tmp")
        defer { FileSystem.remove(temporary) }
        let key = FingerprintKey.random()
        do {
            let file = try OpenFile(temporary.path, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o600)
            try key.bytes.withUnsafeBytes { try file.write($0) }
            try file.close()
        } catch {
            return nil
        }
        do {
            try FileSystem.link(temporary, as: url)
            // Fingerprints left from an earlier key mean nothing under this one.
            FileSystem.remove(state.fingerprints)
            return key
        } catch let error as SystemError where error.code == EEXIST {
            guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
            return FingerprintKey(bytes: Array(data))
        } catch {
            return nil
        }
    }
}
