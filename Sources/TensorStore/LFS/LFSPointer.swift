import Foundation

/// A Git LFS pointer file (spec v1): what Git holds in place of a large file's bytes, which
/// live in an LFS store under their SHA-256 (`oid`).
public struct LFSPointer: Hashable, Sendable, CustomStringConvertible {
    /// The SHA-256 of the file's bytes, 64 lowercase hex digits.
    public let oid: String
    public let size: Int

    static let versionLine = "version https://git-lfs.github.com/spec/v1"
    /// git-lfs reads a blob as a pointer only below this size (its `blobSizeCutoff`).
    public static let maximumSize = 1024

    public init(oid: String, size: Int) {
        self.oid = oid
        self.size = size
    }

    /// The pointer as git-lfs writes it (keys after `version` in order, each line ending in
    /// `\n`), so that `git lfs` computes the same blob for the same file.
    public var text: String { "\(Self.versionLine)\noid sha256:\(oid)\nsize \(size)\n" }

    public var description: String { "sha256:\(oid.prefix(12))… (\(size) bytes)" }

    /// The pointer `data` holds, or nil when it is not a version 1 pointer mv can follow
    /// (pointers with extensions are not: their object is not the file's bytes).
    public init?(parsing data: some Collection<UInt8>) {
        guard data.count < Self.maximumSize, data.count > Self.versionLine.utf8.count,
            data.starts(with: Self.versionLine.utf8)
        else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 4, lines[3].isEmpty, lines[0] == Self.versionLine, lines[1].hasPrefix("oid sha256:"),
            lines[2].hasPrefix("size ")
        else { return nil }
        let oid = lines[1].dropFirst("oid sha256:".count)
        guard oid.count == 64, oid.allSatisfy({ $0.isHexDigit && !$0.isUppercase }),
            let size = Int(lines[2].dropFirst("size ".count)), size >= 0
        else { return nil }
        self.init(oid: String(oid), size: size)
    }
}
