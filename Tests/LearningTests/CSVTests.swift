import Foundation
import XCTest

@testable import Learning

final class CSVTests: XCTestCase {
    private func parse(_ text: String, source: String = "t.csv") throws -> CSVTable {
        try CSV.parse(Data(text.utf8), source: source)
    }

    private func message(_ text: String, source: String = "t.csv") -> String {
        do {
            _ = try parse(text, source: source)
            XCTFail("expected an error for \(text.debugDescription)")
            return ""
        } catch {
            return "\(error)"
        }
    }

    func testSimple() throws {
        let table = try parse("a,b\n1,2\n3,4\n")
        XCTAssertEqual(table.header, ["a", "b"])
        XCTAssertEqual(table.rows, [["1", "2"], ["3", "4"]])
        XCTAssertEqual(table.rowLines, [2, 3])
    }

    func testFinalNewlineOptionalAndTrailingBlankLinesIgnored() throws {
        XCTAssertEqual(try parse("a,b\n1,2").rows, [["1", "2"]])
        XCTAssertEqual(try parse("a,b\n1,2\n\n\n").rows, [["1", "2"]])
        XCTAssertEqual(try parse("a,b\r\n1,2\r\n\r\n").rows, [["1", "2"]])
    }

    func testQuoting() throws {
        let text = "name,note\n\"Smith, J\",\"said \"\"hi\"\"\"\n\"multi\nline\",\"\"\nplain,\"x\"\n"
        let table = try parse(text)
        XCTAssertEqual(
            table.rows,
            [
                ["Smith, J", "said \"hi\""],
                ["multi\nline", ""],
                ["plain", "x"],
            ])
        // The row after a two-line quoted field starts on line 5, not 4.
        XCTAssertEqual(table.rowLines, [2, 3, 5])
    }

    func testQuotedHeaderAndEmptyFields() throws {
        let table = try parse("\"a,1\",b,c\n,,\n")
        XCTAssertEqual(table.header, ["a,1", "b", "c"])
        XCTAssertEqual(table.rows, [["", "", ""]])
    }

    func testCRLF() throws {
        let table = try parse("a,b\r\n1,\"x\r\ny\"\r\n3,4\r\n")
        XCTAssertEqual(table.rows, [["1", "x\r\ny"], ["3", "4"]])
        XCTAssertEqual(table.rowLines, [2, 4])
    }

    func testBOMStripped() throws {
        var data = Data([0xEF, 0xBB, 0xBF])
        data.append(Data("x,y\n1,2\n".utf8))
        let table = try CSV.parse(data, source: "bom.csv")
        XCTAssertEqual(table.header, ["x", "y"])
    }

    func testUnicodeContent() throws {
        let table = try parse("größe,ü\n\"é,ñ\",😀\n")
        XCTAssertEqual(table.header, ["größe", "ü"])
        XCTAssertEqual(table.rows, [["é,ñ", "😀"]])
    }

    func testEmptyFile() {
        XCTAssertEqual(message("", source: "train.csv"), "'train.csv' is empty: expected a header line and data rows")
        XCTAssertEqual(message("\n\n", source: "train.csv"), "'train.csv' is empty: expected a header line and data rows")
        XCTAssertEqual(
            (try? CSV.parse(Data([0xEF, 0xBB, 0xBF]), source: "b.csv")).map { _ in "parsed" } ?? "error", "error")
    }

    func testHeaderOnly() {
        XCTAssertEqual(message("a,b\n", source: "x.csv"), "'x.csv' has a header but no data rows")
        XCTAssertEqual(message("a,b", source: "x.csv"), "'x.csv' has a header but no data rows")
    }

    func testFieldCountMismatch() {
        XCTAssertEqual(message("a,b,c\n1,2,3\n4,5\n"), "'t.csv' line 3 has 2 fields but the header has 3")
        XCTAssertEqual(message("a,b\n1,2,3\n"), "'t.csv' line 2 has 3 fields but the header has 2")
        let blank = message("a,b\n1,2\n\n3,4\n")
        XCTAssertTrue(blank.hasPrefix("'t.csv' line 3 has 1 field but the header has 2"), blank)
    }

    func testUnterminatedQuote() {
        XCTAssertEqual(
            message("a,b\n1,2\n3,\"oops\n4,5\n"),
            "'t.csv' line 3: a quoted field is never closed; add the missing '\"'")
    }

    func testTextAfterClosingQuote() {
        let text = message("a,b\n\"x\"y,2\n")
        XCTAssertTrue(text.hasPrefix("'t.csv' line 2: unexpected text after a closing quote"), text)
    }

    func testHeaderNames() {
        XCTAssertEqual(message("a,,c\n1,2,3\n"), "'t.csv' header column 2 has an empty name; give every column a name")
        XCTAssertEqual(
            message("a,b,a\n1,2,3\n"),
            "'t.csv' header names column 'a' twice (columns 1 and 3); rename one of them")
    }

    func testInvalidUTF8() {
        var data = Data("a,b\n1,2\n".utf8)
        data.append(contentsOf: [0x33, 0xFF, 0x2C, 0x34, 0x0A])
        XCTAssertThrowsError(try CSV.parse(data, source: "bad.csv")) { error in
            XCTAssertEqual("\(error)", "'bad.csv' line 3 is not valid UTF-8; save the file as UTF-8")
            XCTAssertEqual(error.localizedDescription, "'bad.csv' line 3 is not valid UTF-8; save the file as UTF-8")
        }
    }

    func testMessagesAreOneLineLowercaseNoPeriod() {
        let errors: [LearningError] = [
            .emptyFile(source: "a.csv"), .headerOnly(source: "a.csv"),
            .fieldCountMismatch(source: "a.csv", line: 3, expected: 2, actual: 1),
            .missingValue(row: 4, column: "x"), .invalidTestFraction(1.5),
            .unknownAlgorithm(name: "foo", known: ["linear-regression"]),
            .linearlyDependentColumn(algorithm: "linear-regression", column: "x2"),
            .featureCountMismatch(expected: 2, actual: 3),
        ]
        for error in errors {
            let text = error.description
            XCTAssertFalse(text.contains("\n"), text)
            XCTAssertFalse(text.hasSuffix("."), text)
            if let first = text.first, first.isLetter {
                XCTAssertTrue(first.isLowercase, text)
            }
        }
    }
}
