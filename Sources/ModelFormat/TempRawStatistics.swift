import Foundation

// TEMPORARY until the fast raw path lands.
extension TensorStatistics.Accumulator {
    public mutating func add(raw bytes: UnsafeRawBufferPointer, dtype: DType) {
        let step = 65536 * dtype.itemSize
        var offset = 0
        var values: [Double] = []
        while offset < bytes.count {
            let count = min(step, bytes.count - offset)
            values.removeAll(keepingCapacity: true)
            TensorElementDecoding.decode(UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)]), dtype: dtype, into: &values)
            add(values)
            offset += count
        }
    }
}
