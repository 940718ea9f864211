import XCTest

@testable import Learning

final class AlgorithmTests: XCTestCase {
    /// Gaussian features; classes from a noisy linear score cut into `classes` bands.
    static func classification(n: Int, d: Int, classes: Int, seed: UInt64) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var x: [Double] = []
        var y: [Double] = []
        for _ in 0..<n {
            var score = 0.0
            for j in 0..<d {
                let v = rng.nextGaussian()
                x.append(v)
                score += v * (j % 2 == 0 ? 1 : -0.5)
            }
            score += 0.3 * rng.nextGaussian()
            let band = min(classes - 1, max(0, Int((score + 1.5) / 3 * Double(classes))))
            y.append(Double(band))
        }
        return Dataset(
            featureNames: (0..<d).map { "x\($0)" }, targetName: "y",
            features: Matrix(rows: n, columns: d, values: x), target: y)
    }

    static func regression(n: Int, seed: UInt64) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var x: [Double] = []
        var y: [Double] = []
        for _ in 0..<n {
            let a = rng.nextGaussian()
            let b = rng.nextGaussian()
            let c = rng.nextGaussian()
            x += [a, b, c]
            y.append(2 * a - b + 0.5 * c + 1 + 0.1 * rng.nextGaussian())
        }
        return Dataset(
            featureNames: ["a", "b", "c"], targetName: "y",
            features: Matrix(rows: n, columns: 3, values: x), target: y)
    }

    func testEveryAlgorithmReloadsBitForBit() throws {
        let binary = Self.classification(n: 300, d: 4, classes: 2, seed: 1)
        let multi = Self.classification(n: 300, d: 4, classes: 3, seed: 2)
        let reg = Self.regression(n: 300, seed: 3)
        try assertReloadsBitForBit(LinearRegression(), reg)
        for solver in ["gd", "sgd", "adam"] {
            try assertReloadsBitForBit(LinearRegression(), reg, ["solver": solver, "max_iter": "5"])
        }
        try assertReloadsBitForBit(Ridge(), reg, ["alpha": "0.3"])
        for data in [binary, multi] {
            try assertReloadsBitForBit(LogisticRegression(), data)
            try assertReloadsBitForBit(LogisticRegression(), data, ["solver": "adam", "max_iter": "5"])
            try assertReloadsBitForBit(LinearSVM(), data)
            try assertReloadsBitForBit(DecisionTree(), data)
            try assertReloadsBitForBit(DecisionTree(), data, ["criterion": "entropy", "max_depth": "3"])
            try assertReloadsBitForBit(RandomForest(), data, ["n_estimators": "10"])
        }
        try assertReloadsBitForBit(DecisionTree(), reg, ["criterion": "mse"])
        try assertReloadsBitForBit(RandomForest(), reg, ["criterion": "squared_error", "n_estimators": "10"])
    }

    func testClassifiersLearn() throws {
        let train = Self.classification(n: 600, d: 4, classes: 3, seed: 4)
        let test = Self.classification(n: 300, d: 4, classes: 3, seed: 5)
        for (trainer, params) in [
            (LogisticRegression() as any Trainer, [String: String]()),
            (LinearSVM(), [:]), (DecisionTree(), ["max_depth": "6"]),
            (RandomForest(), ["n_estimators": "30"]),
            (LogisticRegression(), ["solver": "adam", "max_iter": "50", "learning_rate": "0.05"]),
        ] {
            let model = try trainer.fit(train, hyperparameters: params)
            XCTAssertEqual(model.task, .classification)
            XCTAssertEqual(model.classes, [0, 1, 2])
            let predicted = try model.predict(test.features)
            let accuracy = Metrics.accuracy(predicted: predicted.map { Int($0) }, actual: test.target.map { Int($0) })
            XCTAssertGreaterThan(accuracy, 0.65, "\(trainer.algorithm) \(params)")  // chance is about 0.33
            if let proba = try model.predictProbabilities(test.features) {
                XCTAssertEqual(proba.columns, 3)
                for i in 0..<proba.rows {
                    XCTAssertEqual(proba.row(i).reduce(0, +), 1, accuracy: 1e-12)
                }
                let metrics = Metrics.classification(predicted: predicted, actual: test.target, classCount: 3, probabilities: proba)
                XCTAssertEqual(metrics.last?.name, "log_loss")
            } else {
                XCTAssertEqual(trainer.algorithm, "linear-svm")
            }
        }
    }

    func testSVMBinaryDecision() throws {
        let train = Self.classification(n: 400, d: 3, classes: 2, seed: 6)
        let model = try LinearSVM().fit(train, hyperparameters: ["C": "0.5"])
        XCTAssertEqual(try XCTUnwrap(model.parameter("coef")).shape, [1, 3])
        XCTAssertNil(try model.predictProbabilities(train.features))
        let accuracy = Metrics.accuracy(predicted: try model.predict(train.features).map { Int($0) }, actual: train.target.map { Int($0) })
        XCTAssertGreaterThan(accuracy, 0.9)
        // The dual objective decreases the primal one towards its optimum.
        XCTAssertLessThanOrEqual(try XCTUnwrap(model.trainingLoss.last), try XCTUnwrap(model.trainingLoss.first))
    }

    func testIterativeSolversApproachLeastSquares() throws {
        let data = Self.regression(n: 2000, seed: 7)
        let exact = try XCTUnwrap(try LinearRegression().fit(data, hyperparameters: [:]).parameter("coef")).values
        for (solver, rate) in [("gd", "0.1"), ("sgd", "0.01"), ("adam", "0.002")] {
            let model = try LinearRegression().fit(
                data, hyperparameters: ["solver": solver, "learning_rate": rate, "max_iter": "300", "tol": "1e-10"])
            let coef = try XCTUnwrap(model.parameter("coef")).values
            for j in 0..<3 {
                XCTAssertEqual(coef[j], exact[j], accuracy: 0.02, solver)
            }
            XCTAssertGreaterThan(model.trainingLoss.count, 1)
            XCTAssertLessThan(try XCTUnwrap(model.trainingLoss.last), try XCTUnwrap(model.trainingLoss.first), solver)
            XCTAssertEqual(model.hyperparameter("solver"), solver)
        }
        // Divergence is reported instead of returning nan coefficients.
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: ["solver": "gd", "learning_rate": "50"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("linear-regression did not converge in"), "\(error)")
            XCTAssertTrue("\(error)".hasSuffix("lower learning_rate or standardize the features"), "\(error)")
        }
    }

    func testHyperparametersReportedInSpecOrder() throws {
        let data = Self.classification(n: 50, d: 2, classes: 2, seed: 8)
        for trainer in Trainers.all where trainer.task == .classification {
            let model = try trainer.fit(data, hyperparameters: [:])
            XCTAssertEqual(model.hyperparameters.map(\.name), trainer.hyperparameters.map(\.name), trainer.algorithm)
        }
        let forest = try RandomForest().fit(data, hyperparameters: ["n_estimators": "3"])
        XCTAssertEqual(forest.hyperparameter("max_features"), "sqrt")
        XCTAssertEqual(forest.hyperparameter("max_depth"), "none")
        XCTAssertEqual(try XCTUnwrap(forest.parameter("tree_offsets")).shape, [3])
        XCTAssertEqual(try DecisionTree().task(for: ["criterion": "mse"]), .regression)
        XCTAssertEqual(try Trainers.named("random-forest").task(for: [:]), .classification)
    }

    func testBadInput() throws {
        let data = Self.classification(n: 50, d: 2, classes: 2, seed: 9)
        XCTAssertThrowsError(try LogisticRegression().fit(data, hyperparameters: ["alpha": "1"])) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown hyperparameter 'alpha' for logistic-regression (valid: C, fit_intercept, solver, max_iter, tol, learning_rate, batch_size, seed)"
            )
        }
        XCTAssertThrowsError(try LogisticRegression().fit(data, hyperparameters: ["C": "0"])) { error in
            XCTAssertEqual("\(error)", "hyperparameter 'C' for logistic-regression: '0' is not a number above 0")
        }
        XCTAssertThrowsError(try RandomForest().fit(data, hyperparameters: ["max_features": "lots"])) { error in
            XCTAssertEqual(
                "\(error)",
                "hyperparameter 'max_features' for random-forest: 'lots' is not auto, none, sqrt, log2, a whole number or a fraction in (0, 1]"
            )
        }
        XCTAssertThrowsError(try DecisionTree().fit(data, hyperparameters: ["criterion": "gain"])) { error in
            XCTAssertEqual("\(error)", "hyperparameter 'criterion' for decision-tree: 'gain' is not one of gini, entropy, mse")
        }
        XCTAssertThrowsError(try DecisionTree().fit(data, hyperparameters: ["max_depth": "0"])) { error in
            XCTAssertEqual("\(error)", "hyperparameter 'max_depth' for decision-tree: '0' is not none or a whole number at least 1")
        }
        let single = Dataset(
            featureNames: ["x"], targetName: "y", features: Matrix(rows: 3, columns: 1, values: [1, 2, 3]), target: [1, 1, 1])
        for trainer in Trainers.all where trainer.task == .classification {
            XCTAssertThrowsError(try trainer.fit(single, hyperparameters: [:])) { error in
                XCTAssertEqual(
                    "\(error)",
                    "cannot train \(trainer.algorithm): the target has only one class ('1'); classification needs at least two classes in the training rows"
                )
            }
        }
        let empty = Dataset(featureNames: ["x"], targetName: "y", features: Matrix(rows: 0, columns: 1), target: [])
        for trainer in Trainers.all {
            XCTAssertThrowsError(try trainer.fit(empty, hyperparameters: [:])) { error in
                XCTAssertEqual("\(error)", "cannot train \(trainer.algorithm) on 0 rows; the training data is empty")
            }
        }
        let nan = Dataset(featureNames: ["x"], targetName: "y", features: Matrix(rows: 2, columns: 1, values: [1, .nan]), target: [0, 1])
        XCTAssertThrowsError(try DecisionTree().fit(nan, hyperparameters: [:])) { error in
            XCTAssertEqual("\(error)", "cannot train decision-tree: the training data contains nan or infinite values")
        }
        // Ridge fits collinear columns (the penalty makes the system solvable); alpha=0 names the column.
        var rng = SeededGenerator(seed: 3)
        var x: [Double] = []
        for _ in 0..<20 {
            let a = rng.nextDouble()
            x += [a, 2 * a]
        }
        let collinear = Dataset(
            featureNames: ["a", "twice_a"], targetName: "y", features: Matrix(rows: 20, columns: 2, values: x),
            target: (0..<20).map(Double.init))
        XCTAssertNoThrow(try Ridge().fit(collinear, hyperparameters: [:]))
        XCTAssertThrowsError(try Ridge().fit(collinear, hyperparameters: ["alpha": "0"])) { error in
            XCTAssertTrue("\(error)".hasPrefix("feature column 'twice_a' is constant or a linear combination"), "\(error)")
        }
        XCTAssertNoThrow(try LinearRegression().fit(collinear, hyperparameters: ["solver": "adam", "max_iter": "3"]))

        // One-hot columns that add up to the intercept, beside a column of large values, over
        // many rows: the diagonal grows with both, but every pivot stays at least alpha.
        var wide: [Double] = []
        var target: [Double] = []
        for row in 0..<100_000 {
            let category = row % 3
            let big = 1_000_000 + rng.nextDouble() * 1_000_000  // an income, say
            wide += [big, category == 0 ? 1 : 0, category == 1 ? 1 : 0, category == 2 ? 1 : 0]
            target.append(1e-5 * big + Double(category))
        }
        let oneHot = Dataset(
            featureNames: ["big", "c=a", "c=b", "c=c"], targetName: "y", features: Matrix(rows: 100_000, columns: 4, values: wide),
            target: target)
        XCTAssertNoThrow(try Ridge().fit(oneHot, hyperparameters: [:]))
    }

    func testProbabilitiesOverFullClassList() throws {
        // Training rows hold classes 0 and 2 only; the schema knows 3 classes.
        let data = Dataset(
            featureNames: ["x"], targetName: "y", features: Matrix(rows: 4, columns: 1, values: [0, 1, 2, 3]), target: [0, 0, 2, 2])
        let model = try DecisionTree().fit(data, hyperparameters: [:])
        XCTAssertEqual(try model.predict(data.features), [0, 0, 2, 2])
        let proba = try XCTUnwrap(try model.predictProbabilities(data.features, classCount: 3))
        XCTAssertEqual(proba.row(3).map { $0 }, [0, 0, 1])
    }

    func testSklearnTreeRandomSeeding() {
        // numpy: RandomState(s).randint(0, 2**31 - 1) for s = 0, 1, 42.
        XCTAssertEqual(SklearnTreeRandom(sklearnSeed: 0).state, 209_652_396)
        XCTAssertEqual(SklearnTreeRandom(sklearnSeed: 1).state, 1_791_095_845)
        XCTAssertEqual(SklearnTreeRandom(sklearnSeed: 42).state, 1_608_637_542)
    }

    func testForestIsDeterministicPerSeed() throws {
        let data = Self.classification(n: 200, d: 5, classes: 2, seed: 10)
        let a = try RandomForest().fit(data, hyperparameters: ["n_estimators": "20", "seed": "7"])
        let b = try RandomForest().fit(data, hyperparameters: ["n_estimators": "20", "seed": "7"])
        let c = try RandomForest().fit(data, hyperparameters: ["n_estimators": "20", "seed": "8"])
        XCTAssertEqual(a.parameters, b.parameters)
        XCTAssertNotEqual(a.parameters, c.parameters)
    }
}
