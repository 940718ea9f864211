import Crypto
import Foundation
import Git
import ModelFormat

/// A stored tensor's values read blob by blob (or LFS object by object) — a chunked tensor one 32 MiB chunk
/// at a time — so memory stays bounded whatever its size. Its SHA-256 is checked against the
/// manifest once every byte has been read (`finish`): a tampered tensor fails loudly.
final class StoredTensorReader {
    let record: Manifest.TensorRecord
    /// The element type the values mean (bfloat16 where the .npy says uint16).
    let dtype: DType
    private let read: (ObjectID) throws -> Data
    private let label: String
    private let spelled: String
    private var pending: ArraySlice<ObjectID>
    private var hasher = SHA256()
    /// Bytes of the blobs read so far that were not handed out yet, from `position`.
    private var buffer = Data()
    private var position = 0
    /// Data bytes (after the .npy header) not handed out yet.
    private var remaining: Int

    init(read: @escaping (ObjectID) throws -> Data, tensor: LabeledTensor) throws {
        let record = tensor.record
        guard let dtype = DType(rawValue: record.dtype) else {
            throw TensorStoreError("tensor '\(record.name)' of \(tensor.label) has an unknown dtype '\(record.dtype)' in its manifest")
        }
        self.record = record
        self.dtype = dtype
        self.read = read
        label = tensor.label
        spelled = tensor.spelled
        pending = tensor.blobs[...]
        remaining = 0
        // The header is small; enough of the first blobs to hold any .npy header is read.
        while buffer.count < min(record.bytes, 1 << 17), !pending.isEmpty { try load() }
        let header: NpyHeader
        do {
            header = try NpyHeader.parse(prefix: buffer, fileName: record.file, fileSize: record.bytes)
        } catch {
            throw tampered()
        }
        guard header.dtype.itemSize == dtype.itemSize else { throw tampered() }
        position = header.headerLength
        remaining = header.dataLength
    }

    /// Up to `count` more values (exactly `count` unless fewer remain); nil at the end.
    func next(_ count: Int) throws -> [Double]? {
        guard remaining > 0 else { return nil }
        var values: [Double] = []
        values.reserveCapacity(min(count, remaining / dtype.itemSize))
        var wanted = min(count * dtype.itemSize, remaining)
        while wanted > 0 {
            if buffer.count - position < dtype.itemSize {
                guard !pending.isEmpty else { throw tampered() }
                try load()
                continue
            }
            let available = (buffer.count - position) / dtype.itemSize * dtype.itemSize
            let take = min(wanted, available)
            buffer.withUnsafeBytes { raw in
                dtype.appendValues(of: UnsafeRawBufferPointer(rebasing: raw[position..<(position + take)]), to: &values)
            }
            position += take
            remaining -= take
            wanted -= take
        }
        return values
    }

    /// Reads what is left and checks the whole file against the manifest's SHA-256.
    func finish() throws {
        while !pending.isEmpty { try load() }
        guard remaining == 0, position == buffer.count, ContentHash.hex(hasher.finalize()) == record.sha256 else { throw tampered() }
    }

    private func load() throws {
        guard let id = pending.popFirst() else { return }
        let data = try read(id)
        hasher.update(data: data)
        // Keep only the unread tail (at most one element split across two blobs).
        buffer = position < buffer.count ? buffer.subdata(in: (buffer.startIndex + position)..<buffer.endIndex) + data : data
        position = 0
    }

    private func tampered() -> TensorStoreError {
        TensorStoreError(
            "tensor '\(record.name)' of \(label) does not match its sha256 in the manifest; the file was altered",
            hint: "restore it with 'mv checkout \(spelled) --force'")
    }
}
