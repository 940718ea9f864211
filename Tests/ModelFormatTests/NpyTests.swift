import Foundation
import ModelFormat
import XCTest

final class NpyTests: XCTestCase {
    func testDTypeDescriptors() {
        for dtype in DType.npyTypes {
            XCTAssertEqual(DType(npyDescr: dtype.npyDescr), dtype)
            XCTAssertEqual(DType(safetensorsName: dtype.safetensorsName), dtype)
        }
        XCTAssertEqual(DType.float32.npyDescr, "<f4")
        XCTAssertEqual(DType.int8.npyDescr, "|i1")
        XCTAssertEqual(DType.bool.npyDescr, "|b1")
        XCTAssertEqual(DType.uint8.npyDescr, "|u1")
        XCTAssertEqual(DType(npyDescr: "<i1"), .int8)
        XCTAssertNil(DType(npyDescr: "=f8"))
        XCTAssertNil(DType(npyDescr: ">f8"))
        XCTAssertNil(DType(npyDescr: "|f8"))
        XCTAssertNil(DType(npyDescr: "<c16"))
        XCTAssertEqual(DType(safetensorsName: "BF16"), .bfloat16)
        XCTAssertEqual(DType.bfloat16.npyDescr, "<u2", "numpy has no bfloat16: the bits are stored as uint16")
        XCTAssertEqual(DType.bool.safetensorsName, "BOOL")
        XCTAssertEqual(DType.float16.itemSize, 2)
        XCTAssertEqual(DType.uint64.itemSize, 8)
    }

    /// Every header we encode must be byte-identical to numpy.save's.
    func testHeaderBytesMatchNumpy() throws {
        let shapes: [[Int]] = [[], [3], [2, 3], [0], [1, 2, 3, 4], [123_456_789_012], [7, 0, 5]]
        let script = """
            import numpy, io, sys, json
            from numpy.lib import format as fmt
            out = []
            for descr in sys.argv[1].split(','):
                for shape in json.loads(sys.argv[2]):
                    b = io.BytesIO()
                    if numpy.prod(shape) <= 1000:
                        numpy.save(b, numpy.zeros(shape, dtype=descr))
                        data = b.getvalue()
                        data = data[:int.from_bytes(data[8:10], 'little') + 10]
                    else:
                        # Too big to allocate; this is the header writer numpy.save calls.
                        fmt.write_array_header_1_0(b, {'descr': descr, 'fortran_order': False, 'shape': tuple(shape)})
                        data = b.getvalue()
                    out.append(data.hex())
            print('\\n'.join(out))
            """
        let descrs = DType.npyTypes.map(\.npyDescr)
        let shapesJSON = "[" + shapes.map { "[" + $0.map(String.init).joined(separator: ",") + "]" }.joined(separator: ",") + "]"
        let lines = try TensorTestPython.run(script, [descrs.joined(separator: ","), shapesJSON]).split(separator: "\n")
        XCTAssertEqual(lines.count, descrs.count * shapes.count)
        var index = 0
        for dtype in DType.npyTypes {
            for shape in shapes {
                let ours = NpyHeader.encode(dtype: dtype, shape: shape)
                XCTAssertEqual(tensorTestHex(ours), String(lines[index]), "header for \(dtype.npyDescr) \(shape)")
                XCTAssertEqual(ours.count % 64, 0)
                let parsed = try NpyHeader.parse(prefix: ours, fileName: "h.npy", fileSize: nil)
                XCTAssertEqual(parsed, NpyHeader(dtype: dtype, shape: shape, headerLength: ours.count))
                index += 1
            }
        }
    }

    func testHugeHeaderUsesVersion2() throws {
        let shape = Array(repeating: 1, count: 30_000)
        let header = NpyHeader.encode(dtype: .float32, shape: shape)
        XCTAssertEqual(header[6], 2)
        XCTAssertEqual(header.count % 64, 0)
        let parsed = try NpyHeader.parse(prefix: header + Data(count: 4), fileName: "big.npy", fileSize: header.count + 4)
        XCTAssertEqual(parsed.shape, shape)
        XCTAssertEqual(parsed.headerLength, header.count)
        XCTAssertEqual(parsed.dataLength, 4)
    }

    /// Files we write are byte-identical to numpy.save and load in numpy with the same values.
    func testWrittenFileLoadsInNumpy() throws {
        let dir = try TensorTestDir()
        let values: [Double] = [0, -0.0, 1.5, -2.25, 1e300, 5e-324, .infinity, 0.1, 3.141592653589793, -7]
        let url = dir.file("ours.npy")
        try Npy.data(float64: values, shape: [2, 5]).write(to: url)
        let output = try TensorTestPython.run(
            """
            import numpy, sys
            a = numpy.load(sys.argv[1])
            numpy.save(sys.argv[2], a)
            print(a.dtype.str, a.shape, a.flags['C_CONTIGUOUS'])
            print(' '.join(repr(float(x)) for x in a.ravel()))
            """, [url.path, dir.file("numpy.npy").path])
        let lines = output.split(separator: "\n")
        XCTAssertEqual(lines.first, "<f8 (2, 5) True")
        let loaded = lines[1].split(separator: " ").compactMap { Double(String($0)) }
        XCTAssertEqual(loaded.count, values.count)
        for (a, b) in zip(loaded, values) { XCTAssertEqual(a.bitPattern, b.bitPattern) }
        XCTAssertEqual(try Data(contentsOf: url), try Data(contentsOf: dir.file("numpy.npy")))

        let (header, readBack) = try Npy.values(fileAt: url)
        XCTAssertEqual(header.shape, [2, 5])
        XCTAssertEqual(readBack.map(\.bitPattern), values.map(\.bitPattern))

        // 0-d array.
        let scalar = dir.file("scalar.npy")
        try Npy.data(float64: [42], shape: []).write(to: scalar)
        XCTAssertEqual(
            try TensorTestPython.run("import numpy,sys; a=numpy.load(sys.argv[1]); print(a.shape, float(a))", [scalar.path]), "() 42.0\n")
    }

    /// numpy-written files of every dtype (and format versions 2.0 and 3.0) give numpy's values.
    func testNumpyWrittenFilesParse() throws {
        let dir = try TensorTestDir()
        try TensorTestPython.run(
            """
            import numpy, sys, os
            from numpy.lib import format as fmt
            d = sys.argv[1]
            rng = numpy.random.default_rng(7)
            base = numpy.concatenate([rng.normal(0, 1000, 50), [0, -1, 1, 127, -128, 255, 65504, -65504]])
            for descr in sys.argv[2].split(','):
                dt = numpy.dtype(descr)
                if dt.kind == 'b':
                    a = rng.integers(0, 2, 37).astype(bool)
                elif dt.kind in 'iu':
                    info = numpy.iinfo(dt)
                    a = numpy.concatenate([[info.min, info.max, 0, 1], rng.integers(info.min, info.max, 40, dtype=dt, endpoint=True)]).astype(dt)
                else:
                    a = base.astype(dt)
                    a = numpy.concatenate([a, numpy.array([numpy.inf, -numpy.inf, numpy.nan], dtype=dt)])
                a = a.reshape((1, -1)) if a.size % 2 else a.reshape((2, -1))
                name = descr.replace('<', 'le_').replace('|', 'na_')
                numpy.save(os.path.join(d, name + '.npy'), a)
                numpy.save(os.path.join(d, name + '.expected.npy'), a.astype(numpy.float64))
            a = numpy.arange(12, dtype='<i4').reshape(3, 4)
            for v in [(2, 0), (3, 0)]:
                with open(os.path.join(d, 'v%d.npy' % v[0]), 'wb') as f:
                    fmt.write_array(f, a, version=v)
            """, [dir.url.path, DType.npyTypes.map(\.npyDescr).joined(separator: ",")])
        for dtype in DType.npyTypes {
            let name = dtype.npyDescr.replacingOccurrences(of: "<", with: "le_").replacingOccurrences(of: "|", with: "na_")
            let (header, values) = try Npy.values(fileAt: dir.file(name + ".npy"))
            let (expectedHeader, expected) = try Npy.values(fileAt: dir.file(name + ".expected.npy"))
            XCTAssertEqual(header.dtype, dtype)
            XCTAssertEqual(header.shape, expectedHeader.shape)
            XCTAssertEqual(values.count, expected.count)
            for (index, (a, b)) in zip(values, expected).enumerated() where !(a.isNaN && b.isNaN) {
                XCTAssertEqual(a.bitPattern, b.bitPattern, "\(dtype) element \(index): \(a) vs \(b)")
            }
            // The in-memory path agrees with the streaming one.
            let (_, inMemory) = try Npy.values(from: Data(contentsOf: dir.file(name + ".npy")), fileName: name)
            XCTAssertEqual(inMemory.map(\.bitPattern), values.map(\.bitPattern))
        }
        for version in [2, 3] {
            let url = dir.file("v\(version).npy")
            XCTAssertEqual(try Data(contentsOf: url)[6], UInt8(version))
            let (header, values) = try Npy.values(fileAt: url)
            XCTAssertEqual(header.dtype, .int32)
            XCTAssertEqual(header.shape, [3, 4])
            XCTAssertEqual(values, (0..<12).map(Double.init))
        }
    }

    func testFloat16DecodingMatchesNumpyForEveryBitPattern() throws {
        let dir = try TensorTestDir()
        try TensorTestPython.run(
            """
            import numpy, sys
            a = numpy.arange(65536, dtype='<u2').view('<f2')
            numpy.save(sys.argv[1], a)
            numpy.save(sys.argv[2], a.astype(numpy.float64))
            """, [dir.file("half.npy").path, dir.file("double.npy").path])
        let (header, halves) = try Npy.values(fileAt: dir.file("half.npy"))
        let (_, doubles) = try Npy.values(fileAt: dir.file("double.npy"))
        XCTAssertEqual(header.dtype, .float16)
        XCTAssertEqual(halves.count, 65536)
        var mismatches = 0
        for (a, b) in zip(halves, doubles) where !(a.isNaN && b.isNaN) && a.bitPattern != b.bitPattern {
            mismatches += 1
        }
        XCTAssertEqual(mismatches, 0)

        // Spot checks that do not depend on numpy.
        func half(_ bits: UInt16) throws -> Double {
            var data = NpyHeader.encode(dtype: .float16, shape: [1])
            data.append(contentsOf: [UInt8(bits & 0xFF), UInt8(bits >> 8)])
            return try Npy.values(from: data, fileName: "h.npy").values[0]
        }
        XCTAssertEqual(try half(0x3C00), 1)
        XCTAssertEqual(try half(0xC000), -2)
        XCTAssertEqual(try half(0x7BFF), 65504)
        XCTAssertEqual(try half(0x0001), 0x1p-24)
        XCTAssertEqual(try half(0x03FF), 1023 * 0x1p-24)
        XCTAssertEqual(try half(0x0400), 0x1p-14)
        XCTAssertEqual(try half(0x3555), 0.333251953125)
        XCTAssertEqual(try half(0x7C00), .infinity)
        XCTAssertEqual(try half(0xFC00), -.infinity)
        XCTAssertTrue(try half(0x7E00).isNaN)
        XCTAssertEqual(try half(0x8000).bitPattern, (-0.0 as Double).bitPattern)
    }

    func testHeaderDictSyntaxVariants() throws {
        func file(_ dict: String, body: Int, version: UInt8 = 1) -> Data {
            var bytes = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
            let text = Array(dict.utf8)
            if version == 1 {
                bytes.append(contentsOf: [UInt8(text.count & 0xFF), UInt8(text.count >> 8)])
            } else {
                bytes.append(contentsOf: [UInt8(text.count & 0xFF), UInt8(text.count >> 8), 0, 0])
            }
            return bytes + text + Data(count: body)
        }
        let variants = [
            "{'shape': (2, 3), 'fortran_order': False, 'descr': '<i2'}\n",
            "{ \"descr\" : \"<i2\" ,\n 'shape':(2,3,),'fortran_order':False }",
            "{'descr': '<i2', 'fortran_order': False, 'shape': (2L, 3L), }   \n",
        ]
        for dict in variants {
            let header = try NpyHeader.parse(prefix: file(dict, body: 12), fileName: "v.npy", fileSize: nil)
            XCTAssertEqual(header.dtype, .int16, dict)
            XCTAssertEqual(header.shape, [2, 3], dict)
            XCTAssertEqual(header.elementCount, 6)
            XCTAssertEqual(header.dataLength, 12)
        }
        let one = try NpyHeader.parse(
            prefix: file("{'descr':'|u1','fortran_order':False,'shape':(5,)}", body: 5), fileName: "v.npy", fileSize: nil)
        XCTAssertEqual(one.shape, [5])
        let v3Dict = "{'descr':'<f2','fortran_order':False,'shape':()}"
        let v3 = try NpyHeader.parse(prefix: file(v3Dict, body: 2, version: 3), fileName: "v.npy", fileSize: 12 + v3Dict.utf8.count + 2)
        XCTAssertEqual(v3.shape, [])
        XCTAssertEqual(v3.elementCount, 1)

        assertThrowsTensorMessage(
            try NpyHeader.parse(
                prefix: file("{'descr': '<i2', 'fortran_order': False, 'shape': (2, -3), }", body: 0), fileName: "neg.npy", fileSize: nil),
            "'neg.npy' has a negative dimension in shape (2, -3)")
        assertThrowsTensorMessage(
            try NpyHeader.parse(
                prefix: file("{'descr': [('a', '<i4'), ('b', '<f8')], 'fortran_order': False, 'shape': (2,), }", body: 24),
                fileName: "rec.npy", fileSize: nil),
            "'rec.npy' has a structured dtype; save each field as its own array")
        assertThrowsTensorMessage(
            try NpyHeader.parse(
                prefix: file("{'descr': '<c16', 'fortran_order': False, 'shape': (2,), }", body: 32), fileName: "c.npy", fileSize: nil),
            "'c.npy' has unsupported dtype '<c16'; supported dtypes are <f2, <f4, <f8, |i1, <i2, <i4, <i8, |u1, <u2, <u4, <u8, |b1")
        assertThrowsTensorMessage(
            try NpyHeader.parse(
                prefix: file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,) ", body: 8), fileName: "open.npy", fileSize: nil),
            "'open.npy' has a malformed .npy header: the header ends before the dict is closed")
        assertThrowsTensorMessage(
            try NpyHeader.parse(prefix: file("{'descr': '<f4', 'shape': (2,)}", body: 8), fileName: "keys.npy", fileSize: nil),
            "'keys.npy' has a malformed .npy header: keys must be 'descr', 'fortran_order' and 'shape' (missing 'fortran_order')")
        assertThrowsTensorMessage(
            try NpyHeader.parse(
                prefix: file("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)}", body: 8, version: 4), fileName: "v4.npy",
                fileSize: nil),
            "'v4.npy' uses .npy format version 4.0; only 1.0, 2.0 and 3.0 are supported")
    }

    func testBadNpyFilesAreRefusedWithSpecificMessages() throws {
        let dir = try TensorTestDir()
        try TensorTestPython.run(
            """
            import numpy, sys, os
            d = sys.argv[1]
            numpy.save(os.path.join(d, 'w.npy'), numpy.asfortranarray(numpy.arange(6.0).reshape(2, 3)))
            numpy.save(os.path.join(d, 'obj.npy'), numpy.array([1, 'a', None], dtype=object), allow_pickle=True)
            numpy.save(os.path.join(d, 'be.npy'), numpy.arange(3, dtype='>f8'))
            numpy.save(os.path.join(d, 'ok.npy'), numpy.arange(10, dtype='<f4'))
            """, [dir.url.path])
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("w.npy")),
            "'w.npy' is stored in Fortran order; save it with numpy.ascontiguousarray first")
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("obj.npy")),
            "'obj.npy' holds Python objects (dtype '|O'); save a numeric array instead")
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("be.npy")),
            "'be.npy' has big-endian dtype '>f8'; save it with a.astype(a.dtype.newbyteorder('<')) first")

        let ok = try Data(contentsOf: dir.file("ok.npy"))
        XCTAssertEqual(try NpyHeader.read(fileAt: dir.file("ok.npy")), NpyHeader(dtype: .float32, shape: [10], headerLength: 128))

        try ok.prefix(ok.count - 3).write(to: dir.file("cut.npy"))
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("cut.npy")),
            "'cut.npy' is truncated: its header promises 40 data bytes but only 37 follow")
        assertThrowsTensorMessage(
            try Npy.values(fileAt: dir.file("cut.npy")),
            "'cut.npy' is truncated: its header promises 40 data bytes but only 37 follow")

        try (ok + Data([1, 2])).write(to: dir.file("tail.npy"))
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("tail.npy")),
            "'tail.npy' has 2 unexpected bytes after the array data")

        try ok.prefix(50).write(to: dir.file("head.npy"))
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("head.npy")),
            "'head.npy' ends inside its .npy header; the file is truncated")

        var bad = ok
        bad[1] = UInt8(ascii: "X")
        try bad.write(to: dir.file("magic.npy"))
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("magic.npy")),
            "'magic.npy' is not a .npy file (it does not start with \\x93NUMPY)")
        assertThrowsTensorMessage(
            try Npy.values(from: Data("PK\u{3}\u{4}".utf8), fileName: "zip.npy"),
            "'zip.npy' is not a .npy file (it does not start with \\x93NUMPY)")
        assertThrowsTensorMessage(
            try Npy.values(from: Data(), fileName: "empty.npy"),
            "'empty.npy' is not a .npy file (it does not start with \\x93NUMPY)")
        assertThrowsTensorMessage(
            try NpyHeader.read(fileAt: dir.file("missing.npy")),
            "cannot read 'missing.npy': no such file")
    }
}

func tensorTestHex(_ data: Data) -> String {
    data.map { String(format: "%02x", $0) }.joined()
}
