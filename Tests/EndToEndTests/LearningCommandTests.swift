import Foundation
import TestSupport
import XCTest

/// The built-in algorithms through `mv train`, `mv eval` and `mv predict`, with categorical
/// features, stored schemas and their enforcement.
final class LearningCommandTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        XCTAssertEqual(try mv("init").status, 0)
        let made = try Self.run(
            [
                "python3", "-c",
                """
                import random
                random.seed(3)
                rows = ['age,city,income,churn']
                for i in range(240):
                    age = random.uniform(18, 80); city = random.choice(['paris', 'lyon', 'nice']); inc = random.gauss(50, 15)
                    score = 0.05 * (age - 50) + (0.8 if city == 'nice' else 0) - 0.03 * (inc - 50) + random.gauss(0, 0.7)
                    rows.append(f'{age:.1f},{city},{inc:.1f},{"yes" if score > 0 else "no"}')
                open('churn.csv', 'w').write('\\n'.join(rows) + '\\n')
                """,
            ], in: root)
        XCTAssertEqual(made.status, 0, made.stderr)
    }

    func testClassifiersTrainEvaluateAndPredictFromGit() throws {
        for (algorithm, extra) in [
            ("logistic-regression", ["--standardize"]), ("decision-tree", ["--param", "max_depth=3"]),
            ("random-forest", ["--param", "n_estimators=10"]), ("linear-svm", []),
        ] {
            let result = try mv(["train", "churn", "--data", "churn.csv", "--target", "churn", "--algorithm", algorithm] + extra)
            XCTAssertEqual(result.status, 0, "\(algorithm): \(result.stderr)")
            XCTAssertTrue(result.stdout.contains("accuracy"), result.stdout)
        }
        XCTAssertTrue(try git("log", "--format=%s", "-1", "churn@v1.0.0").hasPrefix("churn v1.0.0: accuracy "))
        let manifest = try git("show", "churn@v1.0.0:models/churn/model.yaml")
        XCTAssertTrue(manifest.contains("categories: [lyon, nice, paris]"), manifest)
        XCTAssertTrue(manifest.contains("classes: [\"no\", \"yes\"]"), manifest)
        XCTAssertTrue(manifest.contains("standardize: true"), manifest)
        XCTAssertTrue(manifest.contains("algorithm: logistic-regression"), manifest)

        // Predictions come from Git objects: they survive checking out another version.
        let before = try mv("predict", "churn@v1", "--data", "churn.csv", "--proba")
        XCTAssertEqual(before.status, 0, before.stderr)
        XCTAssertEqual(try mv("checkout", "churn@v2").status, 0)
        let after = try mv("predict", "churn@v1", "--data", "churn.csv", "--proba")
        XCTAssertEqual(after.stdout, before.stdout, "the same version predicts bit for bit the same")
        let lines = before.stdout.split(separator: "\n")
        XCTAssertEqual(lines.first, "prediction,p_no,p_yes")
        XCTAssertEqual(lines.count, 241)
        XCTAssertTrue(lines.dropFirst().allSatisfy { $0.hasPrefix("no,") || $0.hasPrefix("yes,") })

        let eval = try mv("eval", "churn@v3", "--data", "churn.csv", "--name", "full", "--json")
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let object = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
        let metrics = object?["metrics"] as? [String: Double]
        XCTAssertEqual(Set(metrics?.keys.map { $0 } ?? []), ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"])
        let svmProba = try mv("predict", "churn@v4", "--data", "churn.csv", "--proba")
        XCTAssertNotEqual(svmProba.status, 0)
        XCTAssertTrue(svmProba.stderr.contains("gives no class probabilities"), svmProba.stderr)

        // Classification reports carry a labelled confusion matrix (rows: true class).
        let confusion = try Self.run(
            [
                "python3", "-c",
                """
                import yaml
                r = yaml.safe_load(open('models/churn/eval/full.yaml'))
                c = r['confusion_matrix']
                assert c['classes'] == ['no', 'yes'], c
                assert sum(map(sum, c['counts'])) == r['dataset']['rows'] == 240, c
                assert abs((c['counts'][0][0] + c['counts'][1][1]) / 240 - r['metrics']['accuracy']) < 1e-12
                print('ok')
                """,
            ], in: root)
        XCTAssertEqual(confusion.stdout, "ok\n", confusion.stderr)

        // Trees are stored as flat arrays anyone can read.
        let check = try Self.run(
            [
                "python3", "-c",
                """
                import numpy as np
                f = np.load('models/churn/params/feature.npy'); l = np.load('models/churn/params/left.npy')
                assert f.shape == l.shape and (f[l < 0] == -1).all(), (f, l)
                print('ok')
                """,
            ], in: root)
        XCTAssertEqual(try git("show", "churn@v2.0.0:models/churn/model.yaml").contains("algorithm: decision-tree"), true)
        _ = check
    }

    func testSchemaIsEnforcedAtEvalAndPredictTime() throws {
        XCTAssertEqual(try mv("train", "churn", "--data", "churn.csv", "--target", "churn", "--algorithm", "logistic-regression").status, 0)
        _ = try write("age,city,churn\n30,paris,yes\n", to: "missing.csv")
        _ = try write("age,city,income,extra,churn\n30,paris,50,1,yes\n", to: "extra.csv")
        _ = try write("age,city,income,churn\n30,rome,50,yes\n40,paris,50,no\n", to: "unseen.csv")
        for (file, expected) in [("missing.csv", "income"), ("extra.csv", "unexpected column 'extra'"), ("unseen.csv", "rome")] {
            let before = try snapshot()
            let result = try mv("eval", "churn@v1", "--data", file)
            XCTAssertNotEqual(result.status, 0, file)
            XCTAssertTrue(result.stderr.hasPrefix("mv: error: ") && result.stderr.contains(expected), "\(file): \(result.stderr)")
            XCTAssertEqual(try snapshot(), before)
        }
        let lenient = try mv("predict", "churn@v1", "--data", "unseen.csv", "--ignore-unknown-categories")
        XCTAssertEqual(lenient.status, 0, lenient.stderr)
        XCTAssertEqual(lenient.stdout.split(separator: "\n").count, 3)
    }

    func testMissingValuesNeedImputeAndBadTargetsAreRefused() throws {
        _ = try write("x,y,label\n1,,a\n2,3,b\n3,4,a\n4,5,b\n5,6,a\n6,7,b\n7,8,a\n8,9,b\n", to: "gaps.csv")
        let refused = try mv("train", "g", "--data", "gaps.csv", "--target", "label", "--algorithm", "logistic-regression")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("column 'y'") && refused.stderr.contains("--impute"), refused.stderr)
        let imputed = try mv(
            "train", "g", "--data", "gaps.csv", "--target", "label", "--algorithm", "logistic-regression",
            "--impute", "median", "--test-size", "0.25")
        XCTAssertEqual(imputed.status, 0, imputed.stderr)

        _ = try write("x,label\n1,a\n2,a\n3,a\n4,a\n5,a\n", to: "one.csv")
        let before = try snapshot()
        let stringTarget = try mv("train", "r", "--data", "churn.csv", "--target", "churn", "--algorithm", "ridge")
        XCTAssertNotEqual(stringTarget.status, 0)
        XCTAssertTrue(stringTarget.stderr.hasPrefix("mv: error: ") && stringTarget.stderr.contains("churn"), stringTarget.stderr)
        let oneClass = try mv("train", "o", "--data", "one.csv", "--target", "label", "--algorithm", "logistic-regression")
        XCTAssertNotEqual(oneClass.status, 0)
        XCTAssertTrue(oneClass.stderr.contains("only the class 'a'"), oneClass.stderr)
        XCTAssertEqual(try snapshot(), before)
    }

    func testAlgorithmsAreListedWithDefaults() throws {
        let listed = try mv("algorithms")
        XCTAssertEqual(listed.status, 0)
        for name in ["linear-regression", "ridge", "logistic-regression", "linear-svm", "decision-tree", "random-forest"] {
            XCTAssertTrue(listed.stdout.contains("\(name):"), name)
        }
        XCTAssertTrue(listed.stdout.contains("--param n_estimators=100"), listed.stdout)
        XCTAssertEqual(try mv("train", "x", "--algorithm", "help").stdout, listed.stdout)
    }

    func testIterativeOptimizerRecordsItsLoss() throws {
        _ = try write(Self.linearCSV(rows: 200), to: "lin.csv")
        let result = try mv(
            "train", "lin", "--data", "lin.csv", "--target", "y", "--optimizer", "adam",
            "--param", "learning_rate=0.05", "--param", "max_iter=50", "--standardize")
        XCTAssertEqual(result.status, 0, result.stderr)
        let manifest = try git("show", "HEAD:models/lin/model.yaml")
        XCTAssertTrue(manifest.contains("solver: adam") && manifest.contains("learning_rate: 0.05"), manifest)
        let loss = try Self.run(
            [
                "python3", "-c",
                "import numpy as np; l = np.load('models/lin/training/loss.npy'); assert 1 <= len(l) <= 50 and l[-1] < l[0], l; print('ok')",
            ], in: root)
        XCTAssertEqual(loss.stdout, "ok\n", loss.stderr)
    }
}
