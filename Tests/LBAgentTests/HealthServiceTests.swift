@testable import LBAgent
import LBCrypto
import LBHealth
import LBHost
import LBNetlink
import LBSpec
import LBVRRPRuntime
import Logging
import NIOConcurrencyHelpers
import NIOPosix
import XCTest

/// Answers each target as the test says (success unless told otherwise).
final class ScriptedProbe: HealthProbe {
    let failing = NIOLockedValueBox<Set<String>>([])
    func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult {
        let fails = failing.withLockedValue { $0.contains(target.address.description) }
        return ProbeResult(outcome: fails ? .failure("connection refused") : .success, latency: .microseconds(300))
    }
}

/// The health service, the document follower and the reconciler running together on the in-memory
/// host, with fast checks: a failing real server leaves IPVS and comes back, a drain ends when the
/// kernel shows no connections. (The probes meet real listeners in LBHealthTests, and the whole chain
/// meets real IPVS in the lab's agent scenario.)
final class HealthServiceTests: XCTestCase {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
    let signer = SigningKey.generate()

    func spec(drainRS2: Bool = false) -> ClusterSpec {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].healthCheck = HealthCheck(kind: .tcp, intervalMilliseconds: 100, connectTimeoutMilliseconds: 50,
                                                            retries: 2, retryDelayMilliseconds: 20)
        spec.vips[0].services[0].realServers[1].drain = drainRS2
        return spec
    }

    func destinations(_ host: InMemoryHost) async throws -> [String] {
        let state = try await host.observe(sysctls: [])
        return (state.ipvs.table?.services.first?.destinations.map { "\($0.endpoint) w\($0.weight)" } ?? []).sorted()
    }

    func eventually(_ what: String, within: Duration = .seconds(5), _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + within
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(10))
        }
        XCTFail("not within \(within): \(what)")
    }

    /// The health service, the follower and the reconciler on `host`, not started.
    func services(_ host: InMemoryHost, probe: ScriptedProbe) throws -> (follower: DocumentFollower, health: HealthService, reconciler: Reconciler) {
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: logger)
        let health = HealthService(probe: probe, loop: MultiThreadedEventLoopGroup.singleton.next(), reconciler: reconciler, logger: logger)
        let vrrp = VRRPSupervisor(makeHost: { host }, transport: { _ in SilentTransport() }, logger: logger)
        let follower = DocumentFollower(node: "lvs1", reconciler: reconciler, vrrp: vrrp, gossip: nil, logger: logger, health: health)
        return (follower, health, reconciler)
    }

    /// The same, running until the caller cancels `tasks`.
    func chain(_ host: InMemoryHost, probe: ScriptedProbe) throws -> (follower: DocumentFollower, health: HealthService, reconciler: Reconciler, tasks: [Task<Void, any Error>]) {
        let (follower, health, reconciler) = try services(host, probe: probe)
        let tasks = [Task { try await health.run() }, Task { try await follower.run() }, Task { try await reconciler.run() }]
        return (follower, health, reconciler, tasks)
    }

    func testAFailingRealServerLeavesIPVSAfterItsRetriesAndComesBack() async throws {
        let host = InMemoryHost()
        let probe = ScriptedProbe()
        let (follower, health, reconciler, tasks) = try chain(host, probe: probe)
        defer { for t in tasks { t.cancel() } }

        await follower.accept(try Fixtures.held(spec(), version: 1, signer: signer))
        // Before any result the destinations are not added: nothing is known of them yet.
        let before = try await destinations(host)
        XCTAssertEqual(before, [])
        try await eventually("both real servers admitted at their first passing check") {
            try await self.destinations(host) == ["192.168.1.102:80 w1", "192.168.1.103:80 w1"]
        }
        probe.failing.withLockedValue { $0 = ["192.168.1.103"] }
        let stopped = ContinuousClock.now
        try await eventually("rs2 removed") { try await self.destinations(host) == ["192.168.1.102:80 w1"] }
        // interval × retries + connect_timeout, and some slack for the test machine.
        XCTAssertLessThan(ContinuousClock.now - stopped, .milliseconds(100 * 2 + 50 + 500))
        let checks = await health.checks
        XCTAssertEqual(checks.first { $0.destination == "192.168.1.103:80" }?.health, "down")
        XCTAssertEqual(checks.first { $0.destination == "192.168.1.103:80" }?.lastResult, "connection refused")
        XCTAssertEqual(checks.first { $0.destination == "192.168.1.103:80" }?.node, "rs2")
        probe.failing.withLockedValue { $0 = [] }
        try await eventually("rs2 back") { try await self.destinations(host) == ["192.168.1.102:80 w1", "192.168.1.103:80 w1"] }
        let repairs = await reconciler.snapshot.repairs
        XCTAssertEqual(repairs, [:], "health changes are changes, not drift")
    }

    func testADrainEndsWhenTheKernelShowsNoConnections() async throws {
        let host = InMemoryHost()
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: logger)
        let health = HealthService(probe: ScriptedProbe(), loop: MultiThreadedEventLoopGroup.singleton.next(), reconciler: reconciler, logger: logger, drainInterval: .milliseconds(20))
        let vrrp = VRRPSupervisor(makeHost: { host }, transport: { _ in SilentTransport() }, logger: logger)
        let follower = DocumentFollower(node: "lvs1", reconciler: reconciler, vrrp: vrrp, gossip: nil, logger: logger, health: health)
        let tasks = [Task { try await health.run() }, Task { try await follower.run() }, Task { try await reconciler.run() }]
        defer { for t in tasks { t.cancel() } }
        await follower.accept(try Fixtures.held(spec(), version: 1, signer: signer))
        try await eventually("both up") { try await self.destinations(host).count == 2 }

        // rs2 has a connection when the drain begins: held at weight 0 until it has none.
        await host.tamper { state, _ in
            if case .available(var t) = state.ipvs, let j = t.services[0].destinations.firstIndex(where: { $0.port == 80 && $0.address.description == "192.168.1.103" }) {
                t.services[0].destinations[j].activeConnections = 1
                state.ipvs = .available(t)
            }
        }
        await follower.accept(try Fixtures.held(spec(drainRS2: true), version: 2, signer: signer))
        try await eventually("weight 0") { try await self.destinations(host) == ["192.168.1.102:80 w1", "192.168.1.103:80 w0"] }
        _ = await reconciler.pass(.full)
        try await Task.sleep(for: .milliseconds(100))
        let still = try await destinations(host)
        XCTAssertEqual(still, ["192.168.1.102:80 w1", "192.168.1.103:80 w0"], "a connection keeps it")
        await host.tamper { state, _ in
            if case .available(var t) = state.ipvs, let j = t.services[0].destinations.firstIndex(where: { $0.port == 80 && $0.address.description == "192.168.1.103" }) {
                t.services[0].destinations[j].activeConnections = 0
                state.ipvs = .available(t)
            }
        }
        _ = await reconciler.pass(.full)
        try await eventually("removed once idle") { try await self.destinations(host) == ["192.168.1.102:80 w1"] }
        let drains = await health.finishedDrains
        XCTAssertEqual(drains.map(\.openConnections), [0])
        XCTAssertEqual(drains.map(\.node), ["rs2"])
        // Not put back while the document keeps it drained.
        _ = await reconciler.pass(.full)
        let after = try await destinations(host)
        XCTAssertEqual(after, ["192.168.1.102:80 w1"])
    }
}
