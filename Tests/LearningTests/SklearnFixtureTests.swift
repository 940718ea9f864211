import XCTest

@testable import Learning

/// mv against scikit-learn's own numbers on the same data (Fixtures/make_fixtures.py).
final class SklearnFixtureTests: XCTestCase {
    // MARK: Metrics, to 1e-9 on the same predictions

    func testBinaryMetrics() throws {
        let f = try Fixtures.json("metrics.json").object("binary")
        let actual = try f.ints("y_true")
        let predicted = try f.ints("y_pred")
        let proba = try f.matrix("proba")
        let metrics = Metrics.classification(predicted: predicted, actual: actual, classCount: 2, probabilities: proba)
        XCTAssertEqual(metrics.map(\.name), ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"])
        let expected = try ["accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"].map { try f.double($0) }
        assertClose(metrics.map(\.value), expected, relative: 1e-9, "binary metrics")
        XCTAssertEqual(
            Metrics.rocAUC(scores: try f.doubles("score"), positives: actual.map { $0 == 1 }),
            try f.double("roc_auc"), accuracy: 1e-9)
        XCTAssertEqual(Metrics.confusionMatrix(predicted: predicted, actual: actual, classCount: 2), try f.intMatrix("confusion"))
    }

    func testMulticlassMetrics() throws {
        let f = try Fixtures.json("metrics.json").object("multiclass")
        let actual = try f.ints("y_true")
        let predicted = try f.ints("y_pred")
        let proba = try f.matrix("proba")
        let metrics = Metrics.classification(predicted: predicted, actual: actual, classCount: 3, probabilities: proba)
        let names = [
            "accuracy", "precision_macro", "recall_macro", "f1_macro",
            "precision_weighted", "recall_weighted", "f1_weighted", "roc_auc", "log_loss",
        ]
        XCTAssertEqual(metrics.map(\.name), names)
        let expected = try names.map { try f.double($0 == "roc_auc" ? "roc_auc_ovr" : $0) }
        assertClose(metrics.map(\.value), expected, relative: 1e-9, "multiclass metrics")
        XCTAssertEqual(Metrics.confusionMatrix(predicted: predicted, actual: actual, classCount: 3), try f.intMatrix("confusion"))
        for metric in metrics {
            XCTAssertNotNil(Metrics.direction(of: metric.name), metric.name)
        }
        XCTAssertEqual(Metrics.direction(of: "log_loss"), .lowerIsBetter)
        XCTAssertEqual(Metrics.direction(of: "f1_weighted"), .higherIsBetter)
    }

    // MARK: Linear models, coefficients to 1e-5 relative

    private func regressionData() throws -> Dataset {
        try Dataset.load(try Fixtures.table("regression.csv"), target: "y", source: "regression.csv")
    }

    func testOrdinaryLeastSquares() throws {
        let f = try Fixtures.json("linear.json").object("ols")
        let model = try LinearRegression().fit(try regressionData(), hyperparameters: [:])
        assertClose(try XCTUnwrap(model.parameter("coef")).values, try f.doubles("coef"), relative: 1e-5, "ols coef")
        assertClose(try XCTUnwrap(model.parameter("intercept")).values, [try f.double("intercept")], relative: 1e-5, "ols intercept")
    }

    func testRidge() throws {
        let f = try Fixtures.json("linear.json").object("ridge")
        let model = try Ridge().fit(try regressionData(), hyperparameters: ["alpha": "2.5"])
        XCTAssertEqual(try XCTUnwrap(model.parameter("coef")).shape, [1, 4])
        assertClose(try XCTUnwrap(model.parameter("coef")).values, try f.doubles("coef"), relative: 1e-5, "ridge coef")
        assertClose(try XCTUnwrap(model.parameter("intercept")).values, [try f.double("intercept")], relative: 1e-5, "ridge intercept")
        XCTAssertEqual(model.hyperparameters.map(\.name), ["alpha", "fit_intercept"])
        XCTAssertEqual(model.hyperparameter("alpha"), "2.5")
    }

    func testBinaryLogisticRegression() throws {
        let f = try Fixtures.json("logistic.json").object("binary")
        let (data, target, _) = try Dataset.load(
            try Fixtures.table("binary.csv"), target: "label", task: .classification, source: "binary.csv")
        XCTAssertEqual(target.classes, try f.strings("classes"))
        let model = try LogisticRegression().fit(data, hyperparameters: ["C": "0.5"])
        XCTAssertEqual(try XCTUnwrap(model.parameter("coef")).shape, [1, 4])
        assertClose(try XCTUnwrap(model.parameter("coef")).values, try f.doubles("coef"), relative: 1e-5, "binary coef")
        assertClose(try XCTUnwrap(model.parameter("intercept")).values, try f.doubles("intercept"), relative: 1e-5, "binary intercept")
        let proba = try XCTUnwrap(try model.predictProbabilities(data.features))
        assertClose(Array(proba.values[0..<40]), try f.matrix("proba").values, relative: 1e-6, "binary proba")
        XCTAssertFalse(model.trainingLoss.isEmpty)
    }

    func testMultinomialLogisticRegression() throws {
        let f = try Fixtures.json("logistic.json").object("multinomial")
        let (data, target, _) = try Dataset.load(
            try Fixtures.table("multiclass.csv"), target: "species", task: .classification, source: "multiclass.csv")
        XCTAssertEqual(target.classes, try f.strings("classes"))
        let model = try LogisticRegression().fit(data, hyperparameters: ["C": "2"])
        XCTAssertEqual(try XCTUnwrap(model.parameter("coef")).shape, [3, 3])
        assertClose(try XCTUnwrap(model.parameter("coef")).values, try f.doubles("coef"), relative: 1e-5, "multinomial coef")
        assertClose(try XCTUnwrap(model.parameter("intercept")).values, try f.doubles("intercept"), relative: 1e-5, "multinomial intercept")
        let proba = try XCTUnwrap(try model.predictProbabilities(data.features))
        assertClose(Array(proba.values[0..<60]), try f.matrix("proba").values, relative: 1e-6, "multinomial proba")
    }

    // MARK: Trees: predictions equal to scikit-learn's

    private func treeData(_ file: String, task: Task) throws -> (train: Dataset, all: Dataset, nTrain: Int) {
        let (all, _, _) = try Dataset.load(try Fixtures.table(file), target: "y", task: task, source: file)
        let nTrain = try Fixtures.json("trees.json").double("n_train")
        return (all.subset(Array(0..<Int(nTrain))), all, Int(nTrain))
    }

    private var treeParameters: [String: String] {
        ["max_depth": "4", "min_samples_leaf": "5", "min_samples_split": "10"]
    }

    func testDecisionTreeClassifiers() throws {
        let fixtures = try Fixtures.json("trees.json")
        let (train, all, _) = try treeData("tree_classification.csv", task: .classification)
        for criterion in ["gini", "entropy"] {
            let f = try fixtures.object(criterion)
            var parameters = treeParameters
            parameters["criterion"] = criterion
            let model = try DecisionTree().fit(train, hyperparameters: parameters)
            XCTAssertEqual(try model.predict(all.features), try f.doubles("predictions"), criterion)
            XCTAssertEqual(try XCTUnwrap(model.parameter("feature")).shape, [Int(try f.double("nodes"))], criterion)
            if criterion == "gini" {
                assertClose(
                    try XCTUnwrap(try model.predictProbabilities(all.features)).values, try f.matrix("proba").values,
                    relative: 1e-12, "\(criterion) proba")
            }
        }
    }

    func testDecisionTreeRegressor() throws {
        let f = try Fixtures.json("trees.json").object("regression")
        let (train, all, _) = try treeData("tree_regression.csv", task: .regression)
        var parameters = treeParameters
        parameters["criterion"] = "mse"
        let model = try DecisionTree().fit(train, hyperparameters: parameters)
        XCTAssertEqual(model.task, .regression)
        XCTAssertEqual(try XCTUnwrap(model.parameter("feature")).shape, [Int(try f.double("nodes"))])
        // Leaf means can differ in the last bits from summation order, not more.
        assertClose(try model.predict(all.features), try f.doubles("predictions"), relative: 1e-12, "tree regression")
    }

    func testFullyGrownTrees() throws {
        let f = try Fixtures.json("trees.json").object("full")
        let nodes = try f.ints("nodes")
        let (trainC, allC, _) = try treeData("tree_classification.csv", task: .classification)
        let classifier = try DecisionTree().fit(trainC, hyperparameters: [:])
        XCTAssertEqual(try XCTUnwrap(classifier.parameter("feature")).shape, [nodes[0]])
        XCTAssertEqual(try classifier.predict(allC.features), try f.doubles("classification"))
        let (trainR, allR, _) = try treeData("tree_regression.csv", task: .regression)
        let regressor = try DecisionTree().fit(trainR, hyperparameters: ["criterion": "mse"])
        XCTAssertEqual(try XCTUnwrap(regressor.parameter("feature")).shape, [nodes[1]])
        assertClose(try regressor.predict(allR.features), try f.doubles("regression"), relative: 1e-12, "full regression tree")
    }

    // MARK: Forests: within a stated margin of scikit-learn's held-out score

    /// Forests draw different random numbers than scikit-learn, so only their quality can
    /// match. One seed's score on the 40 held-out rows spreads by about ±0.06, so both sides
    /// average seeds 0-9: mean accuracy and mean R² must be within ±0.03 of scikit-learn's.
    static let forestMargin = 0.03

    func testRandomForests() throws {
        let f = try Fixtures.json("trees.json").object("forest")
        let seeds = Int(try f.double("seeds"))
        let (trainC, allC, nTrain) = try treeData("tree_classification.csv", task: .classification)
        let test = Array(nTrain..<allC.count)
        let heldOutC = allC.subset(test)
        var accuracy = 0.0
        for seed in 0..<seeds {
            let classifier = try RandomForest().fit(trainC, hyperparameters: ["seed": "\(seed)"])
            let predicted = try classifier.predict(heldOutC.features)
            accuracy += Metrics.accuracy(predicted: predicted.map { Int($0) }, actual: heldOutC.target.map { Int($0) })
        }
        XCTAssertEqual(accuracy / Double(seeds), try f.double("accuracy_mean"), accuracy: Self.forestMargin)

        let (trainR, allR, _) = try treeData("tree_regression.csv", task: .regression)
        let heldOutR = allR.subset(test)
        var r2 = 0.0
        for seed in 0..<seeds {
            let regressor = try RandomForest().fit(trainR, hyperparameters: ["criterion": "mse", "seed": "\(seed)"])
            XCTAssertEqual(regressor.hyperparameter("max_features"), "1.0")
            r2 += Metrics.regression(predicted: try regressor.predict(heldOutR.features), actual: heldOutR.target)[3].value
        }
        XCTAssertEqual(r2 / Double(seeds), try f.double("r2_mean"), accuracy: Self.forestMargin)
    }
}
