import Foundation
import Git
import ModelFormat
import SystemIO

/// Keeps the work-tree `.npy` files of chunked tensors in line with what was committed: each
/// is kept when still intact, patched in place when only some chunks changed, or written
/// whole (from mv's staging copy, else from the chunks), and recorded in `AssembledFiles`.
public struct WorkTreeAssembly {
    public private(set) var record: AssembledFiles
    private let workdir: URL
    private let reader: any TensorReader

    public init(_ state: StateFiles, workdir: URL, reader: any TensorReader) {
        record = AssembledFiles(state)
        self.workdir = workdir
        self.reader = reader
    }

    /// Moves to `trash` the assembled files under `folders` that `keeping` does not list.
    /// Run before the folders' other files are written: a tensor no longer chunked has a
    /// committed file at the same path.
    public mutating func removeStale(under folders: [String], keeping: Set<String>, trash: inout Trash) {
        for folder in folders {
            for stale in record.paths(under: folder + "/") where !keeping.contains(stale) {
                let file = workdir.appendingPathComponent(stale)
                if !trash.take(file) { try? FileManager.default.removeItem(at: file) }
                record.forget(stale)
            }
        }
    }

    /// Writes, patches or keeps each file, then saves the record.
    public mutating func place(_ files: [AssembledFile], trash: inout Trash) throws {
        for file in files {
            let destination = workdir.appendingPathComponent(file.path)
            if file.source == nil, record.isIntact(file.path, workdir: workdir, chunks: file.chunks) { continue }
            if let base = file.base, record.isIntact(file.path, workdir: workdir, chunks: base) {
                try Self.patch(destination, with: file.patches)
                try record.record(file.path, workdir: workdir, chunks: file.chunks)
                CrashPoint.reached("assembled")
                continue
            }
            try trash.replace(destination) { temporary in
                if let source = file.source, (try? FileSystem.rename(source, to: temporary)) != nil {
                    // Moved from staging.
                } else {
                    try reader.write(file.chunks, to: temporary, checked: false)
                }
            }
            try record.record(file.path, workdir: workdir, chunks: file.chunks)
            CrashPoint.reached("assembled")
        }
        try record.save()
    }

    /// What an assembled file holds when its stamp no longer tells (after a kill: patched
    /// half-way, or written whole before the record was saved), judged chunk by chunk.
    public enum Content: Equatable {
        /// Exactly the new chunks.
        case new
        /// Each chunk either the new one or the old one at the same place: an interrupted patch.
        case partlyUpdated
        /// Anything else: someone else's bytes.
        case other
    }

    /// Reads `file` and hashes it chunk by chunk against `new` (and `old`, the chunks it
    /// held before an update). Costs a read of the file: for recovery, not for every command.
    public static func content(of file: URL, new: [ObjectID], old: [ObjectID], lfs: LFSObjects) throws -> Content {
        let sizes = try new.map { try lfs.size($0) }
        let opened = try OpenFile(file.path)
        defer { try? opened.close() }
        guard try opened.size() == sizes.reduce(0, +) else { return .other }
        var offset = 0
        var allNew = true
        for (index, chunk) in new.enumerated() where sizes[index] > 0 {
            let count = sizes[index]
            let (isNew, isOld) = try MappedRegion.reading(opened, offset: offset, count: count) { start in
                let bytes = UnsafeRawBufferPointer(start: start, count: count)
                // A chunk kept as an LFS object is named by its SHA-256, a blob by its id: each
                // hash is computed only when a chunk named that way asks for it.
                var blob: ObjectID?
                var sha256: String?
                func holds(_ id: ObjectID) throws -> Bool {
                    if let pointer = try lfs.pointer(id) {
                        sha256 = sha256 ?? ContentHash.sha256(bytes: bytes)
                        return pointer.oid == sha256
                    }
                    blob = try blob ?? ObjectDatabase.hashBlob(bytes)
                    return id == blob
                }
                return (try holds(chunk), try index < old.count && holds(old[index]))
            }
            if !isNew {
                guard isOld else { return .other }
                allNew = false
            }
            offset += count
        }
        return allNew ? .new : .partlyUpdated
    }

    /// Writes each patch's bytes over `file` at its offset, in place. Readers of the file
    /// meanwhile may see old and new chunks mixed (the price of not rewriting gigabytes); a
    /// crash half-way leaves a file mv no longer finds intact, which the next `mv init` or
    /// checkout assembles again from the committed chunks.
    static func patch(_ file: URL, with patches: [AssembledFile.Patch]) throws {
        guard !patches.isEmpty else { return }
        let target = try OpenFile(file.path, flags: O_WRONLY)
        for patch in patches {
            let source = try OpenFile(patch.source.path)
            let count = try source.size()
            guard count > 0 else { continue }
            try MappedRegion.reading(source, offset: 0, count: count) { bytes in
                try target.writeInPieces(UnsafeRawBufferPointer(start: bytes, count: count), at: patch.offset)
            }
        }
        try target.close()
    }
}
