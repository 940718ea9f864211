import Foundation
import SystemIO
import XCTest

/// Waiting for child processes by their termination handler.
final class ChildExitTests: XCTestCase {
    func shell(_ script: String) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        return process
    }

    func testTheStatusIsReadyAfterTheWaitAsAShellReportsIt() throws {
        let exits = shell("exit 3")
        try ChildExit(starting: exits).wait()
        XCTAssertEqual(exits.shellStatus, 3)
        let killed = shell("kill -9 $$")
        let exit = try ChildExit(starting: killed)
        exit.wait()
        exit.wait()  // a second wait returns too
        XCTAssertEqual(killed.shellStatus, 128 + 9)
    }

    func testABoundedWaitTellsARunningChildFromAnExitedOne() throws {
        // sleep itself, not a shell around it: Foundation sees a child exit once every process
        // that inherited its descriptors has (a shell's own child would outlive the kill).
        let sleeper = Process()
        sleeper.executableURL = URL(fileURLWithPath: "/bin/sleep")
        sleeper.arguments = ["30"]
        let exit = try ChildExit(starting: sleeper)
        XCTAssertFalse(exit.wait(atMost: 0.2), "still running")
        kill(sleeper.processIdentifier, SIGKILL)
        XCTAssertTrue(exit.wait(atMost: 10))
        XCTAssertEqual(sleeper.shellStatus, 128 + 9)
    }

    func testAProgramThatCannotStartThrows() {
        let missing = Process()
        missing.executableURL = URL(fileURLWithPath: "/nonexistent/program")
        XCTAssertThrowsError(try ChildExit(starting: missing))
    }
}
