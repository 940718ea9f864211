import Foundation
import Git
import ModelFormat
import SystemIO

/// Exact comparison of a planned .npy's bytes with a file, through memory maps.
enum ByteComparison {
    static let window = 16 << 20

    /// True when `range` of the planned .npy equals the same range of `workFile`; nil when
    /// part of `workFile` is not in the page cache (then hashing the input is cheaper).
    static func equal(_ plan: TensorPlan, range: Range<Int>, workFile: URL) throws -> Bool? {
        guard let work = try? OpenFile(workFile.path), let size = try? work.size(), size == plan.size else { return false }
        // mv writes work-tree copies around the page cache: most are not in memory at all,
        // and reading even their header would be a disk read.
        let headResident = try plan.size == 0 || withMapping(work, offset: 0, count: 1) { PageCache.isResident($0, count: 1) }
        guard headResident else { return nil }
        var position = range.lowerBound
        if position < plan.prefix.count {
            let count = min(plan.prefix.count, range.upperBound) - position
            var head = [UInt8](repeating: 0, count: count)
            let read = try head.withUnsafeMutableBytes { raw in
                try raw.baseAddress.map { try work.readFully(into: $0, count: count, at: position) } ?? 0
            }
            guard read == count, head[...] == plan.prefix[position..<(position + count)] else { return false }
            position += count
        }
        guard position < range.upperBound else { return true }
        let source = try OpenFile(plan.source.path)
        while position < range.upperBound {
            let count = min(window, range.upperBound - position)
            let same = try withMapping(work, offset: position, count: count) { old -> Bool? in
                guard PageCache.isResident(old, count: count) else { return nil }
                return try withMapping(source, offset: plan.sourceOffset + position - plan.prefix.count, count: count) { new in
                    memcmp(old, new, count) == 0
                }
            }
            guard let same else { return nil }
            guard same else { return false }
            position += count
        }
        return true
    }

    /// Read-only files, opened together and closed with this value.
    final class OpenFiles: @unchecked Sendable {
        private let files: [String: OpenFile]

        init(_ paths: Set<String>) throws {
            var files: [String: OpenFile] = [:]
            for path in paths { files[path] = try OpenFile(path) }
            self.files = files
        }

        func file(_ path: String) -> OpenFile? { files[path] }
    }

    /// True when the planned .npy equals the stored blob's content (its first `end` bytes).
    static func equal(_ plan: TensorPlan, stored: StoredBlob, upTo end: Int? = nil) throws -> Bool {
        let files = try OpenFiles([plan.source.path])
        guard let source = files.file(plan.source.path) else { return false }
        return try equal(plan, stored: stored, upTo: end, source: source)
    }

    /// The same, with the plan's source file already open as `source`.
    static func equal(_ plan: TensorPlan, stored whole: StoredBlob, upTo end: Int? = nil, source: OpenFile) throws -> Bool {
        let end = min(end ?? plan.size, plan.size)
        let stored = whole.prefix(end)
        let prefixCount = plan.prefix.count
        let sourceCount = plan.size - prefixCount
        return try MappedRegion.reading(source, offset: plan.sourceOffset, count: max(sourceCount, 1)) { input -> Bool in
            var content = 0
            for segment in stored.segments {
                let old = stored.bytes(segment)
                guard let oldBase = old.baseAddress else { continue }
                var done = 0
                while done < old.count {
                    let count: Int
                    let same: Bool
                    if content < prefixCount {
                        count = min(old.count - done, prefixCount - content)
                        same = plan.prefix[content..<(content + count)].elementsEqual(
                            UnsafeRawBufferPointer(rebasing: old[done..<(done + count)]))
                    } else {
                        count = old.count - done
                        same = memcmp(oldBase + done, input + (content - prefixCount), count) == 0
                    }
                    guard same else { return false }
                    done += count
                    content += count
                }
            }
            return content == end
        }
    }

    /// Buffers for reading a stored blob and its input side by side, one pair per thread at a
    /// time, kept for the next tensor (fresh pages cost a fault and zeroing each).
    final class WindowPool: @unchecked Sendable {
        private let lock = NSLock()
        private var spare: [(stored: ReadWindow, input: ReadWindow)] = []

        func using<T>(_ body: ((stored: ReadWindow, input: ReadWindow)) throws -> T) rethrows -> T {
            lock.lock()
            let pair = spare.popLast() ?? (ReadWindow(capacity: ByteComparison.readWindow), ReadWindow(capacity: ByteComparison.readWindow))
            lock.unlock()
            defer {
                lock.lock()
                spare.append(pair)
                lock.unlock()
            }
            return try body(pair)
        }
    }

    /// Bytes read at a time from the pack and from the input: two such buffers stay in a
    /// core's 1-2 MiB cache while they are compared.
    static let readWindow = 256 << 10

    /// True when the planned .npy's first `end` bytes equal blob `id`'s, read from its stored
    /// blocks and the input with `pread`; nil when the blob is not stored that way or not all
    /// in memory (the caller then looks elsewhere).
    static func equal(
        _ plan: TensorPlan, storedBlob id: ObjectID, upTo end: Int, locator: StoredBlobLocator, source: OpenFile,
        windows: (stored: ReadWindow, input: ReadWindow)
    ) throws -> Bool? {
        let prefixCount = plan.prefix.count
        do {
            return try locator.readStored(id, size: plan.size, prefix: end, cachedOnly: true, window: windows.stored) { piece, offset in
                var piece = piece
                var content = offset
                if content < prefixCount {
                    let count = min(piece.count, prefixCount - content)
                    guard plan.prefix[content..<(content + count)].elementsEqual(UnsafeRawBufferPointer(rebasing: piece[..<count])) else {
                        return false
                    }
                    piece = UnsafeRawBufferPointer(rebasing: piece[count...])
                    content += count
                }
                guard let base = piece.baseAddress, !piece.isEmpty else { return true }
                guard
                    let input = try windows.input.bytes(
                        source, at: plan.sourceOffset + content - prefixCount, count: piece.count,
                        needed: end - content),
                    let inputBase = input.baseAddress
                else { return false }
                return memcmp(base, inputBase, piece.count) == 0
            }
        } catch is ReadWindow.Failure {
            return nil
        }
    }

    /// Whether the planned .npy (mv's header, then the input's bytes read through `window`)
    /// has fingerprint `expected`; nil when the input ends early or this CPU has no
    /// fingerprints.
    static func input(
        _ plan: TensorPlan, source: OpenFile, window: ReadWindow, hasFingerprint expected: String,
        key: FingerprintKey
    ) throws -> Bool? {
        guard let fingerprinter = TensorFingerprinter(key: key) else { return nil }
        fingerprinter.update(plan.prefix)
        var offset = plan.sourceOffset
        var remaining = plan.size - plan.prefix.count
        while remaining > 0 {
            let count = min(window.capacity, remaining)
            guard let bytes = try window.bytes(source, at: offset, count: count, needed: remaining) else { return nil }
            fingerprinter.update(bytes)
            offset += count
            remaining -= count
        }
        return fingerprinter.finalize() == expected
    }

    /// True when `bytes` equal `bytes.count` bytes of `file` at `offset`.
    static func equal(_ bytes: UnsafeRawBufferPointer, file: URL, offset: Int) throws -> Bool {
        guard let base = bytes.baseAddress else { return true }
        guard let opened = try? OpenFile(file.path), let size = try? opened.size(), size >= offset + bytes.count else { return false }
        // In windows: each worker maps at most `compareWindow` of the file at a time (whole
        // 32 MiB chunks on every worker added ~130 MiB of mapped file to the peak RSS).
        var done = 0
        while done < bytes.count {
            let count = min(compareWindow, bytes.count - done)
            guard try withMapping(opened, offset: offset + done, count: count, { memcmp($0, base + done, count) == 0 }) else {
                return false
            }
            done += count
        }
        return true
    }

    static let compareWindow = 4 << 20

    /// `body` with `count` bytes of `file` from `offset`, mapped for the call.
    static func withMapping<T>(_ file: OpenFile, offset: Int, count: Int, _ body: (UnsafeRawPointer) throws -> T) throws -> T {
        try MappedRegion.reading(file, offset: offset, count: count, body)
    }
}
