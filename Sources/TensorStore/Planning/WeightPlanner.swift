import Foundation
import ModelFormat

/// The tensors of some input files as mv will store them.
public struct PlannedWeights: Sendable {
    public var plans: [TensorPlan]
    /// The single safetensors file, opened, when it is the only input, and its JSON header
    /// exactly as in the file (padding included), which lets it be written back byte for byte.
    public var safetensors: SafetensorsFile?
    public var safetensorsHeader: Data?

    /// Bytes of all the .npy files together.
    public var totalBytes: Int64 { Int64(plans.map(\.size).reduce(0, +)) }
}

/// Reads the tensors of the given .safetensors and .npy files without reading their data:
/// headers are validated here, bytes are read once later by `PackIngest`.
public enum WeightPlanner {
    /// Plans `inputs` (.npy and .safetensors files); any invalid header is an error here.
    public static func plan(_ inputs: [URL]) throws -> PlannedWeights {
        var plans: [TensorPlan] = []
        var files = Set<String>()
        var names = Set<String>()
        var opened: [SafetensorsFile] = []
        for input in inputs {
            if input.pathExtension == "npy" {
                let header: NpyHeader
                do { header = try NpyHeader.read(fileAt: input) } catch { throw TensorStoreError("\(error)") }
                let name = input.deletingPathExtension().lastPathComponent
                let size = header.headerLength + header.dataLength
                plans.append(
                    TensorPlan(
                        name: name, dtype: header.dtype, header: header, prefix: [], source: input, sourceOffset: 0,
                        size: size, file: TensorFileName.make(name, taken: &files),
                        chunkBytes: ChunkPolicy.chunkSize(forFileOf: size)))
                continue
            }
            let file: SafetensorsFile
            do { file = try SafetensorsFile.open(input) } catch { throw TensorStoreError("\(error)") }
            opened.append(file)
            for tensor in file.tensors {
                let prefix = [UInt8](NpyHeader.encode(dtype: tensor.dtype, shape: tensor.shape))
                // The .npy holds bfloat16 as uint16 bits; the manifest keeps the real type.
                let storedType = tensor.dtype == .bfloat16 ? DType.uint16 : tensor.dtype
                let header = NpyHeader(dtype: storedType, shape: tensor.shape, headerLength: prefix.count)
                let size = prefix.count + tensor.byteLength
                plans.append(
                    TensorPlan(
                        name: tensor.name, dtype: tensor.dtype, header: header, prefix: prefix, source: input,
                        sourceOffset: file.dataStart + tensor.dataBegin, size: size,
                        file: TensorFileName.make(tensor.name, taken: &files),
                        chunkBytes: ChunkPolicy.chunkSize(forFileOf: size)))
            }
        }
        for plan in plans where !names.insert(plan.name).inserted {
            throw TensorStoreError("tensor '\(plan.name)' appears twice in the weights; tensor names must be unique")
        }
        guard opened.count == 1, inputs.count == 1 else { return PlannedWeights(plans: plans) }
        return PlannedWeights(plans: plans, safetensors: opened[0], safetensorsHeader: try header(of: opened[0].url))
    }

    /// The header bytes exactly as in the file (padding included).
    static func header(of url: URL) throws -> Data {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        let prefix = try handle.read(upToCount: 8) ?? Data()
        guard prefix.count == 8 else { throw TensorStoreError("'\(url.lastPathComponent)' is too short to be a safetensors file") }
        let length = prefix.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return try handle.read(upToCount: Int(length)) ?? Data()
    }
}

/// The file name a tensor gets under params/.
public enum TensorFileName {
    /// Longest base name kept whole: with `.npy.chunks` after it, a name stays well under the
    /// 255 bytes of ext4, APFS and NTFS.
    public static let longestBase = 200

    /// Names Windows reserves for devices, with or without an extension.
    static let reserved = Set(["con", "prn", "aux", "nul"] + (1...9).flatMap { ["com\($0)", "lpt\($0)"] })

    /// A safe, unique file name for a tensor: names like `encoder/layer.0.weight` keep their
    /// dots but lose characters a path cannot hold; a name too long for a file keeps its
    /// first 180 characters and gets a digest of the whole; a device name of Windows gets a
    /// leading `_`.
    public static func make(_ name: String, taken: inout Set<String>) -> String {
        var base = String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
        if base.isEmpty || base.hasPrefix(".") { base = "_" + base }
        if base.utf8.count > longestBase {
            base = String(base.prefix(180)) + "~" + ContentHash.sha256(Data(name.utf8)).prefix(12)
        }
        if reserved.contains(base.lowercased().prefix { $0 != "." }.description) { base = "_" + base }
        var candidate = base + ".npy"
        var counter = 2
        while !taken.insert(candidate.lowercased()).inserted {
            candidate = "\(base)~\(counter).npy"
            counter += 1
        }
        return candidate
    }
}
