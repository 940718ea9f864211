import Foundation
import FuzzSupport
import ModelFormat

// Any input must parse or throw a TensorFormatError: never crash, hang or read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let url = URL(fileURLWithPath: NSTemporaryDirectory()).appendingPathComponent("fuzz-\(getpid()).safetensors")
    FileManager.default.createFile(atPath: url.path, contents: Data(bytes: data, count: size))
    if let file = try? SafetensorsFile.open(url) {
        for tensor in file.tensors.prefix(4) { _ = try? file.statistics(of: tensor) }
    }
    return 0
}

@_cdecl("FuzzSafetensors_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzOne(data, size) }
}
