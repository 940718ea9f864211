import Foundation
import FuzzSupport
import ModelFormat

// Any text must parse or throw a ModelFormatError; what parses must write and re-parse
// to the same manifest, and to the same YAML value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if let manifest = try? Manifest.parse(text) {
        let again = try? Manifest.parse(manifest.yaml())
        if again != manifest { fatalError("manifest does not survive a write and re-parse") }
    }
    _ = try? EvaluationReport.parse(text, source: "fuzz.yaml")
    // Any document mv can read, mv must write back so that it reads the same (nested lists
    // included: a list of lists once came out as invalid YAML).
    if let value = try? YAMLValue.parse(text, source: "fuzz.yaml") {
        let again = try? YAMLValue.parse(value.yamlDocument(), source: "fuzz.yaml")
        if again != value { fatalError("a YAML document does not survive a write and re-parse") }
    }
    return 0
}

@_cdecl("FuzzManifest_main")
public func fuzzMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    runFuzzer(argc, argv) { data, size in fuzzOne(data, size) }
}
