import Foundation
import Learning
import XCTest

/// The one reader of numbers in cells: decimal notation, read to the same double Swift's
/// own parser gives, whichever path (direct or fallback) a text takes.
final class NumberTests: XCTestCase {
    func testDecimalTextsReadAsSwiftReadsThem() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let digits = Int.random(in: 1...22, using: &generator)
            var text = Bool.random(using: &generator) ? "-" : ""
            let point = Int.random(in: 0...digits, using: &generator)
            for index in 0..<digits {
                if index == point { text += "." }
                text += String(Int.random(in: 0...9, using: &generator))
            }
            if Bool.random(using: &generator) { text += "e\(Int.random(in: -30...30, using: &generator))" }
            XCTAssertEqual(Number.parse(text), Double(text), text)
        }
        for text in ["0", "-0", "5.", ".5", "1e5", "1E+05", "0.1", "123456789012345678901234", "2.2250738585072014e-308"] {
            XCTAssertEqual(Number.parse(text), Double(text), text)
        }
    }

    func testOnlyDecimalNotation() {
        for text in ["", "+", "-", ".", "e5", "1e", "1e+", "0x10", "1_000", "1,5", " 1", "1 ", "--1", "1.2.3"] {
            XCTAssertNil(Number.parse(text), text)
        }
        XCTAssertEqual(Number.parse("inf"), .infinity, "named, for callers to refuse by name")
        XCTAssertTrue(Number.parse("NaN")?.isNaN == true)
    }
}
