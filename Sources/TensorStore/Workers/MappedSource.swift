import Foundation
import SystemIO

/// A unit's bytes straight from the page cache: a private map of its range of the source,
/// with the .npy header mv writes for a safetensors tensor copied over the bytes just before
/// its data (copy-on-write: only that page is copied). Reading into a buffer cost a copy and,
/// on the measured machine (a VM), fresh pages for the buffer: zeroing them was 14% of the
/// CPU of registering a version with 4 changed tensors.
final class MappedSource: @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    private let region: MappedRegion

    /// Nil where the bytes before the data cannot hold the header, or the file is shorter
    /// than planned (the buffered read then reports it).
    init?(_ plan: TensorPlan, range: Range<Int>, file: OpenFile) {
        let start = plan.sourceOffset + range.lowerBound - plan.prefix.count
        guard !range.isEmpty, start >= 0, let size = try? file.size(), size >= start + range.count,
            let region = try? MappedRegion(file, offset: start, count: range.count, writable: true),
            let base = region.bytes.baseAddress
        else { return nil }
        self.region = region
        if range.lowerBound < plan.prefix.count {
            let header = plan.prefix[range.lowerBound..<min(plan.prefix.count, range.upperBound)]
            header.withUnsafeBytes { header in
                if let source = header.baseAddress { base.copyMemory(from: source, byteCount: header.count) }
            }
        }
        bytes = UnsafeRawBufferPointer(region.bytes)
    }
}
