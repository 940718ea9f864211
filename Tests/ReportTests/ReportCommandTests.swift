import Foundation
import TestSupport
import XCTest

/// `mv report` on a real history: versions, an evaluation, a promotion and a monitoring run.
final class ReportCommandTests: GitTestCase {
    override func setUpWithError() throws {
        try super.setUpWithError()
        try initRegistry()
    }

    func testThePageHoldsTheVersionsChartsAndHistoryAndNothingFromTheNetwork() throws {
        _ = try write(Self.churnCSV(rows: 600, seed: 1), to: "train.csv")
        _ = try write(Self.churnCSV(rows: 300, seed: 2), to: "q4.csv")
        for seed in ["1", "2", "3"] {
            let trained = try mv(
                "train", "churn", "--data", "train.csv", "--target", "churned", "--algorithm", "logistic-regression", "--seed", seed)
            XCTAssertEqual(trained.status, 0, trained.stderr)
        }
        XCTAssertEqual(try mv("eval", "churn@v2", "--data", "q4.csv").status, 0)
        XCTAssertEqual(try mv("promote", "churn@v2").status, 0)
        XCTAssertEqual(try mv("monitor", "churn", "--data", "q4.csv").status, 0)

        let written = try mv("report", "-o", "out/report.html")
        XCTAssertNotEqual(written.status, 0, "the folder does not exist: refused")
        XCTAssertTrue(written.stderr.contains("cannot write"), written.stderr)
        let result = try mv("report", "-o", "report.html")
        XCTAssertEqual(result.status, 0, result.stderr)
        let page = try String(contentsOf: root.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>"))
        XCTAssertTrue(page.contains("<title>mv report: churn</title>"))
        for version in ["v1.0.0", "v2.0.0", "v3.0.0"] { XCTAssertTrue(page.contains("<td>\(version)</td>"), version) }
        XCTAssertTrue(page.contains("<title>accuracy across versions</title>"), "one chart per headline metric")
        XCTAssertTrue(page.contains(">production</text>"), "the production holder's span is shaded")
        XCTAssertTrue(page.contains(">q4</text>"), "the named evaluation is a series of its own, in the legend")
        XCTAssertTrue(page.contains("Drift share per monitoring run"))
        XCTAssertTrue(page.contains("<td>assignment</td>") && page.contains("<td>monitoring</td>"), "the history table")
        XCTAssertFalse(page.contains("<script"), "readable without JavaScript")
        let external = page.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        XCTAssertFalse(external.contains("http://") || external.contains("https://") || external.contains("src="), "self-contained")

        // Every chart is well-formed XML (an independent parser), and stdout gives the same page.
        XCTAssertGreaterThanOrEqual(try wellFormedCharts(in: "report.html"), 3)
        let printed = try mv("report", "churn", "-o", "-")
        XCTAssertEqual(printed.status, 0)
        XCTAssertTrue(printed.stdout.hasPrefix("<!DOCTYPE html>") && printed.stdout.contains("<td>v3.0.0</td>"))

        let unknown = try mv("report", "nope")
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.stderr.contains("unknown model 'nope'"), unknown.stderr)
    }

    func testARepositoryWithoutModelsSaysSo() throws {
        let result = try mv("report")
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no models to report on"), result.stderr)
    }

    /// Training stores what the pictures need in eval/holdout.yaml, judged by Python from the
    /// CSV and the version's own tensors: sampled rows that are real hold-out rows, predictions
    /// that are the fitted line's, at most 1,000 of them; ROC corners whose area is the AUC.
    func testTrainingStoresASampleOfHoldOutRowsAndTheROCCurve() throws {
        try mvOK("example-data", "--rows", "6000", "--output", "line.csv")
        try mvOK("train", "line", "--data", "line.csv", "--target", "y", "--algorithm", "linear-regression", "--standardize")
        _ = try write(Self.churnCSV(rows: 600, seed: 1), to: "churn.csv")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression")
        try mvOK("eval", "churn@v1", "--data", "churn.csv", "--name", "all")
        let judge = """
            import bisect, csv, sys, yaml, numpy as np
            data = sorted((float(r['x']), float(r['y'])) for r in csv.DictReader(open('line.csv')))
            xs = [x for x, _ in data]
            def near(a, b): return abs(a - b) <= 1e-5 * max(1, abs(b))
            def is_row(x, y):
                # Six significant digits can make neighbouring rows' x alike: any of them may match.
                low, high = bisect.bisect_left(xs, x - 1e-4), bisect.bisect_right(xs, x + 1e-4)
                return any(near(data[i][0], x) and near(data[i][1], y) for i in range(low, high))
            report = yaml.safe_load(open('models/line/eval/holdout.yaml'))
            manifest = yaml.safe_load(open('models/line/model.yaml'))
            sample = report['sample']
            assert sample['rows'] == manifest['lineage']['split']['test_rows'] == 1200, sample['rows']
            assert sample['feature'] == 'x' and len(sample['x']) == len(sample['actual']) == len(sample['predicted']) == 1000
            for x, y in zip(sample['x'], sample['actual']):
                assert is_row(x, y), f'({x}, {y}) is no row of the data (in its units, not standardized)'
            coef = np.load('models/line/params/coef.npy').ravel()
            intercept = float(np.load('models/line/params/intercept.npy').ravel()[0])
            schema = manifest['schema']['features']['columns'][0]
            fitted = coef[0] * (np.array(sample['x']) - schema['mean']) / schema['std'] + intercept
            assert np.allclose(fitted, sample['predicted'], rtol=1e-5, atol=1e-4), 'predictions are the fitted line'
            for name in ('holdout', 'all'):
                report = yaml.safe_load(open(f'models/churn/eval/{name}.yaml'))
                assert 'sample' not in report, 'classification keeps no sample'
                [curve] = report['roc']
                assert curve['class'] == 'yes'
                assert abs(curve['auc'] - report['metrics']['roc_auc']) < 1e-12
                fpr, tpr = np.array(curve['fpr']), np.array(curve['tpr'])
                assert (np.diff(fpr) >= 0).all() and (np.diff(tpr) >= 0).all() and fpr[0] == tpr[0] == 0 and fpr[-1] == tpr[-1] == 1
                area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
                assert abs(area - curve['auc']) < 1e-4, (area, curve['auc'])
                assert sum(map(sum, report['confusion_matrix']['counts'])) == report['dataset']['rows']
            print('ok')
            """
        let judged = try Self.run(["python3", "-c", judge], in: root)
        XCTAssertEqual(judged.status, 0, judged.stderr)
        XCTAssertEqual(judged.stdout, "ok\n")
    }

    /// `mv diff A B --html`: the same comparison as one page.
    func testDiffWritesTheComparisonAsAPage() throws {
        _ = try write(Self.churnCSV(rows: 600, seed: 1), to: "churn.csv")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.01")
        let written = try mvOK("diff", "churn@v1", "churn@v2", "--html", "diff.html")
        XCTAssertTrue(written.contains("wrote ") && written.contains("diff.html"), written)
        let page = try String(contentsOf: root.appendingPathComponent("diff.html"), encoding: .utf8)
        XCTAssertTrue(page.hasPrefix("<!DOCTYPE html>") && page.contains("<title>mv diff churn@v1.0.0 churn@v2.0.0</title>"), page)
        XCTAssertTrue(page.contains("<td>C</td><td>1.0</td><td>0.01</td>"), "the hyperparameter change")
        XCTAssertTrue(page.contains("<title>holdout: accuracy</title>"), "a bar chart per metric")
        XCTAssertTrue(page.contains("<title>Relative change of each tensor</title>"), "the tensor heatmap")
        XCTAssertTrue(page.contains("<td><code>coef</code></td><td>changed</td>"), "the changed tensors listed")
        XCTAssertFalse(page.contains("<script"))
        XCTAssertGreaterThanOrEqual(try wellFormedCharts(in: "diff.html"), 5)
        let printed = try mvOK("diff", "churn@v1", "churn@v2", "--html", "-")
        XCTAssertTrue(printed.hasPrefix("<!DOCTYPE html>"))
        let refused = try mv("diff", "churn@v1", "churn@v2", "--html", "no/such/folder/diff.html")
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("cannot write"), refused.stderr)
        XCTAssertEqual(refused.stderr.split(separator: "\n").filter { $0.hasPrefix("mv: error") }.count, 1)
    }

    /// How many `<svg>` charts the page holds, each checked to be well-formed XML by an
    /// independent parser (Python's ElementTree); fails the test when one is not.
    func wellFormedCharts(in page: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let check = """
            import re, sys, xml.etree.ElementTree as ET
            page = open(sys.argv[1]).read()
            charts = re.findall(r'<svg.*?</svg>', page, re.S)
            for chart in charts: ET.fromstring(chart)
            print(len(charts))
            """
        let parsed = try Self.run(["python3", "-c", check, root.appendingPathComponent(page).path], in: root)
        XCTAssertEqual(parsed.status, 0, parsed.stderr, file: file, line: line)
        return Int(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
