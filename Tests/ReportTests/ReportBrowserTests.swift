import Foundation
import TestSupport
import XCTest

/// `mv report` as a reader meets it: rendered by headless Chromium (driven by
/// Python/browser_check.py over the DevTools protocol) to a PNG, for a model with ten
/// versions, stage moves, a gate override, a rollback and a demotion, plus a classifier that
/// was monitored. `MV_SCREENSHOT_OUT=path.png` also writes the top of the page at full scale
/// there (the README's screenshot comes from here: `make screenshot`).
final class ReportBrowserTests: GitTestCase {
    static let checker = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Python/browser_check.py")

    struct Check: Decodable {
        struct Chart: Decodable {
            struct Label: Decodable {
                let text: String
                let drawn: Bool
            }
            let title: String
            let desc: String
            let width: Double
            let height: Double
            let labels: [Label]
            let marks: Int
        }
        struct PNG: Decodable {
            let width: Int
            let height: Int
            let inkShare: Double
            let colours: Int

            enum CodingKeys: String, CodingKey {
                case width, height, colours
                case inkShare = "ink_share"
            }
        }
        let errors: [String]
        let requests: [String]
        let charts: [Chart]
        let png: PNG
    }

    /// Runs the checker on `page`; skips when this machine has no Chromium (`make test`
    /// installs it through .ci/install-deps).
    func check(_ page: URL, screenshot: URL, picture: String? = nil) throws -> Check {
        let result = try Self.run(["python3", Self.checker.path, page.path, screenshot.path] + (picture.map { [$0] } ?? []), in: root)
        XCTAssertEqual(result.status, 0, result.stderr)
        if result.stdout.contains("\"skip\"") { throw XCTSkip("chromium is not installed (make test-deps installs it)") }
        return try JSONDecoder().decode(Check.self, from: Data(result.stdout.utf8))
    }

    func testTheReportRendersInChromiumWithEveryChartDrawnAndNothingFetched() throws {
        try initRegistry()
        try mvOK("example-data", "--rows", "400", "--output", "line.csv")
        let config = root.appendingPathComponent(".mv.yaml")
        let gate = "gates:\n  - stage: staging\n    allow_force: true\n    rules: [rmse <= 0.0001]\n"
        try (String(contentsOf: config, encoding: .utf8) + gate).write(to: config, atomically: true, encoding: .utf8)
        for seed in 1...10 {
            try mvOK(
                "train", "line", "--data", "line.csv", "--target", "y", "--algorithm", "linear-regression", "--param", "solver=sgd",
                "--param", "max_iter=\(10 + 3 * seed)", "--param", "seed=\(seed)")
        }
        try mvOK("promote", "line@v2")
        try mvOK("promote", "line@v5")
        try mvOK("promote", "line@v8")
        try mvOK("rollback", "line")
        try mvOK("promote", "line@v9", "--stage", "staging", "--force", "--reason", "load test")
        try mvOK("demote", "line", "--stage", "staging")
        _ = try write(Self.churnCSV(rows: 600, seed: 1), to: "churn.csv")
        _ = try write(Self.churnCSV(rows: 400, seed: 2, shift: 1), to: "shifted.csv")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression")
        try mvOK("train", "churn", "--data", "churn.csv", "--target", "churned", "--algorithm", "logistic-regression", "--param", "C=0.1")
        try mvOK("promote", "churn@v1")
        _ = try mv("monitor", "churn", "--data", "churn.csv")
        _ = try mv("monitor", "churn", "--data", "shifted.csv")
        try mvOK("report", "-o", "report.html")

        let page = root.appendingPathComponent("report.html")
        let html = try String(contentsOf: page, encoding: .utf8)
        let external = html.replacingOccurrences(of: "http://www.w3.org/2000/svg", with: "")
        XCTAssertNil(external.range(of: #"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}"#, options: .regularExpression), "no external URL")

        let screenshot = root.appendingPathComponent("report.png")
        let keep = ProcessInfo.processInfo.environment["MV_SCREENSHOT_OUT"]
        let result = try check(page, screenshot: screenshot, picture: keep)
        XCTAssertEqual(result.errors, [], "the page loads without a console error")
        XCTAssertEqual(result.requests, [], "the page asks for nothing beyond itself")
        let titles = result.charts.map(\.title)
        let expected = [
            "rmse across versions", "r2 across versions", "Who held each stage", "Training loss per epoch",
            "y against x: data and fit", "Predicted against actual", "Residuals",
            "Relative change of each tensor between consecutive versions",
            "accuracy across versions", "Confusion matrix", "ROC curve", "Drift share per monitoring run",
            "PSI of each feature per monitoring run",
        ]
        for title in expected { XCTAssertTrue(titles.contains(title), "chart '\(title)' in \(titles)") }
        for chart in result.charts {
            XCTAssertGreaterThan(chart.width, 100, chart.title)
            XCTAssertGreaterThan(chart.height, 60, chart.title)
            XCTAssertFalse(chart.desc.isEmpty, "\(chart.title) has a text alternative")
            XCTAssertGreaterThanOrEqual(chart.labels.count, chart.title == "Who held each stage" ? 1 : 2, chart.title)
            for label in chart.labels { XCTAssertTrue(label.drawn, "\(chart.title): axis label '\(label.text)' is laid out") }
            XCTAssertGreaterThan(chart.marks, 2, "\(chart.title) draws something")
        }
        let timeline = try XCTUnwrap(result.charts.first { $0.title == "Who held each stage" && $0.desc.contains("staging") })
        XCTAssertTrue(timeline.desc.contains("production: v2.0.0 → v5.0.0 → v8.0.0 → v5.0.0"), timeline.desc)
        XCTAssertTrue(timeline.desc.contains("rollback on production") && timeline.desc.contains("gate override on staging"), timeline.desc)
        XCTAssertTrue(timeline.desc.contains("demotion on staging"), timeline.desc)
        // The picture holds drawings: enough non-white pixels in enough colours.
        XCTAssertGreaterThan(result.png.width, 500)
        XCTAssertGreaterThan(result.png.height, 1000, "the whole page, not one screen")
        XCTAssertGreaterThan(result.png.inkShare, 0.03, "not blank")
        XCTAssertGreaterThan(result.png.colours, 50, "charts in colour, not text alone")
        if let keep {
            XCTAssertTrue(FileManager.default.fileExists(atPath: keep), "the picture for the README was written")
        }
    }

    /// The judge can fail: a page with a script error and an external image is caught.
    func testTheCheckerCatchesConsoleErrorsAndExternalRequests() throws {
        let page = try write(
            "<!DOCTYPE html><html><body><img src=\"http://127.0.0.1:9/x.png\"><script>undefinedFunction()</script></body></html>",
            to: "bad.html")
        let result = try check(page, screenshot: root.appendingPathComponent("bad.png"))
        XCTAssertFalse(result.errors.isEmpty, "the script error is reported")
        XCTAssertTrue(result.requests.contains { $0.hasPrefix("http://127.0.0.1:9/") }, "\(result.requests)")
        XCTAssertEqual(result.charts.count, 0)
        XCTAssertLessThan(result.png.inkShare, 0.03, "a page with nothing drawn reads as blank")
    }
}
