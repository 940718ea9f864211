import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What `stat` says of a file that changes whenever its content is rewritten: size, inode,
/// device, modification and change times in nanoseconds, owner and group — the fields git's
/// index keeps to tell a file unchanged without reading it. mv compares stamps to trust a work-tree file
/// it wrote, to skip an input it read before, and to notice an input rewritten while read.
public struct FileStamp: Sendable, Equatable, Hashable {
    public var size: Int64
    public var inode: UInt64
    public var device: UInt64
    public var modifiedSeconds: Int
    public var modifiedNanoseconds: Int
    public var changedSeconds: Int
    public var changedNanoseconds: Int
    public var user: UInt32 = 0
    public var group: UInt32 = 0

    public init(
        size: Int64, inode: UInt64, device: UInt64, modifiedSeconds: Int, modifiedNanoseconds: Int,
        changedSeconds: Int, changedNanoseconds: Int
    ) {
        self.size = size
        self.inode = inode
        self.device = device
        self.modifiedSeconds = modifiedSeconds
        self.modifiedNanoseconds = modifiedNanoseconds
        self.changedSeconds = changedSeconds
        self.changedNanoseconds = changedNanoseconds
    }

    init(_ info: stat) {
        self.init(
            size: Int64(info.st_size), inode: UInt64(info.st_ino), device: UInt64(info.st_dev),
            modifiedSeconds: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec,
            changedSeconds: info.st_ctim.tv_sec, changedNanoseconds: info.st_ctim.tv_nsec)
        user = info.st_uid
        group = info.st_gid
    }

    /// The stamp of the file at `path` (following links); nil when it cannot be read.
    public init?(path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The stamp of the file at `path`, or a `SystemError` saying why there is none.
    public static func of(_ path: String) throws -> FileStamp {
        var info = stat()
        try SystemCall.run("stat", path: path) { stat(path, &info) }
        return FileStamp(info)
    }

    /// Whether nothing touched the file in the second before `now`. A write within the same
    /// clock tick as the stamp could change the content and leave the stamp as it was, so a
    /// stamp taken that soon cannot vouch for the content later (git's "racily clean").
    public func isSettled(at now: Date = Date()) -> Bool {
        let modified = Double(modifiedSeconds) + Double(modifiedNanoseconds) / 1e9
        let changed = Double(changedSeconds) + Double(changedNanoseconds) / 1e9
        return now.timeIntervalSince1970 - max(modified, changed) > 1
    }

    /// A new file under the same name, or the same file rewritten, since `earlier`. The
    /// change time is left out: linking or renaming a file changes it without touching
    /// its bytes.
    public func contentMayDiffer(from earlier: FileStamp) -> Bool {
        size != earlier.size || inode != earlier.inode || device != earlier.device
            || modifiedSeconds != earlier.modifiedSeconds || modifiedNanoseconds != earlier.modifiedNanoseconds
    }
}
