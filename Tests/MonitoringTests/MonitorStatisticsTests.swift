import Foundation
import TestSupport
import XCTest

/// `mv monitor`'s drift statistics judged by an implementation written in Python from
/// docs/MONITORING.md §1–§3 alone (Python/monitor_reference.py), which also checks the
/// reference profile against the training rows and mv's KS, chi-square and Jensen–Shannon
/// figures against scipy on the raw data. Models are trained with `--test-size 0` (all but
/// one), so the training rows are the whole file and the judge can read them.
final class MonitorStatisticsTests: GitTestCase {
    static let judge = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Python/monitor_reference.py")

    /// Whether python3 can import what the judge needs; asked once (scipy.stats alone takes
    /// a second or two to import, so it and scipy.spatial are only looked up).
    static let pythonReady: Bool = {
        let probe = """
            import importlib.util, sys
            import numpy, scipy.special, yaml
            sys.exit(not all(importlib.util.find_spec(m) for m in ("scipy.stats", "scipy.spatial.distance")))
            """
        return (try? run(["python3", "-c", probe], in: FileManager.default.temporaryDirectory))?.status == 0
    }()

    override func setUpWithError() throws {
        try super.setUpWithError()
        guard Self.pythonReady else {
            throw XCTSkip("python3 with numpy, scipy and PyYAML is needed to judge mv monitor: pip install numpy scipy pyyaml")
        }
        try initRegistry()
        _ = try write(Self.generator, to: "generate.py")
    }

    /// Tables of the same eight features: norm (normal), logn (lognormal), k3 (only 1, 2 and
    /// 5: compared as categories), k5 (0 to 4), miss (normal, 10 % missing in every spelling
    /// of missing), big (80 Zipf-like categories: 50 stored and `other`), small (3 categories),
    /// flag (yes or no: the z-test); target y. `drift` moves norm by half a deviation, widens
    /// logn, shifts k3 (and adds the value 3: still 4 values), adds 7 to k5 (6 values with the
    /// reference's: a numeric column then), changes small's and flag's shares and miss's
    /// missing share (not its values); `unseen` adds labels new to big and small. Values have
    /// 6 decimals unless `full`.
    static let generator = #"""
        import sys
        import numpy as np

        def table(path, n, seed, drift=False, unseen=False, digits=6):
            r = np.random.default_rng(seed)
            norm = r.normal(11.0 if drift else 10.0, 2.0, n)
            logn = r.lognormal(0.0, 0.8 if drift else 0.5, n)
            k3 = r.choice([1, 2, 3, 5] if drift else [1, 2, 5], n, p=[0.2, 0.3, 0.1, 0.4] if drift else [0.5, 0.3, 0.2])
            miss = r.normal(0.0, 1.0, n)
            gone = r.random(n) < (0.3 if drift else 0.1)
            weights = 1.0 / np.arange(1, 81)
            big = r.choice([f"c{i:02d}" for i in range(80)], n, p=weights / weights.sum())
            small = r.choice(["red", "green", "blue"], n, p=[0.2, 0.3, 0.5] if drift else [0.5, 0.3, 0.2])
            if unseen:
                big = np.where(r.random(n) < 0.1, np.array([f"new{i}" for i in r.integers(0, 5, n)]), big)
                small = np.where(r.random(n) < 0.05, np.where(r.random(n) < 0.5, "purple", "teal"), small)
            y = 0.5 * norm + logn + k3 + r.normal(0.0, 1.0, n)
            k5 = r.choice([0, 1, 2, 3, 4, 7] if drift else [0, 1, 2, 3, 4], n, p=[0.2, 0.2, 0.2, 0.1, 0.1, 0.2] if drift else [0.2] * 5)
            flag = r.choice(["yes", "no"], n, p=[0.5, 0.5] if drift else [0.7, 0.3])
            tokens = ["", "NA", "N/A", "NaN", "nan", "NAN", "null", "NULL", " NA "]
            f = (lambda v: f"{v:.{digits}f}") if digits else (lambda v: repr(float(v)))
            with open(path, "w") as out:
                out.write("norm,logn,k3,k5,miss,big,small,flag,y\n")
                for i in range(n):
                    m = tokens[i % len(tokens)] if gone[i] else f(miss[i])
                    out.write(f"{f(norm[i])},{f(logn[i])},{k3[i]},{k5[i]},{m},{big[i]},{small[i]},{flag[i]},{y[i]:.6f}\n")

        for spec in sys.argv[1:]:
            path, n, seed, *flags = spec.split(":")
            table(path, int(n), int(seed), drift="drift" in flags, unseen="unseen" in flags, digits=0 if "full" in flags else 6)
        """#

    /// Writes tables, each "file:rows:seed[:drift][:unseen][:full]".
    func generate(_ specs: String...) throws {
        let result = try Self.run(["python3", "generate.py"] + specs, in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
    }

    func train(_ model: String, on data: String) throws {
        try mvOK("train", model, "--data", data, "--target", "y", "--algorithm", "ridge", "--impute", "mean", "--test-size", "0")
        let reference = try String(contentsOf: root.appendingPathComponent("models/\(model)/reference.yaml"), encoding: .utf8)
        XCTAssertTrue(reference.contains("training rows ("), "every row is a training row: \(reference.prefix(400))")
    }

    /// The reports the judge is to check: its arguments for each.
    var reports: [[String]] = []

    /// Runs `mv monitor --no-commit --json`, keeps the report for the judge, and returns
    /// the features by name.
    func monitor(
        _ model: String, _ data: String, trainedOn training: String, file: StaticString = #filePath, line: UInt = #line
    ) throws -> [String: [String: Any]] {
        let result = try mv("monitor", model, "--data", data, "--no-commit", "--json")
        XCTAssertTrue(result.status == 0 || result.status == 1, "mv monitor \(model) \(data): \(result.stderr)", file: file, line: line)
        let report = try write(result.stdout, to: "\(model)-\(data).json")
        reports.append(["models/\(model)/reference.yaml", data, report.lastPathComponent, "--reference-csv", training])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let features = try XCTUnwrap(object?["features"] as? [[String: Any]], result.stdout, file: file, line: line)
        return Dictionary(features.map { ($0["name"] as? String ?? "", $0) }, uniquingKeysWith: { a, _ in a })
    }

    /// The Python judge on every report so far (one run: scipy loads once).
    func judge(file: StaticString = #filePath, line: UInt = #line) throws {
        let arguments = reports.enumerated().flatMap { $0.offset == 0 ? $0.element : ["--and"] + $0.element }
        let judged = try Self.run(["python3", Self.judge.path] + arguments, in: root)
        XCTAssertEqual(judged.status, 0, "the judge:\n\(judged.stdout)\(judged.stderr)", file: file, line: line)
    }

    func drifted(_ features: [String: [String: Any]]) -> Set<String> {
        Set(features.filter { $0.value["drifted"] as? Bool == true }.map(\.key))
    }

    func tests(_ features: [String: [String: Any]]) -> [String: String] {
        features.mapValues { $0["test"] as? String ?? "" }
    }

    /// A big reference (3000 rows) and a current sample of the same distribution: distances
    /// decide, nothing drifts. 3000 and 2000 rows make F_R = F_C exactly at some cell
    /// boundaries (30/3000 = 20/2000), where the Wasserstein cell rule must not depend on
    /// rounding.
    func testSameDistributionWithABigReference() throws {
        try generate("train.csv:3000:1", "current.csv:2000:2")
        try train("big", on: "train.csv")
        let features = try monitor("big", "current.csv", trainedOn: "train.csv")
        XCTAssertEqual(
            tests(features),
            [
                "norm": "wasserstein", "logn": "wasserstein", "miss": "wasserstein", "k3": "jensenshannon", "k5": "jensenshannon",
                "big": "jensenshannon", "small": "jensenshannon", "flag": "jensenshannon",
            ])
        XCTAssertEqual(drifted(features), [])
        XCTAssertEqual(features["k3"]?["chisquare_dof"] as? Int, 2, "k3 (1, 2, 5) is compared as three categories")
        try judge()
    }

    /// The columns drifted by construction are the drifted ones; miss only lost more values,
    /// which is its missing share, not drift. Unseen labels: small's are named, big's go to
    /// `(other)` (its reference kept 50 of 80 categories).
    func testDriftedColumnsAndUnseenCategories() throws {
        try generate("train.csv:3000:1", "current.csv:1500:5:drift:unseen")
        try train("big", on: "train.csv")
        let features = try monitor("big", "current.csv", trainedOn: "train.csv")
        XCTAssertEqual(drifted(features), ["norm", "logn", "k3", "k5", "small", "flag", "big"])
        XCTAssertEqual(features["k5"]?["test"] as? String, "wasserstein", "0…4 and 7: six values together, so numeric")
        XCTAssertEqual(features["miss"]?["missing"] as? Double ?? 0, 0.3, accuracy: 0.05)
        XCTAssertEqual(Set(features["small"]?["unseen_categories"] as? [String] ?? []), ["purple", "teal"])
        XCTAssertEqual(features["small"]?["unseen"] as? Double ?? 0, 0.05, accuracy: 0.02)
        XCTAssertEqual(features["small"]?["chisquare_dof"] as? Int, 4, "red, green, blue, purple, teal")
        XCTAssertEqual(features["big"]?["chisquare_dof"] as? Int, 50, "50 stored categories and (other)")
        XCTAssertEqual(features["k3"]?["chisquare_dof"] as? Int, 3, "1, 2, 5 and the unseen value 3")
        XCTAssertGreaterThan(features["logn"]?["out_of_range"] as? Double ?? 0, 0, "a wider lognormal passes the reference maximum")
        try judge()
    }

    /// 1000 reference values or fewer: KS and chi-square p-values decide. The threshold is on
    /// the present values: with 1050 rows, miss (about 10 % missing) has fewer than 1000.
    func testSmallReferencesUseThePValueTests() throws {
        try generate("small.csv:500:4", "same.csv:400:6", "drift.csv:300:7:drift", "edge.csv:1050:3", "edge-current.csv:900:8")
        try train("small", on: "small.csv")
        try train("edge", on: "edge.csv")

        let same = try monitor("small", "same.csv", trainedOn: "small.csv")
        XCTAssertEqual(
            tests(same),
            [
                "norm": "ks", "logn": "ks", "miss": "ks", "k3": "chisquare", "k5": "chisquare", "big": "chisquare",
                "small": "chisquare", "flag": "ztest",
            ])
        // big is left out: 51 categories over 400 rows leave expected counts near 1, where
        // chi-square is known to reject too often.
        XCTAssertEqual(drifted(same).subtracting(["big"]), [])

        let drift = try monitor("small", "drift.csv", trainedOn: "small.csv")
        XCTAssertTrue(drifted(drift).isSuperset(of: ["norm", "logn", "k3", "k5", "small", "flag"]), "\(drifted(drift))")
        XCTAssertFalse(drifted(drift).contains("miss"))
        XCTAssertEqual(tests(drift)["k5"], "ks")
        XCTAssertEqual(tests(drift)["flag"], "ztest")

        let edge = try monitor("edge", "edge-current.csv", trainedOn: "edge.csv")
        XCTAssertEqual(tests(edge)["miss"], "ks")
        XCTAssertEqual(tests(edge)["norm"], "wasserstein")
        XCTAssertEqual(tests(edge)["small"], "jensenshannon")
        try judge()
    }

    /// Numbers with every digit (repr of a double): the reference must still count each value
    /// once (§1) and mv monitor read it. Hold-out predictions always have every digit, so a
    /// model trained with the default hold-out is the common case.
    func testReferencesOfFullPrecisionValues() throws {
        try generate("train.csv:3000:1:full", "current.csv:1000:2:full", "rounded.csv:1000:3", "rounded-current.csv:500:4")
        try train("full", on: "train.csv")
        try mvOK("train", "holdout", "--data", "rounded.csv", "--target", "y", "--algorithm", "ridge", "--impute", "mean")
        for (model, data) in [("full", "current.csv"), ("holdout", "rounded-current.csv")] {
            let result = try mv("monitor", model, "--data", data, "--no-commit", "--json")
            XCTAssertNotEqual(result.status, 2, "mv monitor refused the reference mv train wrote: \(result.stderr)")
            let report = try write(result.stdout, to: "\(model).json")
            reports.append(["models/\(model)/reference.yaml", data, report.lastPathComponent, "--quiet"])
        }
        // The training rows of the hold-out model are a seeded subset: its profile is not rebuilt.
        reports[0] += ["--reference-csv", "train.csv"]
        try judge()
    }
}
