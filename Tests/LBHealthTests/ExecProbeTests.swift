import Foundation
import LBHealth
import LBSpec
import XCTest

final class ExecProbeTests: ProbeTestCase {
    private let target = Endpoint(address: IPAddress("127.0.0.1")!, port: 8080)
    private var scratch: URL!

    override func setUp() {
        super.setUp()
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lbhealth-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDown() async throws {
        try? FileManager.default.removeItem(at: scratch)
        XCTAssertEqual(zombieChildren(), [], "a probe left a zombie behind")
        try await super.tearDown()
    }

    private func exec(_ command: String, timeoutMilliseconds: Int = 2000, port: Int? = nil) async -> ProbeResult {
        await probe.probe(check(.exec, timeoutMilliseconds: timeoutMilliseconds, command: command, port: port), target: target)
    }

    // The address and port are appended to the command text, so commands below that must not see them end
    // in `;:` (the arguments go to `:`, which ignores them).

    func testExitZeroPasses() async {
        let result = await exec("true")
        XCTAssertEqual(result.outcome, .success)
        XCTAssertEqual(result.output, "")
    }

    func testExitOneFails() async {
        XCTAssertFailure(await exec("exit 1"), "exit status 1")
        XCTAssertFailure(await exec("sh -c 'exit 2'"), "exit status 2")
    }

    func testKilledBySignal() async {
        XCTAssertFailure(await exec("kill -TERM $$"), "killed by signal 15")
    }

    /// The address and the check's port are the last arguments; printf shows them one per field.
    func testAddressAndPortAreAppendedAsArguments() async {
        let result = await exec("printf '%s|'")
        XCTAssertEqual(result.output, "127.0.0.1|8080|")
        let overridden = await exec("printf '%s|'", port: 9000)
        XCTAssertEqual(overridden.output, "127.0.0.1|9000|")
        let v6 = await probe.probe(check(.exec, command: "printf '%s|'"), target: Endpoint(address: IPAddress("2001:db8::1")!, port: 443))
        XCTAssertEqual(v6.output, "2001:db8::1|443|")
        let name = await exec("echo \"$0\" >&2; :")
        XCTAssertEqual(name.output, "lb-check\n")
    }

    func testOutputIsCombinedAndCut() async {
        let both = await exec("echo out; echo err >&2; :")
        XCTAssertEqual(both.output, "out\nerr\n")
        let chatty = await exec("head -c 1000000 /dev/zero | tr '\\0' a; exit 3")
        XCTAssertFailure(chatty, "exit status 3")
        XCTAssertEqual(chatty.output, String(repeating: "a", count: 4096) + "\n[output cut at 4 KiB]")
    }

    func testHangingCommandIsKilledAtTheTimeout() async {
        let started = ContinuousClock.now
        let result = await exec("sleep 30;:", timeoutMilliseconds: 500)
        let took = ContinuousClock.now - started
        XCTAssertFailure(result, "timed out after 500ms (killed)")
        XCTAssertGreaterThanOrEqual(took, .milliseconds(490))
        XCTAssertLessThan(took, .milliseconds(1500))
    }

    /// The shell waits on a child of its own; at the timeout the whole process group dies, not only the shell.
    func testTimeoutKillsTheWholeGroup() async throws {
        let pids = scratch.appendingPathComponent("pids").path
        let result = await exec("sleep 30 & \(Self.recordGroup) > \(pids); wait;:", timeoutMilliseconds: 500)
        XCTAssertFailure(result, "timed out after 500ms (killed)")
        try await assertGroupGone(pidFile: pids)
    }

    /// A command that exits at once but leaves a child behind passes at once, and the child is killed.
    func testLeftoverChildIsKilledAfterAPass() async throws {
        let pids = scratch.appendingPathComponent("pids").path
        let result = await exec("sleep 30 & \(Self.recordGroup) > \(pids); :", timeoutMilliseconds: 5000)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertLessThan(result.latency, .seconds(2), "a child holding the output pipe does not hold the probe")
        try await assertGroupGone(pidFile: pids)
    }

    /// A command that closes its output and goes on working is waited for, not cut off when the output ends.
    func testCommandThatClosesItsOutputIsWaitedFor() async {
        let result = await exec("exec >/dev/null 2>&1; sleep 0.3; exit 4", timeoutMilliseconds: 3000)
        XCTAssertFailure(result, "exit status 4")
        XCTAssertGreaterThanOrEqual(result.latency, .milliseconds(290))
    }

    func testMissingProgramFails() async {
        XCTAssertFailure(await exec("/nonexistent/check"), "exit status 127")
    }

    /// Fifty commands at once add no thread per command: swift-subprocess watches them all from one thread.
    func testConcurrentCommandsDoNotAddAThreadEach() async {
        let probe = self.probe!
        let sleeper = check(.exec, timeoutMilliseconds: 5000, command: "sleep 0.5;:")
        let target = self.target
        let before = threadCount()
        let (outcomes, peak) = await withTaskGroup(of: ProbeResult.Outcome.self) { tasks in
            for _ in 0..<50 { tasks.addTask { await probe.probe(sleeper, target: target).outcome } }
            try? await Task.sleep(for: .milliseconds(250))
            let peak = threadCount()
            return (await tasks.reduce(into: []) { $0.append($1) }, peak)
        }
        XCTAssertEqual(outcomes, Array(repeating: .success, count: 50))
        XCTAssertLessThan(peak - before, 10, "threads went from \(before) to \(peak)")
    }

    private func threadCount() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
    }

    /// Shell text printing the shell's pid, its background child's pid and that child's process group
    /// (field 5 of /proc/PID/stat; the child is `sleep`, a name without spaces).
    private static let recordGroup = "echo \"$$ $! $(cut -d' ' -f5 /proc/$!/stat)\""

    private func assertGroupGone(pidFile: String, file: StaticString = #filePath, line: UInt = #line) async throws {
        let text = try String(contentsOfFile: pidFile, encoding: .utf8)
        let numbers = text.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        XCTAssertEqual(numbers.count, 3, text, file: file, line: line)
        guard numbers.count == 3 else { return }
        let group = numbers[0]
        XCTAssertEqual(numbers[2], group, "the child is in the group the shell leads", file: file, line: line)
        // SIGKILL is delivered at once, but a process dies when next scheduled: allow a moment.
        let dead = await eventually(within: .seconds(1)) { !processes().contains { $0.group == group && $0.state != "Z" } }
        XCTAssertTrue(dead, "processes of group \(group) still running: \(processes().filter { $0.group == group })",
                      file: file, line: line)
        // The dead children were orphans of init, which reaps them in its own time (about a second on this
        // machine); then the group is empty.
        let gone = await eventually(within: .seconds(5)) { kill(-group, 0) == -1 && errno == ESRCH }
        XCTAssertTrue(gone, "group \(group) still has members: \(processes().filter { $0.group == group })",
                      file: file, line: line)
    }
}

/// keepalived's misc_dynamic (check_misc.c): a real script's exit status is the verdict and the weight.
final class DynamicWeightProbeTests: ProbeTestCase {
    private let target = Endpoint(address: IPAddress("127.0.0.1")!, port: 8080)

    private func dynamic(_ status: Int, dynamicWeight: Bool = true) async -> ProbeResult {
        let check = HealthCheck(kind: .exec, command: "exit \(status);:", connectTimeoutMilliseconds: 2000, dynamicWeight: dynamicWeight)
        return await probe.probe(check, target: target)
    }

    func testExitStatusesAsKeepalivedReadsThem() async {
        let zero = await dynamic(0)
        XCTAssertEqual(zero.outcome, .success)
        XCTAssertNil(zero.weight, "0 passes at the planned weight")
        XCTAssertFailure(await dynamic(1), "exit status 1")
        for (status, weight) in [(2, 0), (3, 1), (12, 10), (255, 253)] {
            let result = await dynamic(status)
            XCTAssertEqual(result.outcome, .success, "exit \(status)")
            XCTAssertEqual(result.weight, weight, "exit \(status)")
        }
    }

    func testWithoutTheFlagEveryNonZeroStatusFails() async {
        let result = await dynamic(12, dynamicWeight: false)
        XCTAssertFailure(result, "exit status 12")
        XCTAssertNil(result.weight)
    }

    /// The command gets the address and port like any exec check, and its status can follow them.
    func testAScriptThatReadsItsLoad() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lb-dynamic-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let script = dir.appendingPathComponent("weight.sh")
        try "#!/bin/sh\n[ \"$1\" = 127.0.0.1 ] && [ \"$2\" = 8080 ] || exit 1\nexit $(( $(cat \"\(dir.path)/load\") + 2 ))\n"
            .write(to: script, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script.path)
        try "7".write(to: dir.appendingPathComponent("load"), atomically: true, encoding: .utf8)
        let check = HealthCheck(kind: .exec, command: script.path, connectTimeoutMilliseconds: 2000, dynamicWeight: true)
        let result = await probe.probe(check, target: target)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertEqual(result.weight, 7)
    }
}
