import CLinux

/// The C library's heap, tuned for a process that reads many big buffers in turn.
public enum Heap {
    /// Serves blocks up to `mmapThreshold` bytes from the heap and keeps up to
    /// `trimThreshold` bytes of free heap. Above glibc's default threshold every big malloc
    /// is a new mmap: pages zeroed and (on a VM) handed out by the host on first touch. From
    /// the heap, a buffer freed and allocated again is the same memory.
    public static func reuseLargeBlocks(mmapThreshold: Int32, trimThreshold: Int32) {
        mv_linux_reuse_large_heap_blocks(mmapThreshold, trimThreshold)
    }

    /// For a long-running server: few arenas (one per thread multiplies free memory held),
    /// blocks past `mmapThreshold` mapped on their own, free memory past `trimThreshold`
    /// given back.
    public static func compact(arenas: Int32, mmapThreshold: Int32, trimThreshold: Int32) {
        mv_linux_compact_heap(arenas, mmapThreshold, trimThreshold)
    }

    /// Gives free heap memory back to the system (after a burst).
    public static func trim() {
        mv_linux_trim_heap()
    }
}
