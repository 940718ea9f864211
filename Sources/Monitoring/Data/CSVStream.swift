import Foundation
import Learning
import Registry
import SystemIO

/// Reads a CSV file record by record in fixed-size blocks, so a file of any size streams
/// through in constant memory. Same dialect as `mv train` reads (RFC 4180, a header line,
/// UTF-8, CRLF or LF); the fields of each record are handed over as byte ranges of a buffer
/// valid during the call.
struct CSVStream {
    let url: URL
    let source: String
    /// A part of the file (for reading parts in parallel): from `range.lowerBound`, which
    /// starts a record, to the first record boundary at or past `range.upperBound`, with the
    /// header given (read from the file's start).
    var range: Range<Int>?
    var knownHeader: [String]?
    static let blockSize = 1 << 22
    /// The bytes that end a plain run: NUL, LF, CR, quote, comma.
    static let special: [Bool] = (0..<256).map { [0, 10, 13, 34, 44].contains($0) }
    static let longestRecord = 64 << 20

    init(_ url: URL) {
        self.url = url
        source = url.lastPathComponent
    }

    /// One record: its unescaped bytes and where each field starts and ends in them.
    struct Record {
        var bytes: [UInt8] = []
        var ends: [Int] = []
        var line = 1

        var count: Int { ends.count }

        func withField<T>(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
            let start = index == 0 ? 0 : ends[index - 1]
            return try bytes.withUnsafeBufferPointer { buffer in
                try body(UnsafeBufferPointer(rebasing: buffer[start..<ends[index]]))
            }
        }

        func string(_ index: Int) -> String {
            withField(index) { String(decoding: $0, as: UTF8.self) }
        }
    }

    /// Calls `header` with the header's names, then `row` for every data record; returns the
    /// number of data records.
    @discardableResult
    func read(header: ([String]) throws -> Void, row: (Record) throws -> Void) throws -> Int {
        let file: OpenFile
        do { file = try OpenFile(url.path) } catch { throw MVError("cannot read data file '\(url.path)': \(error)") }
        defer { try? file.close() }
        var offset = range?.lowerBound ?? 0
        let limit = range?.upperBound ?? Int.max
        var block = [UInt8](repeating: 0, count: Self.blockSize)
        var record = Record()
        var inQuotes = false
        var quoteJustClosed = false
        var line = 1
        var started = false
        var fieldStart = 0
        var headerNames: [String]? = knownHeader
        var rows = 0
        var first = offset == 0
        var previousCR = false

        func finishRecord() throws {
            record.ends.append(record.bytes.count)
            defer {
                record.bytes.removeAll(keepingCapacity: true)
                record.ends.removeAll(keepingCapacity: true)
                started = false
                quoteJustClosed = false
                fieldStart = 0
            }
            // A blank line is how editors end files, not a record.
            if record.ends.count == 1 && record.bytes.isEmpty { return }
            if let headerNames {
                guard record.ends.count == headerNames.count else {
                    throw MVError(
                        "\(source) line \(record.line): \(record.ends.count) fields, but the header has \(headerNames.count)",
                        hint: "every row needs one value per column (quote values that contain commas)")
                }
                try row(record)
                rows += 1
            } else {
                let names = (0..<record.count).map { record.string($0).trimmingCharacters(in: .whitespaces) }
                var seen = Set<String>()
                for name in names {
                    guard !name.isEmpty else { throw MVError("\(source) line 1: a column has no name", hint: "name every column") }
                    guard seen.insert(name).inserted else {
                        throw MVError("\(source) line 1: column '\(name)' appears twice", hint: "give every column its own name")
                    }
                }
                headerNames = names
                try header(names)
            }
        }

        while true {
            let got: Int
            do { got = try Self.read(file, into: &block, at: offset) } catch {
                throw MVError("cannot read data file '\(url.path)': \(error)")
            }
            if got == 0 { break }
            // A part ends at the first record boundary past its limit (it started on one).
            if offset >= limit, !started, !inQuotes { break }
            offset += got
            var start = 0
            if first {
                first = false
                if got >= 3, block[0] == 0xEF, block[1] == 0xBB, block[2] == 0xBF { start = 3 }
            }
            var index = start
            while index < got {
                let byte = block[index]
                if byte == 0 {
                    throw MVError("\(source) line \(line): a NUL byte; this is not a text CSV file", hint: "pass a CSV file")
                }
                if !started {
                    if previousCR && byte == 10 {
                        previousCR = false
                        index += 1
                        continue
                    }
                    // A record starting past the part's end is the next part's.
                    if offset - got + index >= limit { return rows }
                    started = true
                    record.line = line
                }
                previousCR = false
                if inQuotes {
                    if byte == 34 {
                        inQuotes = false
                        quoteJustClosed = true
                    } else {
                        if byte == 10 { line += 1 }
                        record.bytes.append(byte)
                    }
                    index += 1
                    continue
                }
                switch byte {
                case 34:
                    if quoteJustClosed {
                        // "" inside a quoted field is one quote.
                        record.bytes.append(34)
                        inQuotes = true
                        quoteJustClosed = false
                    } else if record.bytes.count == fieldStart {
                        inQuotes = true
                    } else {
                        throw MVError(
                            "\(source) line \(line): a quote inside an unquoted field",
                            hint: "quote the whole field and double inner quotes")
                    }
                    index += 1
                case 44:
                    record.ends.append(record.bytes.count)
                    fieldStart = record.bytes.count
                    quoteJustClosed = false
                    index += 1
                case 10, 13:
                    try finishRecord()
                    line += 1
                    previousCR = byte == 13
                    index += 1
                default:
                    if quoteJustClosed {
                        throw MVError("\(source) line \(line): text after a closing quote", hint: "quote the whole field")
                    }
                    // The rest of a plain field in one copy: most bytes of a CSV are here.
                    var end = index + 1
                    while end < got, !Self.special[Int(block[end])] { end += 1 }
                    record.bytes.append(contentsOf: block[index..<end])
                    index = end
                }
                if record.bytes.count > Self.longestRecord {
                    throw MVError(
                        "\(source) line \(record.line): a record longer than 64 MiB; this is not a CSV file mv can read",
                        hint: "pass a CSV file with one record per line")
                }
            }
        }
        if inQuotes { throw MVError("\(source) line \(record.line): a quoted field is never closed", hint: "close the quote") }
        if started { try finishRecord() }
        guard range == nil else { return rows }
        guard headerNames != nil else { throw MVError("'\(source)' is empty", hint: "pass a CSV file with a header line and rows") }
        guard rows > 0 else { throw MVError("'\(source)' has a header but no rows", hint: "pass a CSV file with data rows") }
        return rows
    }
}

extension CSVStream {
    /// Where to cut the file into `parts` parts that start records, or nil when it cannot be
    /// cut safely (a quote anywhere: a quoted field may hold a newline) or is too small to
    /// be worth it. Each cut is just after a newline.
    static func cuts(_ url: URL, parts: Int, smallest: Int = 4 << 20) -> [Int]? {
        guard parts > 1, let file = try? OpenFile(url.path) else { return nil }
        defer { try? file.close() }
        guard let size = try? file.size(), size >= smallest else { return nil }
        var block = [UInt8](repeating: 0, count: blockSize)
        var offset = 0
        while true {
            guard let got = try? read(file, into: &block, at: offset) else { return nil }
            if got == 0 { break }
            let quoted = block.withUnsafeBytes { buffer in buffer.baseAddress.map { memchr($0, 34, got) != nil } ?? false }
            if quoted { return nil }
            offset += got
        }
        var cuts: [Int] = []
        for part in 1..<parts {
            var at = size / parts * part
            guard let got = try? read(file, into: &block, at: at), got > 0 else { return nil }
            guard let newline = block[0..<got].firstIndex(of: 10) else { return nil }
            at += newline + 1
            if let last = cuts.last, at <= last { return nil }
            cuts.append(at)
        }
        return cuts
    }

    /// The header names alone.
    func readHeader() throws -> [String] {
        var names: [String] = []
        do {
            try read(
                header: {
                    names = $0
                    throw StopReading()
                }, row: { _ in })
        } catch is StopReading {}
        return names
    }

    struct StopReading: Error {}

    /// Reads the next block at `offset`; 0 at the end of the file.
    static func read(_ file: OpenFile, into block: inout [UInt8], at offset: Int) throws -> Int {
        try block.withUnsafeMutableBytes { buffer -> Int in
            guard let base = buffer.baseAddress else { return 0 }
            return try file.read(into: base, count: buffer.count, at: offset)
        }
    }
}

/// Cells as text, read the way `mv train` reads them.
enum Cell {
    /// Whether the cell (spaces trimmed) is one of the missing-value tokens.
    static func isMissing(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Most cells are numbers or labels that start with neither N nor n nor a space.
        if let first = bytes.first, first != 32, first != 9, first != 78, first != 110 { return false }
        let trimmed = trim(bytes)
        if trimmed.isEmpty { return true }
        guard trimmed.count <= 4 else { return false }
        return Missing.isMissing(String(decoding: trimmed, as: UTF8.self))
    }

    static func trim(_ bytes: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        var start = 0
        var end = bytes.count
        while start < end, bytes[start] == 32 || bytes[start] == 9 { start += 1 }
        while end > start, bytes[end - 1] == 32 || bytes[end - 1] == 9 { end -= 1 }
        return UnsafeBufferPointer(rebasing: bytes[start..<end])
    }

    /// A decimal number, spaces around it ignored, as `mv train` reads one.
    static func number(_ raw: UnsafeBufferPointer<UInt8>) -> Double? {
        Number.decimal(trim(raw))
    }
}
