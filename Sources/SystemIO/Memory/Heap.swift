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
}
