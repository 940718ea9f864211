import Foundation
import XCTest

@testable import Learning

/// Reads the scikit-learn fixtures made by Fixtures/make_fixtures.py. They are located
/// from this file's path so the test target needs no resource declaration.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// Decoded with JSONDecoder because JSONSerialization on Linux does not round every
    /// decimal to the nearest Double, and tie-sensitive metrics need the exact values.
    static func json(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try XCTUnwrap(try JSONDecoder().decode(JSONValue.self, from: data).any as? [String: Any])
    }

    static func table(_ name: String) throws -> CSVTable {
        try CSV.parse(try Data(contentsOf: directory.appendingPathComponent(name)), source: name)
    }
}

/// Just enough JSON to read the fixtures, as Foundation values.
enum JSONValue: Decodable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case array([JSONValue])
    case object([String: JSONValue])
    case null

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    var any: Any {
        switch self {
        case .number(let value): return NSNumber(value: value)
        case .string(let value): return value
        case .bool(let value): return value
        case .array(let values): return values.map(\.any)
        case .object(let values): return values.mapValues(\.any)
        case .null: return NSNull()
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    func object(_ key: String) throws -> [String: Any] { try XCTUnwrap(self[key] as? [String: Any], key) }
    func double(_ key: String) throws -> Double { try XCTUnwrap((self[key] as? NSNumber)?.doubleValue, key) }
    func doubles(_ key: String) throws -> [Double] {
        if let nested = self[key] as? [[NSNumber]] { return nested.flatMap { $0.map(\.doubleValue) } }
        return try XCTUnwrap((self[key] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue }, key)
    }
    func ints(_ key: String) throws -> [Int] { try doubles(key).map { Int($0) } }
    func strings(_ key: String) throws -> [String] { try XCTUnwrap(self[key] as? [String], key) }
    func matrix(_ key: String) throws -> Matrix {
        let rows = try XCTUnwrap((self[key] as? [Any])?.compactMap { ($0 as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } }, key)
        return Matrix(rowArrays: rows)
    }
    func intMatrix(_ key: String) throws -> [[Int]] {
        try matrix(key).values.chunked(into: try matrix(key).columns).map { $0.map { Int($0) } }
    }
}

/// |a - b| ≤ tolerance·max(1, |b|): relative for large values, absolute near zero.
func assertClose(
    _ a: [Double], _ b: [Double], relative tolerance: Double, _ message: String = "", file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertEqual(a.count, b.count, message, file: file, line: line)
    for (x, y) in zip(a, b) where !(abs(x - y) <= tolerance * max(1, abs(y))) {
        XCTFail("\(message): \(a) vs \(b)", file: file, line: line)
        return
    }
}

/// Fits `trainer`, reloads it from its tensors and stored hyperparameters, and checks the
/// reloaded model predicts (and scores) bit for bit like the fitted one.
func assertReloadsBitForBit(
    _ trainer: any Trainer, _ data: Dataset, _ hyperparameters: [String: String] = [:], file: StaticString = #filePath, line: UInt = #line
) throws {
    let model = try trainer.fit(data, hyperparameters: hyperparameters)
    let stored = Dictionary(uniqueKeysWithValues: model.hyperparameters.map { ($0.name, $0.value) })
    let loaded = try trainer.load(parameters: model.parameters, hyperparameters: stored, featureCount: data.features.columns)
    XCTAssertEqual(
        try model.predict(data.features).map(\.bitPattern), try loaded.predict(data.features).map(\.bitPattern),
        "\(trainer.algorithm) predictions", file: file, line: line)
    XCTAssertEqual(
        try model.predictProbabilities(data.features)?.values.map(\.bitPattern),
        try loaded.predictProbabilities(data.features)?.values.map(\.bitPattern),
        "\(trainer.algorithm) probabilities", file: file, line: line)
    XCTAssertEqual(loaded.hyperparameters, model.hyperparameters, file: file, line: line)
    XCTAssertEqual(loaded.parameters, model.parameters, file: file, line: line)
    XCTAssertEqual(loaded.classes, model.classes, file: file, line: line)
}

extension Array {
    func chunked(into size: Int) -> [[Element]] {
        stride(from: 0, to: count, by: Swift.max(size, 1)).map { Array(self[$0..<Swift.min($0 + size, count)]) }
    }
}
