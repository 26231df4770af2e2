@testable import LBAgent
import LBCrypto
import LBHost
import LBSpec
import Logging
import ServiceLifecycle
import XCTest

// quorum_up and quorum_down as real processes: the health service, the document follower and the
// reconciler on the in-memory host, a real server failing its checks, and `/bin/sh` running the spec's
// commands, which write what they saw to a file.
extension HealthServiceTests {
    func testQuorumDownRunsWhenARealServerFailsAndQuorumUpWhenItIsBack() async throws {
        let dir = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/quorum.log"
        var spec = self.spec()
        spec.vips[0].services[0].quorum = 2
        spec.vips[0].services[0].quorumUp = "echo \"up $LB_QUORUM $LB_SERVICE\" >> '\(log)'"
        spec.vips[0].services[0].quorumDown = "echo \"down $LB_QUORUM $LB_SERVICE\" >> '\(log)'"
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])

        let host = InMemoryHost()
        let probe = ScriptedProbe()
        let (follower, _, _, tasks) = try chain(host, probe: probe)
        defer { for t in tasks { t.cancel() } }

        let lines = { (try? String(contentsOfFile: log, encoding: .utf8))?.split(separator: "\n").map(String.init) ?? [] }
        await follower.accept(try Fixtures.held(spec, version: 1, signer: signer))
        try await eventually("both real servers admitted") {
            let state = try await host.observe(sysctls: [])
            return state.ipvs.table?.services.first?.destinations.count == 2
        }
        XCTAssertEqual(lines(), [], "starting with quorum runs nothing")
        probe.failing.withLockedValue { $0 = ["192.168.1.103"] }
        try await eventually("quorum_down ran") { lines() == ["down down 192.168.1.200:80/tcp"] }
        probe.failing.withLockedValue { $0 = [] }
        try await eventually("quorum_up ran") { lines() == ["down down 192.168.1.200:80/tcp", "up up 192.168.1.200:80/tcp"] }
    }

    /// omega: a graceful stop runs quorum_down, and the follower waits for it before it returns.
    func testOmegaRunsQuorumDownWhenTheAgentStops() async throws {
        let dir = try Fixtures.temporaryDirectory()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: dir) }
        let log = dir + "/quorum.log"
        var spec = self.spec()
        spec.vips[0].services[0].quorumDown = "echo \"$LB_QUORUM $LB_SERVICE\" >> '\(log)'"
        spec.vips[0].services[0].omega = true

        let host = InMemoryHost()
        let (follower, health, reconciler) = try services(host, probe: ScriptedProbe())
        let group = ServiceGroup(configuration: .init(services: [.init(service: health), .init(service: follower), .init(service: reconciler)],
                                                      logger: logger))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        await follower.accept(try Fixtures.held(spec, version: 1, signer: signer))
        try await eventually("both real servers admitted") {
            try await self.destinations(host).count == 2
        }
        let before = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        XCTAssertEqual(before, "", "quorum held: nothing ran")
        await group.triggerGracefulShutdown()
        try await running.value
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8), "down 192.168.1.200:80/tcp\n")
    }
}
