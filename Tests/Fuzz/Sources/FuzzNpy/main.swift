import Foundation
import FuzzSupport
import ModelFormat

// Any input must parse or throw: never crash, hang or read out of bounds.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    _ = try? NpyHeader.parse(prefix: bytes, fileName: "fuzz.npy", fileSize: size)
    if size < 1 << 16 { _ = try? Npy.values(from: bytes, fileName: "fuzz.npy") }
    _ = TensorText.render(npyData: bytes, fileName: "fuzz.npy")
    return 0
}

@_cdecl("FuzzNpy_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzOne(data, size) }
}
