import Foundation
import ModelFormat
import XCTest

/// Runs python3 (with numpy) as the reference implementation. Missing python or numpy fails the
/// test with a clear message instead of skipping, so the cross-checks cannot silently vanish.
enum TensorTestPython {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    @discardableResult
    static func run(_ script: String, _ arguments: [String] = []) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script] + arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot start python3 (needed with numpy for cross-checks): \(error)")
        }
        // Read before waiting so a full pipe cannot deadlock the child.
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(
                description: "python3 failed (is numpy installed? `pip install numpy`): "
                    + String(decoding: stderr, as: UTF8.self))
        }
        return String(decoding: stdout, as: UTF8.self)
    }

    static func requireModule(_ module: String) throws {
        do {
            try run("import \(module)")
        } catch {
            throw Failure(description: "python3 module '\(module)' is missing; install it with `pip install \(module)`")
        }
    }
}

/// A fresh directory per test, removed afterwards.
final class TensorTestDir {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("modelformat-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func file(_ name: String) -> URL { url.appendingPathComponent(name) }
    deinit { try? FileManager.default.removeItem(at: url) }
}

func assertThrowsTensorMessage<T>(
    _ expression: @autoclosure () throws -> T, _ expected: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
        XCTAssertTrue(error is TensorFormatError, "unexpected error type \(type(of: error)): \(error)", file: file, line: line)
        XCTAssertEqual("\(error)", expected, file: file, line: line)
        XCTAssertEqual((error as? LocalizedError)?.errorDescription, expected, file: file, line: line)
        XCTAssertFalse("\(error)".contains("\n"), "message must be one line", file: file, line: line)
    }
}
