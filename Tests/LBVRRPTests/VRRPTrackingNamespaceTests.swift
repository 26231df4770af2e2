import Foundation
#if canImport(Glibc)
import Glibc
#endif
import LBHost
import LBNetlink
import LBSpec
import LBVRRP
import LBVRRPLab
@testable import LBVRRPRuntime
import XCTest

/// Track scripts run by real speakers of this process in network namespaces of the lab, on raw sockets
/// and the kernel's addresses: a script that starts failing moves the VIP to the other director, by
/// weight (the master's lowered priority lets the backup preempt) or by FAULT (the master resigns), and
/// back when it succeeds again. The scripts are real `/bin/sh -c` commands testing a file the test
/// removes and puts back.
final class VRRPTrackingNamespaceTests: XCTestCase {
    override func setUpWithError() throws {
        // As KeepalivedInteropTests: CI runs as root, and a silent skip would hide that this never ran.
        guard geteuid() == 0 else {
            XCTFail("VRRPTrackingNamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
    }

    func configuration(priority: Int, scripts: [VRRPTrackScript] = []) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: .v3, priority: priority,
                          advertisementIntervalCentiseconds: 20, virtualAddresses: [vip],
                          gratuitousARP: GratuitousARPSettings(count: 1, repeatDelay: nil), trackScripts: scripts)
    }

    /// a (150, tracking `flag`) and b (100) running in the lab; the flag file exists.
    func pair(_ script: (String) -> VRRPTrackScript) throws -> (Lab, VRRPSpeaker, VRRPSpeaker, flag: String, logs: () -> String, Transitions, [Task<Void, any Error>]) {
        let lab = try Lab(hosts: ["a", "b"])
        addTeardownBlock { lab.destroy() }
        let flag = "\(lab.directory)/a-ok"
        try Lab.write(flag, "ok\n")
        let nsA = lab.host("a").namespace, nsB = lab.host("b").namespace
        let logA = LogLines(), logB = LogLines()
        let a = VRRPSpeaker(configuration: configuration(priority: 150, scripts: [script("test -e \(flag)")]), host: try NamespaceHost(nsA),
                            transport: try inNamespace(nsA) { try RawSocketTransport(interface: "eth0") }, log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: try NamespaceHost(nsB),
                            transport: try inNamespace(nsB) { try RawSocketTransport(interface: "eth0") }, log: logB.append)
        let seenA = Transitions(a)
        let runs = [Task { try await a.run() }, Task { try await b.run() }]
        addTeardownBlock { for r in runs { r.cancel() } }
        return (lab, a, b, flag, { "--- a:\n\(logA.text)\n--- b:\n\(logB.text)" }, seenA, runs)
    }

    func waitFor(_ holder: String, of lab: Lab, within seconds: Double) -> Double? {
        lab.wait(timeout: seconds) { lab.holders(of: vip.address) == [holder] }
    }

    func testAFailingWeightedScriptLowersTheMasterSoTheBackupTakesTheVIP() async throws {
        let (lab, a, b, flag, logs, seenA, runs) = try pair { VRRPTrackScript(name: "chk_flag", command: $0, weight: -60) }
        XCTAssertNotNil(waitFor("a", of: lab, within: 10), "a (150) is elected\n\(logs())")
        let sa = await a.snapshot
        XCTAssertEqual(sa.priority, 150, "the succeeding script adds nothing (negative weight)")

        unlink(flag)
        // The script runs every second; then b's Master_Down_Interval (0.6 s + skew) after a advertises 90.
        let moved = waitFor("b", of: lab, within: 6)
        XCTAssertNotNil(moved, "the VIP moved to b\n\(logs())")
        let (after, bState) = (await a.snapshot, await b.state)
        XCTAssertEqual(after.priority, 90)
        XCTAssertEqual(after.state, .backup)
        XCTAssertEqual(bState, .master)

        try Lab.write(flag, "ok\n")
        XCTAssertNotNil(waitFor("a", of: lab, within: 6), "back on a (150 again, preempting b's 100)\n\(logs())")
        let back = await a.snapshot
        XCTAssertEqual(back.priority, 150)
        XCTAssertEqual(seenA.names, ["INIT->BACKUP", "BACKUP->MASTER", "MASTER->BACKUP", "BACKUP->MASTER"], logs())
        XCTAssertTrue(logs().contains("VI_51: effective priority 150 -> 90 (MASTER)"), logs())
        for r in runs { r.cancel() }
        for r in runs { try await r.value }
    }

    func testAFailingScriptWithoutWeightPutsTheMasterInFault() async throws {
        let (lab, a, b, flag, logs, seenA, runs) = try pair { VRRPTrackScript(name: "chk_flag", command: $0) }
        XCTAssertNotNil(waitFor("a", of: lab, within: 10), "a (150) is elected\n\(logs())")

        unlink(flag)
        XCTAssertNotNil(waitFor("b", of: lab, within: 4), "a resigned; b took over after Skew_Time\n\(logs())")
        let (aState, bState) = (await a.state, await b.state)
        XCTAssertEqual(aState, .fault)
        XCTAssertEqual(bState, .master)
        let stats = await b.statistics
        XCTAssertGreaterThan(stats.priorityZeroReceived, 0, "b heard a resign\n\(logs())")

        try Lab.write(flag, "ok\n")
        XCTAssertNotNil(waitFor("a", of: lab, within: 6), "back on a\n\(logs())")
        XCTAssertEqual(seenA.names, ["INIT->BACKUP", "BACKUP->MASTER", "MASTER->FAULT", "FAULT->BACKUP", "BACKUP->MASTER"], logs())
        XCTAssertEqual(seenA.all[2].reason, .fault("track script chk_flag fails"))
        for r in runs { r.cancel() }
        for r in runs { try await r.value }
    }

    /// A tracked interface going down, seen through rtnetlink link events as the agent sees them, moves
    /// the VIP by weight; up again, it comes back.
    func testATrackedInterfaceGoingDownMovesTheVIP() async throws {
        let lab = try Lab(hosts: ["a", "b"])
        addTeardownBlock { lab.destroy() }
        let nsA = lab.host("a").namespace, nsB = lab.host("b").namespace
        func ip(_ args: String...) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/sbin/ip")
            p.arguments = ["-n", nsA] + args
            try p.run()
            p.waitUntilExit()
            XCTAssertEqual(p.terminationStatus, 0, "ip -n \(nsA) \(args.joined(separator: " "))")
        }
        try ip("link", "add", "uplink0", "type", "veth", "peer", "name", "uplink0p")
        try ip("link", "set", "uplink0", "up")
        let logA = LogLines(), logB = LogLines()
        var tracked = configuration(priority: 150)
        tracked.trackInterfaces = [VRRPTrackInterface(name: "uplink0", weight: -60)]
        let a = VRRPSpeaker(configuration: tracked, host: try NamespaceHost(nsA),
                            transport: try inNamespace(nsA) { try RawSocketTransport(interface: "eth0") }, log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: try NamespaceHost(nsB),
                            transport: try inNamespace(nsB) { try RawSocketTransport(interface: "eth0") }, log: logB.append)
        let events = try inNamespace(nsA) { try RouteEvents.subscribe() }
        let runs = [Task { try await a.run() }, Task { try await b.run() },
                    Task { for try await event in events { if case .linkChanged = event { await a.checkLinks() } } }]
        addTeardownBlock { for r in runs { r.cancel() } }
        func logs() -> String { "--- a:\n\(logA.text)\n--- b:\n\(logB.text)" }

        XCTAssertNotNil(waitFor("a", of: lab, within: 10), "a (150) is elected\n\(logs())")
        try ip("link", "set", "uplink0", "down")
        XCTAssertNotNil(waitFor("b", of: lab, within: 4), "the VIP moved to b\n\(logs())")
        let down = await a.snapshot
        XCTAssertEqual(down.priority, 90)
        XCTAssertTrue(logA.text.contains("VI_51: tracked interface uplink0 is down"), logs())
        try ip("link", "set", "uplink0", "up")
        XCTAssertNotNil(waitFor("a", of: lab, within: 4), "back on a\n\(logs())")
        let up = await a.snapshot
        XCTAssertEqual(up.priority, 150)
        for r in runs { r.cancel() }
        try await runs[0].value
        try await runs[1].value
    }

    /// A run past its timeout is killed with its whole process group and counts as a failure.
    func testARunPastItsTimeoutIsKilledAndFails() async throws {
        // Fractional sleeps name this run, so the check below finds its processes and nobody else's.
        let marker = ".\(getpid())"
        let started = ContinuousClock.now
        let result = await TrackScriptRunner.once(VRRPTrackScript(name: "slow", command: "sleep 29\(marker) & sleep 31\(marker)", timeout: .seconds(1)))
        let took = ContinuousClock.now - started
        XCTAssertFalse(result.success)
        XCTAssertTrue(result.detail.hasPrefix("timed out after 1 s"), result.detail)
        XCTAssertLessThan(took, .seconds(5))
        // Nothing of the group is left: neither the shell nor its background sleep. SIGKILL reaches the
        // group at once, but the kernel tears each process down on its own time: under load a killed one
        // can still be listed for a moment (seen once in CI), so it gets a second to go, not more.
        var left = try processes(containing: "29\(marker)") + processes(containing: "31\(marker)")
        let deadline = ContinuousClock.now + .seconds(1)
        while !left.isEmpty && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
            left = try processes(containing: "29\(marker)") + processes(containing: "31\(marker)")
        }
        XCTAssertEqual(left, [], "the whole group was killed")
        let ok = await TrackScriptRunner.once(VRRPTrackScript(name: "fine", command: "exit 0"))
        XCTAssertTrue(ok.success)
        let failed = await TrackScriptRunner.once(VRRPTrackScript(name: "bad", command: "exit 3"))
        XCTAssertEqual(failed.detail, "exit status 3")
    }

    /// The pids whose command line contains `text`.
    func processes(containing text: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: "/proc").filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            return String(decoding: cmdline, as: UTF8.self).contains(text)
        }
    }
}
