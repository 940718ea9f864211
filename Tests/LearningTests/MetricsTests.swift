import XCTest
@testable import Learning

final class MetricsTests: XCTestCase {
    func testRegressionHandComputed() {
        // residuals 0.5, -0.5, 0, -1; mean(actual) = 2.875; SS_tot = 29.1875, SS_res = 1.5
        let metrics = Metrics.regression(predicted: [2.5, 0.0, 2, 8], actual: [3, -0.5, 2, 7])
        XCTAssertEqual(metrics.map(\.name), ["mse", "rmse", "mae", "r2"])
        XCTAssertEqual(metrics[0].value, 0.375, accuracy: 1e-12)
        XCTAssertEqual(metrics[1].value, 0.375.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(metrics[2].value, 0.5, accuracy: 1e-12)
        XCTAssertEqual(metrics[3].value, 1 - 1.5 / 29.1875, accuracy: 1e-12)
        XCTAssertEqual(metrics[3].value, 0.9486081370449679, accuracy: 1e-12)
    }

    func testConstantTargetR2() {
        XCTAssertEqual(Metrics.regression(predicted: [2, 2], actual: [2, 2])[3].value, 1.0)
        XCTAssertEqual(Metrics.regression(predicted: [1, 3], actual: [2, 2])[3].value, 0.0)
    }

    func testDirections() {
        for name in ["mse", "rmse", "mae"] {
            XCTAssertEqual(Metrics.direction(of: name), .lowerIsBetter)
        }
        for name in ["r2", "accuracy", "precision", "recall", "f1", "auc"] {
            XCTAssertEqual(Metrics.direction(of: name), .higherIsBetter)
        }
        XCTAssertNil(Metrics.direction(of: "banana"))
        XCTAssertEqual(MetricDirection.higherIsBetter.rawValue, "higher")
        XCTAssertEqual(MetricDirection.lowerIsBetter.rawValue, "lower")
    }
}
