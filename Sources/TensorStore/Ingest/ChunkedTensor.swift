import Crypto
import Foundation
import Git
import ModelFormat

/// SHA-256 and statistics of a chunked tensor, fed chunk by chunk in order.
struct ChunkedTensor {
    let dtype: DType
    let bodyStart: Int
    var hasher = SHA256()
    var statistics = TensorStatistics.Accumulator()
    /// Bytes of an element split across two chunks.
    var carry: [UInt8] = []
    var ids: [ObjectID] = []
    var patches: [AssembledFile.Patch] = []

    init(dtype: DType, bodyStart: Int) {
        self.dtype = dtype
        self.bodyStart = bodyStart
    }

    mutating func add(_ bytes: UnsafeRawBufferPointer, at offset: Int, id: ObjectID) {
        hasher.update(bufferPointer: bytes)
        ids.append(id)
        let skip = max(0, bodyStart - offset)
        guard bytes.count > skip, let base = bytes.baseAddress else { return }
        var body = UnsafeRawBufferPointer(start: base + skip, count: bytes.count - skip)
        let item = dtype.itemSize
        if !carry.isEmpty {
            let needed = min(item - carry.count, body.count)
            carry += UnsafeRawBufferPointer(rebasing: body[..<needed])
            body = UnsafeRawBufferPointer(rebasing: body[needed...])
            if carry.count == item {
                carry.withUnsafeBytes { statistics.add(raw: $0, dtype: dtype) }
                carry = []
            }
        }
        let whole = body.count - body.count % item
        statistics.add(raw: UnsafeRawBufferPointer(rebasing: body[..<whole]), dtype: dtype)
        carry += UnsafeRawBufferPointer(rebasing: body[whole...])
    }

    mutating func finish() -> (String, TensorStatistics) {
        (ContentHash.hex(hasher.finalize()), statistics.result)
    }
}
