import Foundation
import Git
import ModelFormat
import SystemIO

/// What mv stored for input files it read before (`.git/mv/input-cache.json`), keyed by
/// path, position and size, valid while the file's stamp (size, inode, mtime, ctime) is
/// unchanged — git's own test for its index. A folder of .npy files in which a few changed
/// is then registered without reading the others at all.
struct InputCache {
    /// One input's entry. `stamp` is `[size, inode, device, mtime s, mtime ns, ctime s,
    /// ctime ns]`, the format of input-cache.json.
    struct Entry: Codable, Equatable {
        var stamp: [Int64]
        var sha256: String
        var statistics: [Double]
        var blobs: [String]
    }

    let url: URL
    private(set) var entries: [String: Entry]

    init(_ state: StateFiles) {
        url = state.inputCache
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))) ?? [:]
    }

    static func key(_ plan: TensorPlan) -> String {
        "\(plan.source.standardizedFileURL.path)|\(plan.sourceOffset)|\(plan.size)|\(plan.dtype.rawValue)|\(plan.chunkBytes ?? 0)"
    }

    /// The file's stamp as the cache keeps it; nil for a file modified in the last second,
    /// which a write in the same clock tick could change without changing its stamp.
    static func stamp(_ url: URL, now: Date = Date()) -> [Int64]? {
        guard let stamp = FileStamp(path: url.path), stamp.isSettled(at: now) else { return nil }
        return [
            stamp.size, Int64(bitPattern: stamp.inode), Int64(bitPattern: stamp.device), Int64(stamp.modifiedSeconds),
            Int64(stamp.modifiedNanoseconds), Int64(stamp.changedSeconds), Int64(stamp.changedNanoseconds),
        ]
    }

    func lookup(_ plan: TensorPlan, stamp: [Int64]?) -> Entry? {
        guard let stamp, let entry = entries[Self.key(plan)], entry.stamp == stamp else { return nil }
        return entry
    }

    mutating func remember(_ plan: TensorPlan, stamp: [Int64]?, record: Manifest.TensorRecord, blobs: [ObjectID]) {
        guard let stamp else { return }
        entries[Self.key(plan)] = Entry(
            stamp: stamp, sha256: record.sha256,
            statistics: [record.min, record.max, record.mean, record.std, record.l2Norm],
            blobs: blobs.map(\.description))
    }

    /// Keeps the cache to inputs that still exist, so it does not grow forever.
    func save() {
        let live = entries.filter { key, _ in
            FileManager.default.fileExists(atPath: String(key.prefix { $0 != "|" }))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try? encoder.encode(live).writeUnsynced(to: url, atomically: true)
    }
}
