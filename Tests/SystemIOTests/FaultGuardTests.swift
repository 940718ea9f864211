import Foundation
import SystemIO
import TestSupport
import XCTest

/// A mapped file cut short by another program: mv must end with its one-line error and
/// status 1, not die of SIGBUS. The fault kills the process, so it happens in a child: this
/// test binary run again on `testChildTouchesAFileCutShort` alone.
final class FaultGuardTests: GitTestCase {
    private static let childVariable = "MV_TEST_INPUT_FAULT_FILE"

    func testAFileCutShortWhileMappedEndsWithAnErrorMessage() throws {
        let file = root.appendingPathComponent("weights.bin")
        try Data(repeating: 7, count: 1 << 20).write(to: file)
        let child = Process()
        child.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
        child.arguments = ["SystemIOTests.FaultGuardTests/testChildTouchesAFileCutShort"]
        child.environment = ProcessInfo.processInfo.environment.merging([Self.childVariable: file.path]) { $1 }
        let errors = Pipe()
        child.standardError = errors
        child.standardOutput = FileHandle.nullDevice
        try child.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        child.waitUntilExit()
        XCTAssertEqual(child.terminationReason, .exit, "ended by itself, not by the signal: \(stderr)")
        XCTAssertEqual(child.terminationStatus, 1, stderr)
        XCTAssertTrue(stderr.contains("mv: error: the input was cut short\n"), stderr)
        XCTAssertFalse(stderr.contains("without a fault"), "the child did not go on after the fault: \(stderr)")
    }

    /// Runs only as the child of the test above.
    func testChildTouchesAFileCutShort() throws {
        guard let path = ProcessInfo.processInfo.environment[Self.childVariable] else {
            throw XCTSkip("runs as the child of testAFileCutShortWhileMappedEndsWithAnErrorMessage")
        }
        let fd = open(path, O_RDONLY)
        XCTAssertGreaterThanOrEqual(fd, 0)
        let length = 1 << 20
        let mapping = try XCTUnwrap(mmap(nil, length, PROT_READ, MAP_PRIVATE, fd, 0))
        XCTAssertEqual(truncate(path, 0), 0)
        let touched = FaultGuard.guarding(message: "mv: error: the input was cut short\n") {
            mapping.load(fromByteOffset: length / 2, as: UInt8.self)
        }
        XCTFail("read \(touched) past the end of a truncated file without a fault")
    }
}
