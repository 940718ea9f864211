import Foundation

/// A parsed CSV file: a header and rectangular rows of raw text fields.
public struct CSVTable: Sendable, Equatable {
    public let header: [String]
    public let rows: [[String]]
    /// The 1-based file line on which each row starts; differs from `index + 2`
    /// when a quoted field spans several lines, and error messages must point at the real line.
    public let rowLines: [Int]

    public init(header: [String], rows: [[String]], rowLines: [Int]? = nil) {
        self.header = header
        self.rows = rows
        self.rowLines = rowLines ?? rows.indices.map { $0 + 2 }
    }

    /// Index of the column called `name`, if any.
    public func columnIndex(_ name: String) -> Int? {
        header.firstIndex(of: name)
    }
}

/// RFC 4180 CSV reading.
public enum CSV {
    private static let quote = UInt8(ascii: "\"")
    private static let comma = UInt8(ascii: ",")
    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// Parses `data` as comma-separated UTF-8 text with a header line.
    /// `source` names the file in error messages.
    public static func parse(_ data: Data, source: String) throws -> CSVTable {
        // Before any copy: a file with a line of gigabytes fails in a fraction of a second.
        if let line = firstLongLine(data) {
            throw LearningError.lineTooLong(source: source, line: line, limit: longestLine)
        }
        var bytes = [UInt8](data)
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            bytes.removeFirst(3)
        }
        if let line = firstInvalidUTF8Line(bytes) {
            throw LearningError.invalidUTF8(source: source, line: line)
        }
        if let nul = bytes.firstIndex(of: 0) {
            throw LearningError.nulByte(source: source, line: bytes[..<nul].reduce(1) { $1 == lf ? $0 + 1 : $0 })
        }

        var records = try records(of: bytes, source: source)
        // A record made of one empty unquoted field is a blank line; trailing ones are
        // just how editors end files, so they are not data.
        while let last = records.last, last.isBlank {
            records.removeLast()
        }
        guard let headerRecord = records.first else {
            throw LearningError.emptyFile(source: source)
        }

        let header = headerRecord.fields.map { $0.trimmingCharacters(in: .whitespaces) }
        var seen: [String: Int] = [:]
        for (index, name) in header.enumerated() {
            if name.isEmpty {
                throw LearningError.emptyHeaderName(source: source, column: index + 1)
            }
            if let first = seen[name] {
                throw LearningError.duplicateHeaderName(
                    source: source, name: name, firstColumn: first + 1, secondColumn: index + 1)
            }
            seen[name] = index
        }

        let dataRecords = records.dropFirst()
        if dataRecords.isEmpty {
            throw LearningError.headerOnly(source: source)
        }
        var rows: [[String]] = []
        var lines: [Int] = []
        rows.reserveCapacity(dataRecords.count)
        lines.reserveCapacity(dataRecords.count)
        for record in dataRecords {
            if record.fields.count != header.count {
                throw LearningError.fieldCountMismatch(
                    source: source, line: record.line, expected: header.count, actual: record.fields.count)
            }
            rows.append(record.fields)
            lines.append(record.line)
        }
        return CSVTable(header: header, rows: rows, rowLines: lines)
    }

    private struct Record {
        var fields: [String]
        var line: Int
        var isBlank: Bool
    }

    /// Bounds on one record, so that a file that is not a CSV (one line of a gigabyte, or a
    /// billion empty fields) fails at once instead of filling memory: 64 MiB per line and
    /// 100,000 fields (a CSV of a million columns is not one mv trains on).
    static let longestLine = 64 << 20
    static let mostFields = 100_000

    /// Splits the bytes into records. Works on bytes rather than Characters because
    /// Swift treats "\r\n" as one grapheme, and because UTF-8 never puts the ASCII
    /// delimiters inside a multi-byte sequence, so byte-level splitting is safe.
    private static func records(of bytes: [UInt8], source: String) throws -> [Record] {
        var records: [Record] = []
        var fields: [String] = []
        var field: [UInt8] = []
        var line = 1
        var recordLine = 1
        var index = 0
        var fieldWasQuoted = false
        // True when at least one byte or separator has been seen in the current record,
        // so that "a\n" at end of file does not produce an extra empty record.
        var recordStarted = false

        var recordStart = 0
        var overflow: LearningError?
        func endField() {
            fields.append(String(decoding: field, as: UTF8.self))
            field.removeAll(keepingCapacity: true)
            if fields.count > mostFields, overflow == nil { overflow = .tooManyFields(source: source, line: recordLine, limit: mostFields) }
        }
        func endRecord() {
            endField()
            let blank = fields.count == 1 && fields[0].isEmpty && !fieldWasQuoted
            records.append(Record(fields: fields, line: recordLine, isBlank: blank))
            fields.removeAll(keepingCapacity: true)
            fieldWasQuoted = false
            recordStarted = false
        }

        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            if !recordStarted {
                recordStarted = true
                recordLine = line
                recordStart = index
            }
            if let overflow { throw overflow }
            if index - recordStart > longestLine { throw LearningError.lineTooLong(source: source, line: recordLine, limit: longestLine) }
            if byte == quote && field.isEmpty && !fieldWasQuoted {
                // Quoted field: read up to the closing quote.
                fieldWasQuoted = true
                let openedOn = line
                index += 1
                var closed = false
                while index < count {
                    let b = bytes[index]
                    if b == quote {
                        if index + 1 < count && bytes[index + 1] == quote {
                            field.append(quote)
                            index += 2
                            continue
                        }
                        index += 1
                        closed = true
                        break
                    }
                    if b == lf || (b == cr && !(index + 1 < count && bytes[index + 1] == lf)) {
                        line += 1
                    }
                    field.append(b)
                    index += 1
                }
                if !closed {
                    throw LearningError.unterminatedQuote(source: source, line: openedOn)
                }
                if index < count {
                    let next = bytes[index]
                    if next != comma && next != lf && next != cr {
                        throw LearningError.textAfterClosingQuote(source: source, line: line)
                    }
                }
                continue
            }
            switch byte {
            case comma:
                endField()
                fieldWasQuoted = false
                index += 1
            case cr:
                endRecord()
                index += 1
                if index < count && bytes[index] == lf {
                    index += 1
                }
                line += 1
            case lf:
                endRecord()
                index += 1
                line += 1
            default:
                field.append(byte)
                index += 1
            }
        }
        if recordStarted {
            endRecord()
        }
        if let overflow { throw overflow }
        return records
    }

    /// The 1-based number of the first line longer than `longestLine`, found with memchr.
    private static func firstLongLine(_ data: Data) -> Int? {
        guard data.count > longestLine else { return nil }
        return data.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            var start = 0
            var line = 1
            while start < buffer.count {
                let rest = buffer.count - start
                guard let found = memchr(base + start, Int32(lf), rest) else { return rest > longestLine ? line : nil }
                let end = base.distance(to: UnsafeRawPointer(found))
                if end - start > longestLine { return line }
                start = end + 1
                line += 1
            }
            return nil
        }
    }

    /// Returns the 1-based line of the first invalid UTF-8 sequence, or nil if the text is valid.
    private static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int? {
        // Fast path: pure ASCII is always valid.
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return nil
        }
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        var line = 1
        while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar):
                if scalar == "\n" {
                    line += 1
                }
            case .emptyInput:
                return nil
            case .error:
                return line
            }
        }
    }
}
