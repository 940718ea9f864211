import Foundation
import Git
import ModelFormat
import SystemIO
import TensorStore

/// Export formats of `mv export`.
public enum ExportFormat: String, Sendable, CaseIterable {
    case npy, safetensors
}

extension Registry {
    /// Writes a version's parameters: one `.npy` per tensor into a folder, or one
    /// `.safetensors` file.
    public func export(_ reference: String, model hint: String? = nil, format: ExportFormat, to output: URL, force: Bool) throws -> (
        ResolvedVersion, Int
    ) {
        let resolved = try resolve(reference, model: hint)
        let content = try content(of: resolved)
        let fileManager = FileManager.default
        switch format {
        case .safetensors:
            if fileManager.fileExists(atPath: output.path), !force {
                throw MVError("'\(output.path)' exists", hint: "choose another path, or pass --force to replace it")
            }
            let layout = try originalLayout(content) ?? freshLayout(content)
            try prefetchTensors(of: [content])
            try tensors.reader().writeSafetensors(
                header: layout.header, tensors: try layout.order.map { try labeled(content, $0) }, fileSHA256: layout.sha256, to: output,
                progress: progress.map { report in { done, total in report(done, total, "exporting") } })
        case .npy:
            if let existing = try? fileManager.contentsOfDirectory(atPath: output.path), !existing.isEmpty, !force {
                throw MVError("'\(output.path)' is not empty", hint: "choose an empty folder, or pass --force")
            }
            let reader = tensors.reader()
            try verifyTensors(content, reader: reader)
            let total = Int64(content.manifest.params.map(\.bytes).reduce(0, +))
            var done: Int64 = 0
            var folderWrite = FolderWrite()
            var taken = Set<String>()
            try folderWrite.undoingOnFailure { folderWrite in
                try folderWrite.createFolder(output)
                for record in content.manifest.params {
                    guard let blobs = content.tensorBlobs[record.name] else { continue }
                    let url = output.appendingPathComponent(Self.exportFileName(record, taken: &taken))
                    try folderWrite.prepare(url)
                    try reader.write(blobs, to: url, checked: true)
                    done += Int64(record.bytes)
                    progress?(done, total, "exporting")
                }
            }
        }
        return (resolved, content.manifest.params.count)
    }

    /// The file an exported tensor gets: its name in the version's params/ folder, which mv
    /// made safe when it stored the tensor; a name from a manifest edited by hand is made safe
    /// here. A tensor named '../../x' must not write outside the export folder.
    static func exportFileName(_ record: Manifest.TensorRecord, taken: inout Set<String>) -> String {
        let name = URL(fileURLWithPath: record.file).lastPathComponent
        if record.file == "params/\(name)", name.hasSuffix(".npy"), !name.hasPrefix("."), !name.contains("\\"),
            name.utf8.count <= TensorFileName.longestBase + 4, taken.insert(name.lowercased()).inserted
        {
            return name
        }
        return TensorFileName.make(record.name, taken: &taken)
    }

    /// The stored header and the tensors in the order of their bytes, when the version holds
    /// exactly the tensors of the safetensors file it was imported from.
    private func originalLayout(_ content: VersionContent) throws -> (header: Data, order: [Manifest.TensorRecord], sha256: String?)? {
        guard let source = content.manifest.source, source["format"]?.stringValue == "safetensors",
            let headerFile = source["header"]?.stringValue, case .list(let order)? = source["data_order"]
        else { return nil }
        let names = order.compactMap(\.stringValue)
        let records = Dictionary(content.manifest.params.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        guard Set(names) == Set(records.keys), names.count == records.count,
            let entry = try repository.tree(content.folderTree).entry(atPath: headerFile)
        else { return nil }
        return (try repository.objects.readBlob(entry.id), names.compactMap { records[$0] }, source["sha256"]?.stringValue)
    }

    /// Not imported from one safetensors file: a fresh header, laid out as the reference
    /// writer does (`safetensors.numpy.save_file` writes the same bytes), naming the version.
    private func freshLayout(_ content: VersionContent) throws -> (header: Data, order: [Manifest.TensorRecord], sha256: String?) {
        let records = Dictionary(content.manifest.params.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let described = try content.manifest.params.map { record -> (name: String, dtype: DType, shape: [Int]) in
            guard let dtype = DType(rawValue: record.dtype) else {
                throw MVError("tensor '\(record.name)' of \(content.resolved.label) has an unknown dtype '\(record.dtype)' in its manifest")
            }
            return (record.name, dtype, record.shape)
        }
        do {
            let layout = try SafetensorsWriter.layout(
                described,
                metadata: [
                    "format": "pt", "mv_model": content.resolved.model.value,
                    "mv_version": content.manifest.version,
                ],
                fileName: content.resolved.label)
            return (layout.header, layout.order.compactMap { records[$0] }, nil)
        } catch {
            throw MVError("\(error)")
        }
    }
}
