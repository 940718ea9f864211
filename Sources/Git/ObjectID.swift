import CGit2

/// A Git object id (SHA-1), printable as the usual 40 hex digits.
public struct ObjectID: Hashable, Sendable, CustomStringConvertible {
    var raw: git_oid

    init(_ raw: git_oid) { self.raw = raw }

    init(_ pointer: UnsafePointer<git_oid>) { self.raw = pointer.pointee }

    /// From the 20 raw bytes (as a pack index lists them).
    init?(bytes: [UInt8]) {
        guard bytes.count == 20 else { return nil }
        var oid = git_oid()
        guard git_oid_fromraw(&oid, bytes) == 0 else { return nil }
        raw = oid
    }

    public init?(hex: String) {
        guard hex.count == 40, hex.allSatisfy(\.isHexDigit) else { return nil }
        var oid = git_oid()
        guard git_oid_fromstr(&oid, hex) == 0 else { return nil }
        raw = oid
    }

    public var description: String {
        var copy = raw
        var buffer = [CChar](repeating: 0, count: 41)
        _ = git_oid_tostr(&buffer, buffer.count, &copy)
        return String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public var short: String { String(description.prefix(8)) }

    var bytes: [UInt8] { withUnsafeBytes(of: raw) { Array($0) } }

    public static func == (lhs: ObjectID, rhs: ObjectID) -> Bool { lhs.bytes == rhs.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
