import Foundation
import XCTest

@testable import ModelFormat

final class ManifestTests: XCTestCase {
    static let sample = Manifest(
        name: "churn", version: "v3.0.0", task: "regression", algorithm: "linear-regression",
        hyperparameters: .map([
            ("fit_intercept", .bool(true)), ("alpha", .double(1e-05)), ("layers", .list([.int(4), .int(2)])),
            ("note", .string("yes: quoted # not a comment")),
        ]),
        features: [.init(name: "x", type: "float64"), .init(name: "y", type: "float64")],
        target: .init(name: "price", type: "float64"),
        lineage: .init(
            data: [.init(path: "data/train.csv", role: "train", sha256: String(repeating: "a", count: 64), rows: 100)],
            split: .map([("test_size", .double(0.2)), ("seed", .int(42))]),
            codeCommit: String(repeating: "b", count: 40), codeBranch: "main", codeDirty: true,
            command: "mv train churn --data 'my file.csv'", seed: 42, mvVersion: "0.1.0",
            startedAt: "2026-11-29T01:00:00Z", durationSeconds: 1.25, host: "host-1"),
        params: [
            .init(
                name: "coef", file: "params/coef.npy", dtype: "float64", shape: [2], bytes: 144,
                sha256: String(repeating: "c", count: 64), min: -1.5, max: 3, mean: 0.75, std: 2.25, l2Norm: 3.3541019662496847)
        ])

    func testRoundTrip() throws {
        let text = Self.sample.yaml()
        XCTAssertEqual(try Manifest.parse(text), Self.sample)
        XCTAssertEqual(try Manifest.parse(text).yaml(), text, "writing is stable")
    }

    func testChunkedTensorsRoundTripAndNameTheirChunks() throws {
        var manifest = Self.sample
        manifest.params[0].bytes = 100_000_128
        manifest.params[0].chunkBytes = 33_554_432
        let text = manifest.yaml()
        XCTAssertTrue(text.contains("  chunk_bytes: 33554432\n"), text)
        XCTAssertEqual(try Manifest.parse(text), manifest)
        XCTAssertEqual(manifest.params[0].chunkNames, ["000000", "000001", "000002"])
        XCTAssertEqual(manifest.params[0].chunkFolder, "params/coef.npy.chunks")
        XCTAssertFalse(Self.sample.yaml().contains("chunk_bytes"), "a whole tensor has no chunk_bytes")
        XCTAssertThrowsError(
            try Manifest.parse(text.replacingOccurrences(of: "chunk_bytes: 33554432", with: "chunk_bytes: 0"), source: "model.yaml")
        ) {
            XCTAssertTrue("\($0)".contains("field 'params[0].chunk_bytes' must be a positive number of bytes"), "\($0)")
        }
    }

    func testKeysComeInAFixedOrder() throws {
        let keys = Self.sample.yaml().split(separator: "\n").filter { !$0.hasPrefix(" ") && !$0.hasPrefix("-") && !$0.hasPrefix("#") }
            .map { String($0.prefix { $0 != ":" }) }
        XCTAssertEqual(
            keys, ["format", "name", "version", "task", "algorithm", "hyperparameters", "features", "target", "lineage", "params"])
    }

    func testPyYAMLReadsTheSameValues() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("manifest-\(UUID().uuidString).yaml")
        try Data(Self.sample.yaml().utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import yaml, sys
            m = yaml.safe_load(open(sys.argv[1]))
            h = m['hyperparameters']
            assert h['alpha'] == 1e-05 and isinstance(h['alpha'], float), h
            assert h['fit_intercept'] is True and h['layers'] == [4, 2] and h['note'] == 'yes: quoted # not a comment', h
            assert m['params'][0]['max'] == 3.0 and isinstance(m['params'][0]['max'], float)
            assert m['lineage']['command'] == "mv train churn --data 'my file.csv'"
            assert m['lineage']['started_at'] == '2026-11-29T01:00:00Z', repr(m['lineage']['started_at'])
            print('ok')
            """, url.path,
        ]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "ok\n")
    }

    func testMalformedManifestsNameTheProblem() throws {
        let cases: [(String, String)] =
            [
                ("format: 1\nname: [unclosed\n", "is not valid YAML (line"),
                ("format: 2\n", "uses manifest format 2"),
                ("format: 1\nname: a\n", "has no 'version' field"),
                (
                    Self.sample.yaml().replacingOccurrences(of: "shape: [2]", with: "shape: [-2]"),
                    "field 'params[0].shape' must be a list of non-negative integers"
                ),
                (
                    Self.sample.yaml().replacingOccurrences(of: "dirty: true", with: "dirty: maybe"),
                    "field 'lineage.code.dirty' must be true or false"
                ),
            ]
            // mv writes tensors at these paths: none may leave params/.
            + [
                "params/../../evil.npy", "../evil.npy", "coef.npy", "params/sub/coef.npy", "params/.npy", "params/coef.txt",
                "params/..\\x.npy",
            ].map {
                (
                    Self.sample.yaml().replacingOccurrences(of: "file: params/coef.npy", with: "file: '\($0)'"),
                    "field 'params[0].file' must be params/<name>.npy, a file directly inside params/"
                )
            }
        for (text, expected) in cases {
            XCTAssertThrowsError(try Manifest.parse(text, source: "model.yaml")) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
                XCTAssertFalse("\(error)".contains("\n"))
            }
        }
    }

    func testDoublesAlwaysReadBackAsFloats() {
        XCTAssertEqual(YAMLValue.format(3), "3.0")
        XCTAssertEqual(YAMLValue.format(1e-05), "1.0e-05")
        XCTAssertEqual(YAMLValue.format(1e20), "1.0e+20")
        XCTAssertEqual(YAMLValue.format(-.infinity), "-.inf")
        XCTAssertEqual(YAMLValue.format(.nan), ".nan")
        XCTAssertEqual(YAMLValue.format(0.1), "0.1")
    }

    /// Strings are written plain only where every YAML reader gets the same string back;
    /// anything that would read as a number, boolean or null, or holds other bytes, is quoted.
    func testStringsReadBackAsTheSameStrings() throws {
        let expected: [(String, String)] = [
            ("layer.0.weight", "layer.0.weight"), ("params/coef.npy", "params/coef.npy"), ("a b", "a b"),
            ("F32", "F32"), ("v1.0.0", "v1.0.0"), ("user@host", "user@host"), ("x+y", "x+y"),
            ("", "\"\""), ("12", "\"12\""), ("1.5", "\"1.5\""), ("1e5", "\"1e5\""), ("inf", "\"inf\""), ("NaN", "\"NaN\""),
            ("0x1F", "\"0x1F\""), ("Yes", "\"Yes\""), ("off", "\"off\""), ("N", "\"N\""), ("NULL", "\"NULL\""), ("~", "\"~\""),
            ("-x", "\"-x\""), (" x", "\" x\""), ("x ", "\"x \""), ("@x", "\"@x\""), (".x", "\".x\""),
            ("a:b", "\"a:b\""), ("a#b", "\"a#b\""), ("é", "\"é\""), ("a\"b\\c", "\"a\\\"b\\\\c\""), ("t\tn\n", "\"t\\tn\\n\""),
            ("\u{7}", "\"\\x07\""),
        ]
        for (string, text) in expected {
            XCTAssertEqual(YAMLValue.scalarText(string), text, string)
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aZ09_-./@+ :#\"'\\\t\nyYnNeE~[]{},&*!|>%`éü€😀")
        var strings = expected.map(\.0) + ["true", "false", "null", "yes", "no", "on", "y", "-1", "+1", "1_000", ".5", "0o17", "Infinity"]
        for _ in 0..<2_000 {
            strings.append(
                String((0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" }))
        }
        for string in strings {
            let document = YAMLValue.map([("key", .string(string)), ("list", .list([.string(string), .int(1)]))]).yamlDocument()
            XCTAssertEqual(
                try YAMLValue.parse(document, source: "x"),
                .map([("key", .string(string)), ("list", .list([.string(string), .int(1)]))]), document)
        }
    }

    /// Every document mv writes reads back equal, whatever nests in what: lists of lists
    /// longer than the 16 items written on one line, maps in lists, empty containers.
    func testNestedDocumentsReadBackAsWritten() throws {
        // The case that broke: a 20-class confusion matrix, a list of 20 lists of 20.
        let matrix = YAMLValue.list((0..<20).map { row in .list((0..<20).map { .int($0 * row) }) })
        let report = YAMLValue.map([("confusion", .map([("counts", matrix)])), ("layers", .list([.list((0..<17).map { .int($0) })]))])
        XCTAssertEqual(try YAMLValue.parse(report.yamlDocument(), source: "x"), report, report.yamlDocument())

        var generator = SystemRandomNumberGenerator()
        func value(depth: Int) -> YAMLValue {
            let scalars: [YAMLValue] = [
                .int(Int.random(in: -5...5, using: &generator)), .double(0.25), .bool(true), .null, .string("a b"), .string(""),
            ]
            guard depth < 4, Int.random(in: 0..<3, using: &generator) > 0 else { return scalars.randomElement(using: &generator) ?? .null }
            let count = [0, 1, 2, 17, 20].randomElement(using: &generator) ?? 1
            if Bool.random(using: &generator) {
                return .list((0..<count).map { _ in value(depth: depth + 1) })
            }
            return .map((0..<min(count, 5)).map { ("k\($0)", value(depth: depth + 1)) })
        }
        for _ in 0..<500 {
            let document = YAMLValue.map([("root", value(depth: 0))])
            XCTAssertEqual(try YAMLValue.parse(document.yamlDocument(), source: "x"), document, document.yamlDocument())
        }
    }

    func testEvaluationReportRoundTrip() throws {
        let report = EvaluationReport(
            metrics: [("rmse", 0.5), ("r2", 0.99)], model: "churn", version: "v1.0.0",
            dataset: .init(path: "d.csv", role: "evaluation", sha256: "abc", rows: 20),
            selection: "held out 20 of 100 rows", evaluatedAt: "2026-11-29T01:00:00Z")
        XCTAssertEqual(try EvaluationReport.parse(report.yaml(), source: "holdout.yaml"), report)
        XCTAssertTrue(report.yaml().hasPrefix("metrics:\n  rmse: 0.5\n  r2: 0.99\n"))
        var classified = report
        classified.confusion = (["no", "yes"], [[40, 5], [7, 48]])
        XCTAssertTrue(
            classified.yaml().contains("confusion_matrix:\n  classes: [\"no\", \"yes\"]\n  counts:\n  - [40, 5]\n  - [7, 48]\n"),
            classified.yaml())
        XCTAssertEqual(try EvaluationReport.parse(classified.yaml(), source: "holdout.yaml"), classified)
        XCTAssertNotEqual(try EvaluationReport.parse(report.yaml(), source: "holdout.yaml"), classified)

        // What mv report draws: a sample of rows (six significant digits) and ROC curves.
        var sampled = report
        sampled.sample = EvaluationReport.Sample(
            rows: 20, feature: "x", x: [1.23456789, 2], actual: [3, 4.5], predicted: [3.1, 4.4])
        sampled.roc = [EvaluationReport.ROCCurve(label: "yes", auc: 0.75, fpr: [0, 0.5, 1], tpr: [0, 1, 1])]
        let text = sampled.yaml()
        XCTAssertTrue(text.contains("sample:\n  rows: 20\n  feature: x\n  x: [1.23457, 2.0]\n"), text)
        XCTAssertTrue(text.contains("roc:\n- class: \"yes\"\n  auc: 0.75\n  fpr: [0.0, 0.5, 1.0]\n"), text)
        let parsed = try EvaluationReport.parse(text, source: "holdout.yaml")
        XCTAssertEqual(parsed.sample?.x, [1.23457, 2])
        XCTAssertEqual(parsed.sample?.predicted, [3.1, 4.4])
        XCTAssertEqual(parsed.roc, sampled.roc)
        XCTAssertEqual(EvaluationReport.Sample.indices(count: 3), [0, 1, 2])
        XCTAssertEqual(EvaluationReport.Sample.indices(count: 2500).count, 1000)
        XCTAssertEqual(EvaluationReport.Sample.indices(count: 2500).prefix(3), [0, 2, 5])

        for (broken, problem) in [
            (text.replacingOccurrences(of: "predicted: [3.1, 4.4]", with: "predicted: [3.1]"), "one value per sampled row"),
            (text.replacingOccurrences(of: "rows: 20", with: "rows: 1"), "at most 1000 and no more than rows"),
            (text.replacingOccurrences(of: "tpr: [0.0, 1.0, 1.0]", with: "tpr: [0.0, 1.0, 1.5]"), "rates between 0 and 1"),
            (text.replacingOccurrences(of: "x: [1.23457, 2.0]", with: "x: [1.23457, .nan]"), "must be a list of numbers"),
        ] {
            XCTAssertThrowsError(try EvaluationReport.parse(broken, source: "holdout.yaml"), problem) { error in
                XCTAssertTrue("\(error)".contains(problem), "\(error)")
            }
        }
    }
}

final class YAMLResolutionTests: XCTestCase {
    func testPlainScalarsResolveLikeYAML12AndNeverTrap() throws {
        // Found by fuzzing: Yams' YAML 1.1 base-60 integers overflowed and trapped.
        XCTAssertEqual(
            try YAMLValue.parse("8888888888888888:8444444444444:8888888888:888888878888887", source: "x"),
            .string("8888888888888888:8444444444444:8888888888:888888878888887"))
        XCTAssertEqual(
            try YAMLValue.parse(
                "a: 12\nb: -3.5\nc: 1.0e-05\nd: .inf\ne: yes\nf: ~\ng: 0x1F\nh: 99999999999999999999\ni: true", source: "x"),
            .map([
                ("a", .int(12)), ("b", .double(-3.5)), ("c", .double(1e-05)), ("d", .double(.infinity)), ("e", .string("yes")),
                ("f", .null), ("g", .string("0x1F")), ("h", .double(1e20)), ("i", .bool(true)),
            ]))
    }
}
