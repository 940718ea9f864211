import Foundation

/// Chunked file access shared by the readers and writers, so no tensor body is ever held whole.
enum TensorFileIO {
    /// 1 MiB: a multiple of every item size, so chunks never split an element.
    static let chunkSize = 1 << 20

    static func fileName(_ url: URL) -> String { url.lastPathComponent }

    static func openForReading(_ url: URL) throws -> FileHandle {
        do {
            return try FileHandle(forReadingFrom: url)
        } catch {
            throw TensorFormatError.cannotRead(file: fileName(url), reason: reason(error))
        }
    }

    static func fileSize(_ handle: FileHandle, url: URL) throws -> Int {
        do {
            let end = try handle.seekToEnd()
            try handle.seek(toOffset: 0)
            return Int(end)
        } catch {
            throw TensorFormatError.cannotRead(file: fileName(url), reason: reason(error))
        }
    }

    /// Reads up to `count` bytes starting at `offset`, looping because a single read may return
    /// fewer bytes than asked for; returns fewer only at end of file.
    static func read(_ handle: FileHandle, at offset: Int? = nil, count: Int, url: URL) throws -> Data {
        do {
            if let offset { try handle.seek(toOffset: UInt64(offset)) }
            var result = Data()
            while result.count < count {
                guard let piece = try handle.read(upToCount: count - result.count), !piece.isEmpty else { break }
                // Usually one read does it; taking that Data as is saves copying every chunk.
                if result.isEmpty { result = piece } else { result.append(piece) }
            }
            return result
        } catch {
            throw TensorFormatError.cannotRead(file: fileName(url), reason: reason(error))
        }
    }

    /// Calls `body` with consecutive chunks of `length` bytes starting at `offset`.
    /// A short file is an error: callers have already validated sizes, so it means the file changed.
    static func forEachChunk(
        _ handle: FileHandle, url: URL, offset: Int, length: Int, chunkSize: Int = chunkSize,
        _ body: (Data) throws -> Void
    ) throws {
        var remaining = length
        var position = offset
        while remaining > 0 {
            let want = min(chunkSize, remaining)
            let chunk = try read(handle, at: position, count: want, url: url)
            guard chunk.count == want else {
                throw TensorFormatError.cannotRead(
                    file: fileName(url), reason: "file ended early; was it modified while being read?")
            }
            try body(chunk)
            remaining -= want
            position += want
        }
    }

    /// Creates `url`'s parent-directory sibling temp file; the caller renames it into place so a
    /// failed write never leaves a half-written file under the final name.
    static func createTemporary(near url: URL) throws -> (URL, FileHandle) {
        let temp = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temp.path, contents: nil) else {
            throw TensorFormatError.cannotWrite(
                file: fileName(url), reason: "cannot create a file in \(url.deletingLastPathComponent().path)")
        }
        do {
            return (temp, try FileHandle(forWritingTo: temp))
        } catch {
            try? FileManager.default.removeItem(at: temp)
            throw TensorFormatError.cannotWrite(file: fileName(url), reason: reason(error))
        }
    }

    static func write(_ handle: FileHandle, _ data: Data, url: URL) throws {
        do {
            try handle.write(contentsOf: data)
        } catch {
            throw TensorFormatError.cannotWrite(file: fileName(url), reason: reason(error))
        }
    }

    /// Runs `body` against a temp file and moves it over `url` only if everything succeeded.
    static func writeAtomically(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let (temp, handle) = try createTemporary(near: url)
        do {
            try body(handle)
            try handle.close()
            if FileManager.default.fileExists(atPath: url.path) {
                _ = try FileManager.default.replaceItemAt(url, withItemAt: temp)
            } else {
                try FileManager.default.moveItem(at: temp, to: url)
            }
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temp)
            if error is TensorFormatError { throw error }
            throw TensorFormatError.cannotWrite(file: fileName(url), reason: reason(error))
        }
    }

    /// Foundation's messages differ between platforms and span sentences; name the common
    /// cases ourselves and keep only the first line of anything else, so ours stay one line.
    static func reason(_ error: Error) -> String {
        if let cocoa = error as? CocoaError {
            switch cocoa.code {
            case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file"
            case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
            case .fileWriteOutOfSpace: return "no space left on the device"
            default: break
            }
        }
        let text = (error as NSError).localizedDescription
        var line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "unknown error"
        while line.hasSuffix(".") { line.removeLast() }
        return line
    }

    /// Multiplies dimensions, returning nil on overflow instead of trapping.
    static func product(_ values: [Int]) -> Int? {
        var total = 1
        for value in values {
            let (result, overflow) = total.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            total = result
        }
        return total
    }
}
