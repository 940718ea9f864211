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
        let check = """
            import re, sys, xml.etree.ElementTree as ET
            page = open(sys.argv[1]).read()
            charts = re.findall(r'<svg.*?</svg>', page, re.S)
            for chart in charts: ET.fromstring(chart)
            print(len(charts))
            """
        let parsed = try Self.run(["python3", "-c", check, root.appendingPathComponent("report.html").path], in: root)
        XCTAssertEqual(parsed.status, 0, parsed.stderr)
        XCTAssertGreaterThanOrEqual(Int(parsed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0, 3)
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
}
