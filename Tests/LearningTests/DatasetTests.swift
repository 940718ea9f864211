import Foundation
import XCTest

@testable import Learning

final class DatasetTests: XCTestCase {
    private func table(_ text: String) throws -> CSVTable {
        try CSV.parse(Data(text.utf8), source: "train.csv")
    }

    private func loadMessage(_ text: String, target: String = "y") -> String {
        do {
            _ = try Dataset.load(try table(text), target: target, source: "train.csv")
            XCTFail("expected an error")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testLoad() throws {
        let data = try Dataset.load(try table("x1,y,x2\n1,10,2\n3, 20 ,4.5\n"), target: "y", source: "train.csv")
        XCTAssertEqual(data.featureNames, ["x1", "x2"])
        XCTAssertEqual(data.targetName, "y")
        XCTAssertEqual(data.features, Matrix(rows: 2, columns: 2, values: [1, 2, 3, 4.5]))
        XCTAssertEqual(data.target, [10, 20])
        XCTAssertEqual(data.count, 2)
        XCTAssertEqual(data.features[1, 1], 4.5)
    }

    func testMissingTarget() {
        XCTAssertEqual(
            loadMessage("x1,x2\n1,2\n"),
            "no column 'y' in 'train.csv' (columns: x1, x2); pass the target with --target")
    }

    func testNotANumberUsesFileLine() {
        XCTAssertEqual(
            loadMessage("x1,x2,y\n1,2,3\n1,2,3\n4,5,6\n1,2,3\n1,2,3\n7,abc,9\n"),
            "row 7, column 'x2': 'abc' is not a number")
        // A row after a multi-line quoted field is reported by its real file line.
        let shifted = CSVTable(header: ["x", "y"], rows: [["1", "2"], ["oops", "3"]], rowLines: [2, 5])
        XCTAssertThrowsError(try Dataset.load(shifted, target: "y", source: "s.csv")) { error in
            XCTAssertEqual("\(error)", "row 5, column 'x': 'oops' is not a number")
        }
    }

    func testMissingValue() {
        XCTAssertEqual(loadMessage("x,y\n1,2\n3,4\n,5\n"), "row 4, column 'x': missing value")
        XCTAssertEqual(loadMessage("x,y\n1,  \n"), "row 2, column 'y': missing value")
    }

    func testNonFinite() {
        XCTAssertEqual(loadMessage("x,y\nnan,1\n"), "row 2, column 'x': 'nan' is not a finite number")
        XCTAssertEqual(loadMessage("x,y\n1,inf\n"), "row 2, column 'y': 'inf' is not a finite number")
        XCTAssertEqual(loadMessage("x,y\n1e999,1\n"), "row 2, column 'x': '1e999' is not a finite number")
    }

    func testOnlyTarget() {
        XCTAssertEqual(
            loadMessage("y\n1\n2\n"),
            "'train.csv' has only the target column 'y': add at least one feature column")
    }

    func testFeaturesByName() throws {
        let t = try table("b,a,c\n1,2,3\n4,5,6\n")
        let m = try Dataset.features(t, names: ["c", "a"], source: "new.csv")
        XCTAssertEqual(m, Matrix(rows: 2, columns: 2, values: [3, 2, 6, 5]))
        XCTAssertThrowsError(try Dataset.features(t, names: ["a", "z"], source: "new.csv")) { error in
            XCTAssertTrue("\(error)".hasPrefix("no feature column 'z' in 'new.csv' (columns: b, a, c)"), "\(error)")
        }
    }

    func testSubset() throws {
        let data = try Dataset.load(try table("x,y\n1,10\n2,20\n3,30\n"), target: "y", source: "train.csv")
        let sub = data.subset([2, 0])
        XCTAssertEqual(sub.features.values, [3, 1])
        XCTAssertEqual(sub.target, [30, 10])
        XCTAssertEqual(sub.featureNames, ["x"])
    }
}
