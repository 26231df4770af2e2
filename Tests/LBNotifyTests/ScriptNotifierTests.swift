import Foundation
import LBClusterView
import LBNotify
import XCTest

#if canImport(Glibc)
import Glibc
#endif

final class ScriptNotifierTests: XCTestCase {
    func script(_ body: String) throws -> (path: String, dir: URL) {
        let dir = try temporaryDirectory(self)
        let path = dir.appendingPathComponent("notify.sh").path
        try ("#!/bin/sh\n" + body).write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        return (path, dir)
    }

    func testArgumentsEnvironmentAndStandardInput() async throws {
        let (path, dir) = try script("""
            out="$(dirname "$0")/out"
            { echo "$#"; printf '[%s]\\n' "$@"; env | grep -E '^LB_(CLUSTER|EVENT_)' | sort; cat; } > "$out"
            echo "said something"
            """)
        let receipt = try await ScriptNotifier(path: path, cluster: "web", logger: quietLogger).deliver(event(message: "lb1: it's \"quoted\""))
        XCTAssertEqual(receipt.output, "said something\n")
        XCTAssertEqual(try String(contentsOf: dir.appendingPathComponent("out"), encoding: .utf8), """
            3
            [vrrp-transition]
            [lb1]
            [7]
            LB_CLUSTER=web
            LB_EVENT_KIND=vrrp-transition
            LB_EVENT_MESSAGE=lb1: it's "quoted"
            LB_EVENT_NODE=lb1
            LB_EVENT_VERSION=7
            {"at":"2025-12-02T10:15:00Z","cluster":"web","id":42,"kind":"vrrp-transition","message":"lb1: it's \\"quoted\\"","node":"lb1","version":7}

            """)
        // Absent fields are empty arguments, not missing ones.
        try await ScriptNotifier(path: path, cluster: "web", logger: quietLogger).deliver(event(.applied, node: nil, version: nil))
        let lines = try String(contentsOf: dir.appendingPathComponent("out"), encoding: .utf8).components(separatedBy: "\n")
        XCTAssertEqual(Array(lines.prefix(4)), ["3", "[version-accepted]", "[]", "[]"])
    }

    func testNonZeroExitFailsWithTheLastLine() async throws {
        let (path, _) = try script("echo working; echo 'no route to pager' >&2; exit 3\n")
        do {
            try await ScriptNotifier(path: path, cluster: "web", logger: quietLogger).deliver(event())
            XCTFail("exit 3 is a failure")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .refused)
            XCTAssertEqual(error.message, "script \(path): exit status 3: no route to pager")
        }
    }

    func testHangingScriptIsKilledWithItsGroupAtTheTimeout() async throws {
        let (path, dir) = try script("""
            sleep 1000 &
            echo $! > "$(dirname "$0")/child"
            echo $$ > "$(dirname "$0")/shell"
            wait
            """)
        let start = ContinuousClock.now
        do {
            try await ScriptNotifier(path: path, cluster: "web", timeout: .milliseconds(500), logger: quietLogger).deliver(event())
            XCTFail("a script that never ends must be stopped")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .timedOut)
            XCTAssertEqual(error.message, "script \(path): still running after 0.5 s; killed it and its process group")
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(3))
        let shell = try XCTUnwrap(Int32(String(contentsOf: dir.appendingPathComponent("shell"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        let child = try XCTUnwrap(Int32(String(contentsOf: dir.appendingPathComponent("child"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // The script itself was reaped: its pid is gone, not a zombie.
        XCTAssertEqual(kill(shell, 0), -1)
        XCTAssertEqual(errno, ESRCH)
        // Its background child was killed with the group (init reaps it, if it has not yet).
        let gone = await eventually(within: 2) { !isRunning(child) }
        XCTAssertTrue(gone, "the background sleep \(child) must not outlive the script")
    }

    func testMissingScript() async throws {
        do {
            try await ScriptNotifier(path: "/nonexistent/notify.sh", cluster: "web", logger: quietLogger).deliver(event())
            XCTFail("nothing to run")
        } catch let error as NotifyError {
            XCTAssertEqual(error.code, .unreachable)
            XCTAssertTrue(error.message.hasPrefix("script /nonexistent/notify.sh: cannot run it: "), error.message)
        }
    }
}
