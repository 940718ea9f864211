import Foundation
import ModelFormat
#if canImport(Glibc)
import Glibc
#endif

/// How tensors are laid out in Git: one blob per tensor, or fixed-size chunks for tensors
/// too large for Git hosts (GitHub refuses files over 100 MB).
enum WeightStorage {
    /// Size of one chunk; a partial change to a huge tensor stores only the chunks it touched.
    static let chunkBytes: Int = {
        // A testing knob: tests exercise chunking without writing 64 MiB tensors.
        if let text = ProcessInfo.processInfo.environment["MV_CHUNK_BYTES"], let value = Int(text), value >= 4096 {
            return value
        }
        return 32 << 20
    }()

    /// A .npy larger than this is stored in chunks of `chunkBytes`.
    static var chunkThreshold: Int { 2 * chunkBytes }

    static func chunkSize(forFileOf size: Int) -> Int? {
        size > chunkThreshold ? chunkBytes : nil
    }
}

/// One tensor as mv will store it: the bytes of its .npy file, which are either a header mv
/// writes followed by a slice of a safetensors file, or a whole .npy file as given.
struct TensorPlan: Sendable {
    let name: String
    /// Element type of the values (bfloat16 where the .npy says uint16).
    let dtype: DType
    let header: NpyHeader
    /// Header bytes mv writes (safetensors input); empty when `source` is itself the .npy.
    let prefix: [UInt8]
    let source: URL
    /// Where the bytes after `prefix` start in `source`.
    let sourceOffset: Int
    /// Bytes of the whole .npy.
    let size: Int
    /// File name under params/.
    let file: String
    let chunkBytes: Int?

    /// Byte ranges of the .npy that become blobs: the whole file, or its chunks.
    var pieces: [Range<Int>] {
        guard let chunkBytes else { return [0..<size] }
        return stride(from: 0, to: max(size, 1), by: chunkBytes).map { $0..<min($0 + chunkBytes, size) }
    }

    /// Copies `range` of the .npy into `target`, reading the source through `fd`.
    func read(_ range: Range<Int>, into target: UnsafeMutableRawPointer, fd: Int32) throws {
        var position = range.lowerBound
        if position < prefix.count {
            let count = min(prefix.count, range.upperBound) - position
            prefix.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { target.copyMemory(from: base + position, byteCount: count) }
            }
            position += count
        }
        while position < range.upperBound {
            let fileOffset = sourceOffset + (position - prefix.count)
            let n = pread(fd, target + (position - range.lowerBound), range.upperBound - position, off_t(fileOffset))
            if n < 0 {
                if errno == EINTR { continue }
                throw MVError("cannot read '\(source.path)': \(String(cString: strerror(errno)))")
            }
            if n == 0 {
                throw MVError("'\(source.path)' became shorter while it was being read; nothing was stored",
                              hint: "wait for whatever writes it to finish, then run the command again")
            }
            position += n
        }
    }
}

/// Reads the tensors of the given .safetensors and .npy files without reading their data:
/// headers are validated here, bytes are read once later by `WeightIngest`.
enum WeightPlanner {
    struct Planned {
        var plans: [TensorPlan]
        /// The single safetensors file, opened, when there is exactly one.
        var safetensors: SafetensorsFile?
    }

    static func plan(_ inputs: [URL]) throws -> Planned {
        var plans: [TensorPlan] = []
        var files = Set<String>()
        var names = Set<String>()
        var opened: [SafetensorsFile] = []
        for input in inputs {
            if input.pathExtension == "npy" {
                let header: NpyHeader
                do { header = try NpyHeader.read(fileAt: input) } catch { throw MVError("\(error)") }
                let name = input.deletingPathExtension().lastPathComponent
                let size = header.headerLength + header.dataLength
                plans.append(TensorPlan(name: name, dtype: header.dtype, header: header, prefix: [], source: input, sourceOffset: 0,
                                        size: size, file: Registry.tensorFileName(name, taken: &files),
                                        chunkBytes: WeightStorage.chunkSize(forFileOf: size)))
                continue
            }
            let file: SafetensorsFile
            do { file = try SafetensorsFile.open(input) } catch { throw MVError("\(error)") }
            opened.append(file)
            for tensor in file.tensors {
                let prefix = [UInt8](NpyHeader.encode(dtype: tensor.dtype, shape: tensor.shape))
                // The .npy holds bfloat16 as uint16 bits; the manifest keeps the real type.
                let storedType = tensor.dtype == .bfloat16 ? DType.uint16 : tensor.dtype
                let header = NpyHeader(dtype: storedType, shape: tensor.shape, headerLength: prefix.count)
                let size = prefix.count + tensor.byteLength
                plans.append(TensorPlan(name: tensor.name, dtype: tensor.dtype, header: header, prefix: prefix, source: input,
                                        sourceOffset: file.dataStart + tensor.dataBegin, size: size,
                                        file: Registry.tensorFileName(tensor.name, taken: &files),
                                        chunkBytes: WeightStorage.chunkSize(forFileOf: size)))
            }
        }
        for plan in plans where !names.insert(plan.name).inserted {
            throw MVError("tensor '\(plan.name)' appears twice in the weights; tensor names must be unique")
        }
        return Planned(plans: plans, safetensors: opened.count == 1 && inputs.count == 1 ? opened[0] : nil)
    }
}
