// SystemIO: mv's contact with the operating system, and the only target that makes file
// system calls. It owns one funnel for system calls (`SystemCall`: EINTR retried, failures
// thrown as a `SystemError` naming the call and the path), open files and memory maps,
// reads that come only from the page cache, writes around it (O_DIRECT), advisory file
// locks, atomic unsynced writes, append-only cache files, the trash of replaced files,
// file stamps, background threads and the SIGBUS guard for mapped inputs. It knows nothing
// of Git, tensors or models: it must not import any other mv target, and no other target
// calls `open`, `pread`, `pwrite`, `fsync` or `mmap` itself. Linux with glibc only (CLinux).

/// An error a person reads: one line saying what is wrong, an optional hint saying what to
/// type next, and the process exit status.
/// The CLI prints any `UserError` as `mv: error: …` / `hint: …`.
public protocol UserError: Error, CustomStringConvertible {
    var message: String { get }
    var hint: String? { get }
    var exitCode: Int32 { get }
}

extension UserError {
    public var hint: String? { nil }
    public var exitCode: Int32 { 1 }
    public var description: String { message }
}
