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

final class ClassificationMetricsTests: XCTestCase {
    func testHandComputed() {
        let actual = [0, 0, 1, 1, 1]
        let predicted = [0, 1, 1, 1, 0]
        XCTAssertEqual(Metrics.confusionMatrix(predicted: predicted, actual: actual, classCount: 2), [[1, 1], [1, 2]])
        let m = Metrics.classification(predicted: predicted, actual: actual, classCount: 2)
        XCTAssertEqual(m.map(\.name), ["accuracy", "precision", "recall", "f1"])
        XCTAssertEqual(m.map(\.value), [0.6, 2.0 / 3, 2.0 / 3, 2.0 / 3])
        // Perfectly tied scores give chance level; one class only gives nan.
        XCTAssertEqual(Metrics.rocAUC(scores: [0.5, 0.5, 0.5], positives: [true, false, true]), 0.5)
        XCTAssertTrue(Metrics.rocAUC(scores: [0.1, 0.2], positives: [true, true]).isNaN)
        XCTAssertTrue(Metrics.classification(predicted: [Int](), actual: [], classCount: 3).allSatisfy { $0.value.isNaN })
        XCTAssertEqual(Metrics.logLoss(probabilities: Matrix(rowArrays: [[1, 0]]), actual: [1]), -log(Double.ulpOfOne), accuracy: 1e-12)
    }

    /// scikit-learn: roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8], drop_intermediate=False) gives
    /// fpr [0, 0, 0.5, 0.5, 1] and tpr [0, 0.5, 0.5, 1, 1]; tied scores make one corner.
    func testROCCurveCorners() throws {
        let curve = try XCTUnwrap(Metrics.rocCurve(scores: [0.1, 0.4, 0.35, 0.8], positives: [false, false, true, true]))
        XCTAssertEqual(curve.fpr, [0, 0, 0.5, 0.5, 1])
        XCTAssertEqual(curve.tpr, [0, 0.5, 0.5, 1, 1])
        let tied = try XCTUnwrap(Metrics.rocCurve(scores: [0.5, 0.5, 0.5, 0.2], positives: [true, false, true, false]))
        XCTAssertEqual(tied.fpr, [0, 0.5, 1])
        XCTAssertEqual(tied.tpr, [0, 1, 1])
        XCTAssertNil(Metrics.rocCurve(scores: [0.1, 0.2], positives: [true, true]), "one class: no curve")
        // Many distinct scores: thinned to the limit, ends kept, still monotone.
        let scores = (0..<5000).map { Double($0) / 5000 }
        let thinned = try XCTUnwrap(Metrics.rocCurve(scores: scores, positives: scores.map { $0 > 0.3 }, maxPoints: 101))
        XCTAssertEqual(thinned.fpr.count, 101)
        XCTAssertEqual([thinned.fpr.first, thinned.tpr.first, thinned.fpr.last, thinned.tpr.last], [0, 0, 1, 1])
        XCTAssertTrue(zip(thinned.fpr, thinned.fpr.dropFirst()).allSatisfy { $0 <= $1 })
        XCTAssertTrue(zip(thinned.tpr, thinned.tpr.dropFirst()).allSatisfy { $0 <= $1 })
    }
}
