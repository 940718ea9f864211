import Foundation
import Git
import ModelFormat
import TensorStore

extension Registry {
    /// `mv verify`: re-hashes every tensor of a version from Git objects; returns each
    /// tensor's name and whether its sha256 matches the manifest.
    public func verify(_ reference: String, model hint: String? = nil) throws -> (
        ResolvedVersion, [(tensor: String, file: String, ok: Bool)]
    ) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let stored = content.manifest.params.compactMap { record in content.tensorBlobs[record.name].map { (record: record, blobs: $0) } }
        var digests = Dictionary(
            zip(stored.map(\.record.name), try tensors.reader().verify(stored)), uniquingKeysWith: { first, _ in first })
        let results = content.manifest.params.map { record in
            (tensor: record.name, file: record.file, ok: (digests.removeValue(forKey: record.name) ?? nil) == record.sha256)
        }
        return (resolved, results)
    }

    /// Re-hashes every tensor against the manifest with `reader`, which may then write the
    /// same tensors out without checking them again.
    func verifyTensors(_ content: VersionContent, reader: any TensorReader) throws {
        let stored = content.manifest.params.compactMap { record in content.tensorBlobs[record.name].map { (record: record, blobs: $0) } }
        for (tensor, digest) in zip(stored, try reader.verify(stored)) where digest != tensor.record.sha256 {
            throw MVError(
                "tensor '\(tensor.record.name)' of \(content.resolved.label) does not match its sha256 in the manifest; the stored file was altered"
            )
        }
    }

    /// A tensor of `content` with the names messages about it use.
    func labeled(_ content: VersionContent, _ record: Manifest.TensorRecord) throws -> LabeledTensor {
        guard let blobs = content.tensorBlobs[record.name] else {
            throw MVError("\(content.resolved.label) has no tensor '\(record.name)'")
        }
        return LabeledTensor(record: record, blobs: blobs, label: content.resolved.label, spelled: content.resolved.spelled)
    }
}
