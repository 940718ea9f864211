import XCTest

@testable import Learning

final class PreprocessingTests: XCTestCase {
    private func table(_ text: String) throws -> CSVTable {
        try CSV.parse(Data(text.utf8), source: "t.csv")
    }

    func testOneHotNumericAndSchemaRoundTrip() throws {
        let t = try table("size,color,y\n1.5,red,a\n2,blue,b\n3,red,a\n")
        let (schema, x) = try Preprocessing.fit(t, excluding: ["y"], options: PreprocessingOptions(), source: "t.csv")
        XCTAssertEqual(schema.featureNames, ["size", "color=blue", "color=red"])
        XCTAssertEqual(schema.columns.map(\.kind), [.numeric, .categorical])
        XCTAssertEqual(x, Matrix(rowArrays: [[1.5, 0, 1], [2, 1, 0], [3, 0, 1]]))
        // The schema survives JSON (as the manifest stores it) and encodes new data the same way.
        let decoded = try JSONDecoder().decode(FeatureSchema.self, from: JSONEncoder().encode(schema))
        XCTAssertEqual(decoded, schema)
        let fresh = try table("color,size\nblue,4\n")
        XCTAssertEqual(
            try Preprocessing.apply(decoded, to: fresh, excluding: ["y"], source: "new.csv"),
            Matrix(rowArrays: [[4, 1, 0]]))
    }

    func testApplyErrors() throws {
        let t = try table("size,color,y\n1,red,a\n2,blue,b\n")
        let (schema, _) = try Preprocessing.fit(t, excluding: ["y"], options: PreprocessingOptions(), source: "t.csv")
        XCTAssertThrowsError(try Preprocessing.apply(schema, to: try table("size\n1\n"), excluding: [], source: "n.csv")) { error in
            XCTAssertEqual(
                "\(error)", "no feature column 'color' in 'n.csv' (columns: size); the model needs every feature it was trained on")
        }
        XCTAssertThrowsError(try Preprocessing.apply(schema, to: try table("size,color,z\n1,red,0\n"), excluding: [], source: "n.csv")) {
            error in
            XCTAssertEqual("\(error)", "'n.csv' has column 'z' that the model was not trained on; drop the column")
        }
        XCTAssertThrowsError(try Preprocessing.apply(schema, to: try table("size,color\n1,green\n"), excluding: [], source: "n.csv")) {
            error in
            XCTAssertEqual(
                "\(error)",
                "row 2, column 'color': category 'green' was not seen in training (known: blue, red); fix the value or allow unknown categories"
            )
        }
        XCTAssertThrowsError(try Preprocessing.apply(schema, to: try table("size,color\nbig,red\n"), excluding: [], source: "n.csv")) {
            error in
            XCTAssertEqual(
                "\(error)", "row 2, column 'size': 'big' is not a number, but the model was trained with 'size' numeric; fix the value")
        }
        var lenient = schema
        lenient.ignoreUnknownCategories = true
        XCTAssertEqual(
            try Preprocessing.apply(lenient, to: try table("size,color\n1,green\n"), excluding: [], source: "n.csv"),
            Matrix(rowArrays: [[1, 0, 0]]))
    }

    func testMissingValuesRefusedUnlessImputed() throws {
        let t = try table("a,b,y\n1,x,0\nNA,y,1\n4,,0\n7,y,1\n")
        XCTAssertThrowsError(try Preprocessing.fit(t, excluding: ["y"], options: PreprocessingOptions(), source: "t.csv")) { error in
            XCTAssertEqual("\(error)", "row 3, column 'a': missing value; fill it in, or pass --impute mean, median or most-frequent")
        }
        let (mean, xMean) = try Preprocessing.fit(t, excluding: ["y"], options: PreprocessingOptions(impute: .mean), source: "t.csv")
        XCTAssertEqual(mean.columns[0].fill, "4.0")
        XCTAssertEqual(mean.columns[1].fill, "y")  // labels take the most frequent value
        XCTAssertEqual(xMean.column(0), [1, 4, 4, 7])
        XCTAssertEqual(xMean.column(2), [0, 1, 1, 1])
        let (_, xMedian) = try Preprocessing.fit(
            try table("a,y\n1,0\n,1\n2,0\n10,1\n"), excluding: ["y"], options: PreprocessingOptions(impute: .median), source: "t.csv")
        XCTAssertEqual(xMedian.column(0), [1, 2, 2, 10])
        let (_, xMode) = try Preprocessing.fit(
            try table("a,y\n3,0\n,1\n2,0\n3,1\n2,1\n"), excluding: ["y"], options: PreprocessingOptions(impute: .mostFrequent),
            source: "t.csv")
        XCTAssertEqual(xMode.column(0), [3, 2, 2, 3, 2])  // tie 2 vs 3: the smaller, as SimpleImputer
        XCTAssertThrowsError(
            try Preprocessing.fit(
                try table("a,y\nNaN,0\n,1\n"), excluding: ["y"], options: PreprocessingOptions(impute: .mean), source: "t.csv")
        ) { error in
            XCTAssertEqual("\(error)", "column 'a' has no values at all; drop it or fill it in")
        }
    }

    func testNonFiniteRefused() throws {
        XCTAssertThrowsError(
            try Preprocessing.fit(try table("a,y\n1,0\ninf,1\n"), excluding: ["y"], options: PreprocessingOptions(), source: "t.csv")
        ) { error in
            XCTAssertEqual("\(error)", "row 3, column 'a': 'inf' is not a finite number")
        }
    }

    func testStandardizeAsStandardScaler() throws {
        let t = try table("a,c,y\n1,5,0\n2,5,1\n3,5,0\n6,5,1\n")
        let (schema, x) = try Preprocessing.fit(t, excluding: ["y"], options: PreprocessingOptions(standardize: true), source: "t.csv")
        XCTAssertEqual(schema.columns[0].mean, 3)
        XCTAssertEqual(try XCTUnwrap(schema.columns[0].std), (14.0 / 4).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(schema.columns[1].std, 1)  // constant column: scale 1, not a division by zero
        XCTAssertEqual(x.column(1), [0, 0, 0, 0])
        XCTAssertEqual(x.column(0).reduce(0, +), 0, accuracy: 1e-12)
    }

    func testTargetSchema() throws {
        let t = try table("x,y\n1,dog\n2,cat\n3,dog\n4,bird\n")
        let (data, target, _) = try Dataset.load(t, target: "y", task: .classification, source: "t.csv")
        XCTAssertEqual(target.classes, ["bird", "cat", "dog"])
        XCTAssertEqual(data.target, [2, 1, 2, 0])
        XCTAssertEqual(target.label(of: 1), "cat")
        // Integer labels sort numerically, as np.unique on integers.
        let numeric = try TargetSchema.infer(try table("x,y\n1,10\n2,9\n3,9.0\n"), target: "y", task: .classification, source: "t.csv")
        XCTAssertEqual(numeric.classes, ["9", "10"])
        XCTAssertEqual(try numeric.encode(try table("x,y\n1,10\n2,9.0\n"), source: "t.csv"), [1, 0])
        XCTAssertThrowsError(try target.encode(try table("x,y\n1,fish\n"), source: "e.csv")) { error in
            XCTAssertEqual(
                "\(error)",
                "row 2, target 'y': class 'fish' was not seen in training (known: bird, cat, dog); remove the row or retrain with it")
        }
        XCTAssertThrowsError(try Dataset.load(t, target: "y", task: .regression, source: "t.csv")) { error in
            XCTAssertEqual(
                "\(error)",
                "row 2, target 'y': 'dog' is not a number, but regression needs a numeric target; choose a classification algorithm or a numeric target column"
            )
        }
        let decoded = try JSONDecoder().decode(TargetSchema.self, from: JSONEncoder().encode(target))
        XCTAssertEqual(decoded, target)
        let evaluation = try Dataset.load(
            try table("y,x\ncat,7\n"), target: target,
            features: try Dataset.load(t, target: "y", task: .classification, source: "t.csv").features, source: "e.csv")
        XCTAssertEqual(evaluation.target, [1])
        XCTAssertEqual(evaluation.features.values, [7])
    }
}
