import Foundation
import TestSupport
import XCTest

/// `mv train <model> -- <command>`: the user's own training program.
final class CommandTrainingTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(try mv("init").status, 0)
    }

    func testNpyAndSafetensorsOutputsAreValidatedAndCommitted() throws {
        _ = try write(
            """
            import json, os, sys, numpy
            out = os.environ['MV_OUTPUT_DIR']
            os.makedirs(os.path.join(out, 'params'))
            numpy.save(os.path.join(out, 'params', 'w.npy'), numpy.arange(6, dtype=numpy.float32).reshape(2, 3))
            open(os.path.join(out, 'metrics.json'), 'w').write(json.dumps({'rmse': 0.25, 'r2': 0.9}))
            open(os.path.join(out, 'hyperparameters.yaml'), 'w').write('lr: 0.01\\nlayers: [4, 2]\\n')
            open(os.path.join(out, 'env.txt'), 'w').write(os.environ['MV_MODEL'] + ' ' + os.environ['MV_VERSION'])
            print('trained', os.environ['MV_MODEL'], os.environ['MV_VERSION'], os.environ['MV_SEED'])
            """, to: "train.py")
        _ = try write(Self.linearCSV(rows: 10), to: "data.csv")
        let result = try mv("train", "net", "--data", "data.csv", "--seed", "5", "--", "python3", "train.py")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("trained net v1.0.0 5"), "the command's own output reaches the user: \(result.stdout)")
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", "HEAD", "models/net").split(separator: "\n"),
            [
                "models/net/README.md", "models/net/eval/train.yaml", "models/net/model.yaml", "models/net/params/w.npy",
            ])
        let manifest = try git("show", "HEAD:models/net/model.yaml")
        XCTAssertTrue(manifest.contains("algorithm: custom"), manifest)
        XCTAssertTrue(manifest.contains("command: python3 train.py"), manifest)
        XCTAssertTrue(manifest.contains("dtype: float32"), manifest)
        XCTAssertTrue(manifest.contains("shape: [2, 3]"), manifest)
        XCTAssertTrue(manifest.contains("layers: [4, 2]"), manifest)
        XCTAssertTrue(manifest.contains("path: data.csv"), manifest)
        XCTAssertTrue(try git("log", "-1", "--format=%s").hasPrefix("net v1.0.0: rmse 0.25, r2 0.9"))
        XCTAssertEqual(try git("status", "--porcelain").split(separator: "\n"), ["?? data.csv", "?? train.py"])

        // A safetensors file becomes one .npy per tensor.
        _ = try write(
            """
            import os, struct, json, numpy
            out = os.environ['MV_OUTPUT_DIR']
            a = numpy.arange(4, dtype='<f4'); b = numpy.array([[1, 2], [3, 4]], dtype='<i8')
            header = {'a': {'dtype': 'F32', 'shape': [4], 'data_offsets': [0, 16]},
                      'b': {'dtype': 'I64', 'shape': [2, 2], 'data_offsets': [16, 48]}}
            h = json.dumps(header).encode()
            with open(os.path.join(out, 'model.safetensors'), 'wb') as f:
                f.write(struct.pack('<Q', len(h))); f.write(h); f.write(a.tobytes()); f.write(b.tobytes())
            """, to: "st.py")
        try git("add", "train.py", "st.py")
        try git("commit", "-q", "-m", "scripts")
        let second = try mv("train", "net", "--", "python3", "st.py")
        XCTAssertEqual(second.status, 0, second.stderr)
        XCTAssertEqual(
            try git("ls-tree", "-r", "--name-only", "HEAD", "models/net/params").split(separator: "\n"),
            ["models/net/params/a.npy", "models/net/params/b.npy"])
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import numpy
                a = numpy.load('models/net/params/a.npy'); b = numpy.load('models/net/params/b.npy')
                assert a.dtype == numpy.float32 and list(a) == [0, 1, 2, 3]
                assert b.dtype == numpy.int64 and b.tolist() == [[1, 2], [3, 4]]
                print('ok')
                """,
            ], in: root)
        XCTAssertEqual(check.stdout, "ok\n", check.stderr)
        try git("fsck", "--strict")
    }

    func testFailingCommandCommitsNothingAndPassesItsStatusThrough() throws {
        _ = try write(
            "import os, numpy\nnumpy.save(os.environ['MV_OUTPUT_DIR'] + '/w.npy', numpy.zeros(3))\nraise SystemExit(3)\n", to: "fail.py")
        let before = try snapshot()
        let result = try mv("train", "net", "--", "python3", "fail.py")
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(
            result.stderr.split(separator: "\n").last, "mv: error: training command 'python3' exited with status 3; nothing was committed")
        XCTAssertEqual(try snapshot(), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: root.appendingPathComponent("models/net").path))
    }

    func testCommandWithoutParametersIsRefused() throws {
        _ = try write("import os\nopen(os.environ['MV_OUTPUT_DIR'] + '/metrics.yaml', 'w').write('rmse: 1.0\\n')\n", to: "noparams.py")
        let before = try snapshot()
        let result = try mv("train", "net", "--", "python3", "noparams.py")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(
            result.stderr.hasPrefix("mv: error: training command 'python3' wrote no parameters; nothing was committed\n"), result.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testMalformedOutputsAreRefused() throws {
        let cases: [(String, String)] = [
            ("numpy.save(out + '/w.npy', numpy.zeros((2, 2)).T.copy(order='F'))", "Fortran order"),
            ("numpy.save(out + '/w.npy', numpy.zeros(2)); open(out + '/metrics.yaml', 'w').write('rmse: [1, 2\\n')", "not valid YAML"),
            ("numpy.save(out + '/w.npy', numpy.zeros(2)); open(out + '/metrics.yaml', 'w').write('rmse: fast\\n')", "metric 'rmse'"),
            ("open(out + '/w.npy', 'wb').write(b'not a numpy file')", "w.npy"),
            ("open(out + '/m.safetensors', 'wb').write(b'\\xff' * 16)", "m.safetensors"),
        ]
        for (index, (body, expected)) in cases.enumerated() {
            _ = try write("import os, numpy\nout = os.environ['MV_OUTPUT_DIR']\n\(body)\n", to: "bad\(index).py")
            let before = try snapshot()
            let result = try mv("train", "net", "--", "python3", "bad\(index).py")
            XCTAssertNotEqual(result.status, 0, body)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertTrue(lines.first?.hasPrefix("mv: error: ") == true, result.stderr)
            XCTAssertTrue(lines.count <= 2, "one error line (and a hint at most): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(body): \(result.stderr)")
            XCTAssertEqual(try snapshot(), before, body)
        }
    }
}
