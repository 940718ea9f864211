import Foundation
import Git
import SystemIO

/// What mv last wrote to each assembled file (`.git/mv/assembled.json`): its stamp and the
/// chunks it was made of, so that mv can tell later — without reading it — whether the file
/// still holds those bytes, as git tells with its index.
public struct AssembledFiles {
    /// The JSON format of one file's entry; its keys are the format of assembled.json.
    struct Entry: Codable, Equatable {
        var size: Int64
        var inode: UInt64
        var modified: Int
        var modifiedNanoseconds: Int
        var changed: Int
        var changedNanoseconds: Int
        var chunks: [String]

        init(_ stamp: FileStamp, chunks: [ObjectID]) {
            size = stamp.size
            inode = stamp.inode
            modified = stamp.modifiedSeconds
            modifiedNanoseconds = stamp.modifiedNanoseconds
            changed = stamp.changedSeconds
            changedNanoseconds = stamp.changedNanoseconds
            self.chunks = chunks.map(\.description)
        }

        /// Whether `stamp` is the one recorded (the entry keeps no device, owner or group).
        func matches(_ stamp: FileStamp) -> Bool {
            size == stamp.size && inode == stamp.inode && modified == stamp.modifiedSeconds
                && modifiedNanoseconds == stamp.modifiedNanoseconds && changed == stamp.changedSeconds
                && changedNanoseconds == stamp.changedNanoseconds
        }
    }

    let url: URL
    private(set) var entries: [String: Entry]

    public init(_ state: StateFiles) {
        url = state.assembledFiles
        entries = (try? JSONDecoder().decode([String: Entry].self, from: Data(contentsOf: url))) ?? [:]
    }

    public func paths(under prefix: String) -> [String] {
        entries.keys.filter { $0.hasPrefix(prefix) }.sorted()
    }

    /// The chunks mv last assembled the file at `path` from (none when it has no record).
    public func chunks(of path: String) -> [ObjectID] {
        entries[path]?.chunks.compactMap { ObjectID(hex: $0) } ?? []
    }

    /// True when the file is still what mv assembled from exactly `chunks`.
    public func isIntact(_ path: String, workdir: URL, chunks: [ObjectID]) -> Bool {
        guard let entry = entries[path], entry.chunks == chunks.map(\.description),
            let now = FileStamp(path: workdir.appendingPathComponent(path).path)
        else { return false }
        return entry.matches(now)
    }

    /// Paths under `prefix` whose file was changed or removed since mv wrote it.
    public func changedFiles(under prefix: String, workdir: URL) -> [String] {
        paths(under: prefix).filter { path in
            guard let entry = entries[path] else { return false }
            return !isIntact(path, workdir: workdir, chunks: entry.chunks.compactMap { ObjectID(hex: $0) })
        }
    }

    public mutating func record(_ path: String, workdir: URL, chunks: [ObjectID]) throws {
        entries[path] = Entry(try FileStamp.of(workdir.appendingPathComponent(path).path), chunks: chunks)
    }

    public mutating func forget(_ path: String) {
        entries[path] = nil
    }

    public func save() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try encoder.encode(entries).writeUnsynced(to: url, atomically: true)
    }
}
