import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// What the kernel holds in memory of a file mapped into this process.
public enum PageCache {
    /// Whether the mapped bytes at `pointer` are in the page cache, judged from one page in
    /// every 512 KiB and the last one: files leave the cache whole far more often than in
    /// part, and a wrong guess only costs speed (the rest is then read from disk). Asking
    /// for every page cost a page-cache lookup per 4 KiB, a quarter of a comparison's time.
    public static func isResident(_ pointer: UnsafeRawPointer, count: Int) -> Bool {
        guard count > 0 else { return true }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = Int(bitPattern: pointer)
        var probes = Array(stride(from: start, to: start + count, by: 512 << 10))
        probes.append(start + count - 1)
        var state: UInt8 = 0
        for address in probes {
            guard let pageStart = UnsafeMutableRawPointer(bitPattern: address / page * page),
                  mincore(pageStart, 1, &state) == 0, state & 1 != 0 else { return false }
        }
        return true
    }
}
