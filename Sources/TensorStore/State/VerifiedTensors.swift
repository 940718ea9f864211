import Crypto
import Foundation
import Git
import ModelFormat
import SystemIO

/// Tensors whose SHA-256 mv computed from exactly these blobs, in this repository
/// (`.git/mv/verified-tensors`, one digest of SHA-256 and blob ids per line).
///
/// Why: `mv diff` reads only the chunks two versions do not share, so it cannot check the
/// whole tensor against the manifest; it takes that shortcut only for pairs of manifest
/// SHA-256 and blob list that mv has seen agree — written by `mv add`, or checked in full by
/// `mv verify` or an earlier diff. A chunk swapped into a commit by hand is a pair mv never
/// saw, so that tensor is read whole and fails its SHA-256 check.
struct VerifiedTensors {
    private let keys: Set<String>

    /// The pairs recorded in the repository.
    init(_ state: StateFiles) {
        keys = Set(AppendedLines.read(state.verifiedTensors).map(String.init).filter { $0.count == 64 })
    }

    func contains(sha256: String, blobs: [ObjectID]) -> Bool {
        keys.contains(Self.key(sha256: sha256, blobs: blobs))
    }

    /// Records pairs known to agree, appended in one write without reading the file (an
    /// `mv add` should not pay for the history), so concurrent commands' lines do not
    /// interleave. Past `limit` bytes the file keeps its newer half: an entry lost only
    /// costs a full read later. Best effort: a cache that cannot be written costs speed only.
    static func remember(_ pairs: [(sha256: String, blobs: [ObjectID])], state: StateFiles) {
        AppendedLines.append(Set(pairs.map { key(sha256: $0.sha256, blobs: $0.blobs) }).sorted(), to: state.verifiedTensors, limit: limit)
    }

    static let limit = 4 << 20

    static func key(sha256: String, blobs: [ObjectID]) -> String {
        var hasher = SHA256()
        hasher.update(data: Data((sha256 + ":" + blobs.map(\.description).joined(separator: ",")).utf8))
        return ContentHash.hex(hasher.finalize())
    }
}
