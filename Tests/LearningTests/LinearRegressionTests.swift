import XCTest

@testable import Learning

final class LinearRegressionTests: XCTestCase {
    private func synthetic(n: Int, coef: [Double], intercept: Double, noise: Double, seed: UInt64) -> Dataset {
        var rng = SeededGenerator(seed: seed)
        var x: [Double] = []
        var y: [Double] = []
        for _ in 0..<n {
            var value = intercept
            for c in coef {
                let xi = rng.nextDouble() * 10 - 5
                x.append(xi)
                value += c * xi
            }
            y.append(value + noise * rng.nextGaussian())
        }
        return Dataset(
            featureNames: coef.indices.map { "x\($0 + 1)" }, targetName: "y",
            features: Matrix(rows: n, columns: coef.count, values: x), target: y)
    }

    func testExactRecoveryNoiseless() throws {
        let data = synthetic(n: 50, coef: [1.5, -2.25, 0.5], intercept: 4, noise: 0, seed: 1)
        let model = try LinearRegression().fit(data, hyperparameters: [:])
        let coef = try XCTUnwrap(model.parameter("coef"))
        XCTAssertEqual(coef.shape, [3])
        XCTAssertEqual(coef.values[0], 1.5, accuracy: 1e-12)
        XCTAssertEqual(coef.values[1], -2.25, accuracy: 1e-12)
        XCTAssertEqual(coef.values[2], 0.5, accuracy: 1e-12)
        let intercept = try XCTUnwrap(model.parameter("intercept"))
        XCTAssertEqual(intercept.shape, [1])
        XCTAssertEqual(intercept.values[0], 4, accuracy: 1e-12)
        XCTAssertEqual(model.trainingLoss.count, 1)
        XCTAssertEqual(model.trainingLoss[0], 0, accuracy: 1e-20)
        XCTAssertEqual(model.algorithm, "linear-regression")
        XCTAssertEqual(model.task, .regression)
        XCTAssertEqual(model.hyperparameters.first, Hyperparameter(name: "fit_intercept", value: "true"))
        XCTAssertEqual(
            model.hyperparameters.map(\.name),
            ["fit_intercept", "solver", "learning_rate", "batch_size", "max_iter", "tol", "l2", "seed"])
        XCTAssertEqual(model.hyperparameter("solver"), "qr")
    }

    func testNoisyRecovery() throws {
        let data = synthetic(n: 500, coef: [3], intercept: 2, noise: 0.1, seed: 2024)
        let model = try LinearRegression().fit(data, hyperparameters: [:])
        XCTAssertEqual(try XCTUnwrap(model.parameter("coef")).values[0], 3, accuracy: 0.01)
        XCTAssertEqual(try XCTUnwrap(model.parameter("intercept")).values[0], 2, accuracy: 0.02)
        // The training MSE should be close to the noise variance.
        XCTAssertEqual(model.trainingLoss[0], 0.01, accuracy: 0.003)
    }

    func testOffsetAndScaledFeaturesStayAccurate() throws {
        // Large offsets and mixed units are where normal equations lose digits.
        var rng = SeededGenerator(seed: 5)
        var x: [Double] = []
        var y: [Double] = []
        for _ in 0..<200 {
            let a = 1e6 + rng.nextDouble()
            let b = 1e-6 * rng.nextDouble()
            x += [a, b]
            y.append(2 * a + 3e6 * b - 7)
        }
        let data = Dataset(
            featureNames: ["a", "b"], targetName: "y",
            features: Matrix(rows: 200, columns: 2, values: x), target: y)
        let model = try LinearRegression().fit(data, hyperparameters: [:])
        let coef = try XCTUnwrap(model.parameter("coef")).values
        XCTAssertEqual(coef[0], 2, accuracy: 1e-6)
        XCTAssertEqual(coef[1], 3e6, accuracy: 1e-1)
    }

    func testNoIntercept() throws {
        let data = synthetic(n: 20, coef: [2, -1], intercept: 0, noise: 0, seed: 3)
        let model = try LinearRegression().fit(data, hyperparameters: ["fit_intercept": "false"])
        XCTAssertEqual(model.parameter("intercept")?.values, [0])
        let coef = try XCTUnwrap(model.parameter("coef")).values
        XCTAssertEqual(coef[0], 2, accuracy: 1e-12)
        XCTAssertEqual(coef[1], -1, accuracy: 1e-12)
        XCTAssertEqual(model.hyperparameter("fit_intercept"), "false")
    }

    func testCollinearColumn() {
        var rng = SeededGenerator(seed: 9)
        var x: [Double] = []
        for _ in 0..<30 {
            let a = rng.nextDouble()
            let b = rng.nextDouble()
            x += [a, b, 2 * a - 0.5 * b]
        }
        let data = Dataset(
            featureNames: ["x1", "x2", "x3"], targetName: "y",
            features: Matrix(rows: 30, columns: 3, values: x), target: (0..<30).map(Double.init))
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: [:])) { error in
            XCTAssertEqual(
                "\(error)",
                "feature column 'x3' is constant or a linear combination of the columns before it, so linear-regression has no unique solution; drop 'x3' and train again"
            )
        }
    }

    func testConstantColumn() {
        let data = Dataset(
            featureNames: ["x", "c"], targetName: "y",
            features: Matrix(rows: 4, columns: 2, values: [1, 5, 2, 5, 3, 5, 4, 5]),
            target: [1, 2, 3, 4])
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: [:])) { error in
            XCTAssertTrue("\(error)".hasPrefix("feature column 'c' is constant"), "\(error)")
        }
        // Without an intercept a constant column is a legitimate feature.
        XCTAssertNoThrow(try LinearRegression().fit(data, hyperparameters: ["fit_intercept": "false"]))
    }

    func testTooFewRows() {
        let data = Dataset(
            featureNames: ["a", "b"], targetName: "y",
            features: Matrix(rows: 2, columns: 2, values: [1, 2, 3, 5]), target: [1, 2])
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: [:])) { error in
            XCTAssertEqual(
                "\(error)",
                "linear-regression needs at least 3 rows to fit 3 parameters but got 2; add rows or drop feature columns")
        }
    }

    func testHyperparameterErrors() {
        let data = synthetic(n: 10, coef: [1], intercept: 0, noise: 0, seed: 4)
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: ["alpha": "1"])) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown hyperparameter 'alpha' for linear-regression (valid: fit_intercept, solver, learning_rate, batch_size, max_iter, tol, l2, seed)"
            )
        }
        XCTAssertThrowsError(try LinearRegression().fit(data, hyperparameters: ["fit_intercept": "maybe"])) { error in
            XCTAssertEqual("\(error)", "hyperparameter 'fit_intercept' for linear-regression: 'maybe' is not true or false")
        }
    }

    func testLoadPredictsBitForBit() throws {
        let data = synthetic(n: 80, coef: [0.3, -7.1, 2.9, 1e-3], intercept: -11.7, noise: 0.5, seed: 77)
        let trainer = try Trainers.named("linear-regression")
        let model = try trainer.fit(data, hyperparameters: [:])
        let stored = Dictionary(uniqueKeysWithValues: model.hyperparameters.map { ($0.name, $0.value) })
        let loaded = try trainer.load(parameters: model.parameters, hyperparameters: stored, featureCount: 4)
        let fresh = synthetic(n: 25, coef: [1, 1, 1, 1], intercept: 0, noise: 0, seed: 78).features
        let a = try model.predict(fresh)
        let b = try loaded.predict(fresh)
        XCTAssertEqual(a.map(\.bitPattern), b.map(\.bitPattern))
        XCTAssertEqual(loaded.parameters, model.parameters)
        XCTAssertEqual(loaded.hyperparameters, model.hyperparameters)

        XCTAssertThrowsError(try model.predict(Matrix(rows: 1, columns: 3))) { error in
            XCTAssertEqual("\(error)", "the model expects 4 feature columns but got 3")
        }
        XCTAssertThrowsError(try trainer.load(parameters: model.parameters, hyperparameters: [:], featureCount: 5)) { error in
            XCTAssertTrue("\(error)".hasPrefix("stored linear-regression model is unusable: tensor 'coef'"), "\(error)")
        }
        XCTAssertThrowsError(try trainer.load(parameters: [], hyperparameters: [:], featureCount: 4))
    }

    func testRegistry() {
        XCTAssertEqual(
            Trainers.all.map(\.algorithm),
            ["linear-regression", "ridge", "logistic-regression", "linear-svm", "decision-tree", "random-forest"])
        XCTAssertEqual(Trainers.all.first?.task, Learning.Task.regression)
        XCTAssertThrowsError(try Trainers.named("svm")) { error in
            XCTAssertEqual(
                "\(error)",
                "unknown algorithm 'svm' (known: linear-regression, ridge, logistic-regression, linear-svm, decision-tree, random-forest)")
        }
    }
}
