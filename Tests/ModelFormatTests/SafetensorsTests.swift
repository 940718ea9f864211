import Foundation
import ModelFormat
import XCTest

final class SafetensorsTests: XCTestCase {
    /// Builds a safetensors file from raw header text and a data area of `dataLength` bytes.
    func makeFile(_ dir: TensorTestDir, _ name: String, header: [UInt8], dataLength: Int, declaredLength: UInt64? = nil) throws -> URL {
        var bytes = Data()
        let length = declaredLength ?? UInt64(header.count)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
        bytes.append(contentsOf: header)
        bytes.append(Data((0..<dataLength).map { UInt8(truncatingIfNeeded: $0) }))
        let url = dir.file(name)
        try bytes.write(to: url)
        return url
    }

    func makeFile(_ dir: TensorTestDir, _ name: String, json: String, dataLength: Int) throws -> URL {
        try makeFile(dir, name, header: Array(json.utf8), dataLength: dataLength)
    }

    func testHeaderOrderMetadataAndSlices() throws {
        let dir = try TensorTestDir()
        let json = """
            {"zeta":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}, "__metadata__":{"format":"pt","note":"caf\\u00e9 \\"q\\""},
             "alpha":{"shape":[2,2],"data_offsets":[8,12],"dtype":"U8"},"empty":{"dtype":"I64","shape":[0,3],"data_offsets":[12,12]},
             "mid":{"dtype":"BOOL","shape":[],"data_offsets":[12,13]}}
            """
        let url = try makeFile(dir, "m.safetensors", json: json, dataLength: 13)
        let file = try SafetensorsFile.open(url)
        XCTAssertEqual(file.tensors.map(\.name), ["zeta", "alpha", "empty", "mid"])
        XCTAssertEqual(file.metadata, ["format": "pt", "note": "café \"q\""])
        XCTAssertEqual(file.headerLength, json.utf8.count)
        XCTAssertEqual(file.tensors[1], SafetensorsTensor(name: "alpha", dtype: .uint8, shape: [2, 2], dataBegin: 8, dataEnd: 12))
        XCTAssertEqual(file.tensors[2].elementCount, 0)
        XCTAssertEqual(file.tensors[3].shape, [])

        try file.writeNpy(file.tensors[1], to: dir.file("alpha.npy"))
        let output = try TensorTestPython.run(
            "import numpy,sys; a=numpy.load(sys.argv[1]); print(a.dtype.str, a.shape, a.ravel().tolist())", [dir.file("alpha.npy").path])
        XCTAssertEqual(output, "|u1 (2, 2) [8, 9, 10, 11]\n")
        try file.writeNpy(file.tensors[2], to: dir.file("empty.npy"))
        XCTAssertEqual(try Npy.values(fileAt: dir.file("empty.npy")).header.shape, [0, 3])
        XCTAssertNil(file.tensor(named: "nope"))
    }

    func testRoundTripThroughWriterAndCrossCheckWithSafetensorsPackage() throws {
        try TensorTestPython.requireModule("safetensors")
        let dir = try TensorTestDir()
        let names = ["layer.0.weight", "bias", "mask", "h", "ids", "big"]
        try TensorTestPython.run(
            """
            import numpy, sys, os
            d = sys.argv[1]
            rng = numpy.random.default_rng(3)
            arrays = {
                'layer.0.weight': rng.normal(size=(4, 3)).astype('<f4'),
                'bias': rng.normal(size=(3,)).astype('<f8'),
                'mask': rng.integers(0, 2, (5,)).astype(bool),
                'h': rng.normal(size=(2, 2, 2)).astype('<f2'),
                'ids': rng.integers(-1000, 1000, (7,)).astype('<i8'),
                'big': rng.normal(size=(300000,)).astype('<f4'),
            }
            for k, a in arrays.items():
                numpy.save(os.path.join(d, k + '.npy'), a)
            """, [dir.url.path])
        let out = dir.file("model.safetensors")
        let metadata = ["format": "np", "author": "tests \"quoted\" é"]
        try SafetensorsWriter.write(tensors: names.map { ($0, dir.file($0 + ".npy")) }, metadata: metadata, to: out)

        let file = try SafetensorsFile.open(out)
        XCTAssertEqual(file.metadata, metadata)
        XCTAssertEqual(file.dataStart % 8, 0)
        // Laid out largest item size first, then by name, like the reference writer.
        XCTAssertEqual(file.tensors.map(\.name), ["ids", "bias", "big", "layer.0.weight", "h", "mask"])
        XCTAssertEqual(file.tensors.map(\.dataBegin), file.tensors.map(\.dataBegin).sorted())
        for tensor in file.tensors {
            XCTAssertEqual(tensor.dataBegin % tensor.dtype.itemSize, 0)
            let original = dir.file(tensor.name + ".npy")
            let header = try NpyHeader.read(fileAt: original)
            XCTAssertEqual(tensor.dtype, header.dtype)
            XCTAssertEqual(tensor.shape, header.shape)
            // Our .npy headers equal numpy's, so the round trip is byte-identical.
            let back = dir.file(tensor.name + ".back.npy")
            try file.writeNpy(tensor, to: back)
            XCTAssertEqual(try Data(contentsOf: back), try Data(contentsOf: original), tensor.name)
            let body = try Data(contentsOf: original).dropFirst(header.headerLength)
            XCTAssertEqual(try file.sha256(of: tensor), ContentHash.sha256(body))
        }

        // The reference implementation reads our file with the same arrays and metadata.
        let check = try TensorTestPython.run(
            """
            import numpy, sys, os, json
            from safetensors import safe_open
            from safetensors.numpy import load_file
            d, path = sys.argv[1], sys.argv[2]
            loaded = load_file(path)
            with safe_open(path, framework='np') as f:
                meta = f.metadata()
            ok = sorted(loaded) == sorted(sys.argv[3].split(','))
            for k, a in loaded.items():
                ref = numpy.load(os.path.join(d, k + '.npy'))
                ok = ok and a.dtype == ref.dtype and a.shape == ref.shape and numpy.array_equal(a, ref)
            print(ok, json.dumps(meta, sort_keys=True))
            """, [dir.url.path, out.path, names.joined(separator: ",")])
        XCTAssertEqual(check, "True {\"author\": \"tests \\\"quoted\\\" \\u00e9\", \"format\": \"np\"}\n")

        // And the reference writer produces exactly our bytes for the same inputs.
        let reference = dir.file("reference.safetensors")
        try TensorTestPython.run(
            """
            import numpy, sys, os
            from safetensors.numpy import save_file
            d = sys.argv[1]
            save_file({k: numpy.load(os.path.join(d, k + '.npy')) for k in sys.argv[3].split(',')}, sys.argv[2], metadata={'format': 'np'})
            """, [dir.url.path, reference.path, names.joined(separator: ",")])
        let ours = dir.file("ours.safetensors")
        try SafetensorsWriter.write(tensors: names.map { ($0, dir.file($0 + ".npy")) }, metadata: ["format": "np"], to: ours)
        XCTAssertEqual(try ContentHash.sha256(fileAt: ours), try ContentHash.sha256(fileAt: reference))

        // We read the reference writer's file.
        let theirs = try SafetensorsFile.open(reference)
        XCTAssertEqual(theirs.tensors, try SafetensorsFile.open(ours).tensors)
        XCTAssertEqual(theirs.metadata, ["format": "np"])
    }

    func testWriterRefusesBadNames() throws {
        let dir = try TensorTestDir()
        let npy = dir.file("a.npy")
        try Npy.data(float64: [1], shape: [1]).write(to: npy)
        let out = dir.file("o.safetensors")
        assertThrowsTensorMessage(
            try SafetensorsWriter.write(tensors: [("a", npy), ("a", npy)], metadata: [:], to: out),
            "tensor name 'a' appears more than once in 'o.safetensors'")
        assertThrowsTensorMessage(
            try SafetensorsWriter.write(tensors: [("__metadata__", npy)], metadata: [:], to: out),
            "'__metadata__' cannot be a tensor name in 'o.safetensors'; it is reserved or empty")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
        // No stray temp files are left behind.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.url.path), ["a.npy"])
        try SafetensorsWriter.write(tensors: [], metadata: [:], to: out)
        let empty = try SafetensorsFile.open(out)
        XCTAssertEqual(empty.tensors, [])
        XCTAssertEqual(try Data(contentsOf: out), Data([8, 0, 0, 0, 0, 0, 0, 0]) + Data("{}      ".utf8))
    }

    func testBadSafetensorsFilesAreRefusedWithSpecificMessages() throws {
        let dir = try TensorTestDir()
        let f32 = { (name: String, begin: Int, end: Int, count: Int) in
            "\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(count)],\"data_offsets\":[\(begin),\(end)]}"
        }

        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "short.safetensors", header: [], dataLength: 0, declaredLength: 0).deletingLastPathComponent()
                    .appendingPathComponent("nothing")),
            "cannot read 'nothing': no such file")
        try Data([1, 2, 3]).write(to: dir.file("tiny.safetensors"))
        assertThrowsTensorMessage(
            try SafetensorsFile.open(dir.file("tiny.safetensors")),
            "'tiny.safetensors' is 3 bytes, too short to be a safetensors file (it needs an 8-byte header size)")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "beyond.safetensors", header: Array("{}".utf8), dataLength: 0, declaredLength: 1000)),
            "'beyond.safetensors' declares a 1000-byte header but only 2 bytes follow the size field; the file is truncated or not safetensors"
        )
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(
                    dir, "overlap.safetensors", json: "{" + f32("a", 0, 8, 2) + "," + f32("b", 4, 12, 2) + "," + f32("c", 12, 16, 1) + "}",
                    dataLength: 16)),
            "tensors 'a' and 'b' in 'overlap.safetensors' overlap")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "range.safetensors", json: "{" + f32("a", 0, 8, 2) + "," + f32("b", 8, 16, 2) + "}", dataLength: 12)),
            "tensor 'b' in 'range.safetensors' has data_offsets [8, 16] outside the 12-byte data area")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "reversed.safetensors", json: "{" + f32("a", 8, 0, 2) + "}", dataLength: 8)),
            "tensor 'a' in 'reversed.safetensors' has data_offsets [8, 0] outside the 8-byte data area")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "hole.safetensors", json: "{" + f32("a", 0, 8, 2) + "," + f32("b", 12, 16, 1) + "}", dataLength: 16)),
            "'hole.safetensors' has 4 bytes at data offsets 8..<12 that belong to no tensor")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "tail.safetensors", json: "{" + f32("a", 0, 8, 2) + "}", dataLength: 10)),
            "'tail.safetensors' has 2 bytes at data offsets 8..<10 that belong to no tensor")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "len.safetensors", json: "{" + f32("a", 0, 8, 3) + "}", dataLength: 8)),
            "tensor 'a' in 'len.safetensors' spans 8 bytes but its dtype and shape need 12")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "dtype.safetensors", json: "{\"x\":{\"dtype\":\"Q7\",\"shape\":[1],\"data_offsets\":[0,1]}}", dataLength: 1)),
            "tensor 'x' in 'dtype.safetensors' has unknown dtype 'Q7'")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "f8.safetensors", json: "{\"x\":{\"dtype\":\"F8_E4M3\",\"shape\":[1],\"data_offsets\":[0,1]}}", dataLength: 1)
            ),
            "tensor 'x' in 'f8.safetensors' has dtype F8_E4M3, which .npy cannot hold yet")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "utf8.safetensors", header: Array("{\"a\":\"".utf8) + [0xC3, 0x28] + Array("\"}".utf8), dataLength: 0)),
            "'utf8.safetensors' has a safetensors header that is not valid UTF-8")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "json.safetensors", json: "{\"a\": {\"dtype\": \"F32\",}}", dataLength: 0)),
            "'json.safetensors' has a safetensors header that is not valid JSON: expected a string key at byte 22")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "text.safetensors", json: "hello world", dataLength: 0)),
            "'text.safetensors' has a safetensors header that is not valid JSON: unexpected character 'h' at byte 0")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "array.safetensors", json: "[1, 2]", dataLength: 0)),
            "'array.safetensors' has an invalid safetensors header: the header is an array, not a JSON object")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "meta.safetensors", json: "{\"__metadata__\":{\"epochs\":3}}", dataLength: 0)),
            "'meta.safetensors' has an invalid safetensors header: '__metadata__' entry 'epochs' is a number, not a string")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(makeFile(dir, "fields.safetensors", json: "{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", dataLength: 4)),
            "'fields.safetensors' has an invalid safetensors header: tensor 'a' has no 'data_offsets'")
        assertThrowsTensorMessage(
            try SafetensorsFile.open(
                makeFile(dir, "dup.safetensors", json: "{" + f32("a", 0, 4, 1) + "," + f32("a", 4, 8, 1) + "}", dataLength: 8)),
            "tensor name 'a' appears more than once in 'dup.safetensors'")
    }
}

final class StatisticsAndHashTests: XCTestCase {
    func assertClose(_ a: Double, _ b: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let scale = max(abs(a), abs(b))
        XCTAssertLessThanOrEqual(abs(a - b), 1e-9 * max(scale, 1e-300), "\(what): \(a) vs \(b)", file: file, line: line)
    }

    func testStatisticsMatchNumpy() throws {
        let dir = try TensorTestDir()
        // Large enough (several MiB) that chunk merging is exercised; offset mean stresses stability.
        let output = try TensorTestPython.run(
            """
            import numpy, sys, os
            d = sys.argv[1]
            rng = numpy.random.default_rng(11)
            cases = {
                'f64': (rng.normal(1e6, 3.0, 700000)).astype('<f8'),
                'f32': rng.normal(-2, 5, (300, 1000)).astype('<f4'),
                'f16': rng.normal(0, 10, 5000).astype('<f2'),
                'i32': rng.integers(-10**9, 10**9, 400000).astype('<i4'),
                'u8': rng.integers(0, 256, 3000).astype('|u1'),
                'b': rng.integers(0, 2, 1001).astype(bool),
                'nan': numpy.array([1.0, numpy.nan, 2.0, numpy.inf, -numpy.inf, 4.0], dtype='<f8'),
            }
            for k, a in cases.items():
                numpy.save(os.path.join(d, k + '.npy'), a)
                x = a.astype(numpy.float64).ravel()
                f = x[numpy.isfinite(x)]
                print(k, a.size, a.size - f.size, repr(float(f.min())), repr(float(f.max())), repr(float(f.mean())), repr(float(f.std())), repr(float(numpy.linalg.norm(f))))
            """, [dir.url.path])
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.count, 7)
        for line in lines {
            let parts = line.split(separator: " ").map(String.init)
            let (header, stats) = try TensorStatistics.compute(npyFileAt: dir.file(parts[0] + ".npy"))
            XCTAssertEqual(header.elementCount, Int(parts[1]))
            XCTAssertEqual(stats.count, Int(parts[1]), parts[0])
            XCTAssertEqual(stats.nonFiniteCount, Int(parts[2]), parts[0])
            let expected = parts[3...].compactMap { Double($0) }
            guard expected.count == 5 else {
                XCTFail("unparsable numpy output: \(line)")
                continue
            }
            assertClose(stats.min, expected[0], "\(parts[0]) min")
            assertClose(stats.max, expected[1], "\(parts[0]) max")
            assertClose(stats.mean, expected[2], "\(parts[0]) mean")
            assertClose(stats.std, expected[3], "\(parts[0]) std")
            assertClose(stats.l2Norm, expected[4], "\(parts[0]) l2")
        }
    }

    func testStatisticsFromValues() throws {
        let stats = TensorStatistics.compute(values: [2, 4, 4, 4, 5, 5, 7, 9, .nan])
        XCTAssertEqual(stats.count, 9)
        XCTAssertEqual(stats.nonFiniteCount, 1)
        XCTAssertEqual(stats.min, 2)
        XCTAssertEqual(stats.max, 9)
        XCTAssertEqual(stats.mean, 5)
        XCTAssertEqual(stats.std, 2)
        XCTAssertEqual(stats.l2Norm, (4.0 + 16 + 16 + 16 + 25 + 25 + 49 + 81).squareRoot())
        XCTAssertEqual(
            TensorStatistics.compute(values: []),
            TensorStatistics(count: 0, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 0))
        XCTAssertEqual(
            TensorStatistics.compute(values: [.infinity, .nan]),
            TensorStatistics(count: 2, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 2))
        // Chunked accumulation agrees with one pass.
        var accumulator = TensorStatistics.Accumulator()
        let values = (0..<1000).map { 1e9 + Double($0 % 17) * 0.5 }
        accumulator.add(Array(values[..<333]))
        accumulator.add(Array(values[333...]))
        let whole = TensorStatistics.compute(values: values)
        assertClose(accumulator.result.mean, whole.mean, "mean")
        assertClose(accumulator.result.std, whole.std, "std")

        let dir = try TensorTestDir()
        let empty = dir.file("empty.npy")
        try Npy.data(float64: [], shape: [0, 4]).write(to: empty)
        let (header, emptyStats) = try TensorStatistics.compute(npyFileAt: empty)
        XCTAssertEqual(header.shape, [0, 4])
        XCTAssertEqual(emptyStats, TensorStatistics(count: 0, min: 0, max: 0, mean: 0, std: 0, l2Norm: 0, nonFiniteCount: 0))
    }

    func testSha256MatchesHashlib() throws {
        let dir = try TensorTestDir()
        let url = dir.file("blob.bin")
        let bytes = Data((0..<(3 * 1024 * 1024 + 17)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try bytes.write(to: url)
        let expected = try TensorTestPython.run(
            "import hashlib,sys; print(hashlib.sha256(open(sys.argv[1],'rb').read()).hexdigest())", [url.path])
        XCTAssertEqual(try ContentHash.sha256(fileAt: url) + "\n", expected)
        XCTAssertEqual(ContentHash.sha256(bytes) + "\n", expected)
        XCTAssertEqual(ContentHash.sha256(Data()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(ContentHash.sha256(Data("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(try ContentHash.sha256(fileAt: url, offset: 5, length: 2_000_000), ContentHash.sha256(bytes[5..<2_000_005]))
        try Data().write(to: dir.file("empty"))
        XCTAssertEqual(try ContentHash.sha256(fileAt: dir.file("empty")), ContentHash.sha256(Data()))
    }
}
