import LBHealth
import LBSpec
import NIOCore
import NIOPosix
import XCTest

final class TCPProbeTests: ProbeTestCase {
    func testAcceptingListenerPasses() async throws {
        let server = try await scripted { _ in [] }
        let result = await probe.probe(check(.tcp), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertNil(result.output)
        XCTAssertLessThan(result.latency, .milliseconds(500))
    }

    func testCheckPortOverridesTheRealServerPort() async throws {
        let server = try await scripted { _ in [] }
        let elsewhere = Endpoint(address: server.address, port: try await closedPort(group: serverGroup))
        let result = await probe.probe(check(.tcp, port: server.port), target: elsewhere)
        XCTAssertEqual(result.outcome, .success)
    }

    func testClosedPortIsRefused() async throws {
        let port = try await closedPort(group: serverGroup)
        let result = await probe.probe(check(.tcp), target: Endpoint(address: IPAddress("127.0.0.1")!, port: port))
        XCTAssertFailure(result, "connection refused")
    }

    func testBlackHoledConnectTimesOutWithinTheTimeout() async throws {
        let listener = try await BlackHoleListener(group: serverGroup)
        addTeardownBlock { await listener.stop() }
        let started = ContinuousClock.now
        let result = await probe.probe(check(.tcp, timeoutMilliseconds: 400), target: listener.endpoint)
        let took = ContinuousClock.now - started
        XCTAssertFailure(result, "timed out after 400ms")
        XCTAssertGreaterThanOrEqual(took, .milliseconds(390))
        XCTAssertLessThan(took, .milliseconds(900))
        XCTAssertGreaterThanOrEqual(result.latency, .milliseconds(390))
    }

    /// An unreachable route inside a namespace of its own (lo down, nothing else): the kernel refuses the
    /// connect itself, so no packet is made at all.
    func testNoRouteToHost() async throws {
        let namespace = try await NetworkNamespace.create([["route", "add", "unreachable", "127.0.0.2/32"]])
        addTeardownBlock { await namespace.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        addTeardownBlock { try await group.shutdownGracefully() }
        try await namespace.enter(on: group.next())
        let probe = NIOHealthProbe(group: group)
        let unreachable = await probe.probe(check(.tcp), target: Endpoint(address: IPAddress("127.0.0.2")!, port: 80))
        XCTAssertFailure(unreachable, "no route to host")
        // lo is down in there, so even loopback has no route: proof the socket was made inside the namespace.
        let noNetwork = await probe.probe(check(.http), target: Endpoint(address: IPAddress("127.0.0.1")!, port: 80))
        XCTAssertFailure(noNetwork, "network unreachable")
    }

    func testIPv6Loopback() async throws {
        let server = try await scripted(host: "::1") { _ in [] }
        let result = await probe.probe(check(.tcp), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
    }

    func testOutOfRangePortFailsWithoutConnecting() async {
        let result = await probe.probe(check(.tcp, port: 70000), target: Endpoint(address: IPAddress("127.0.0.1")!, port: 80))
        XCTAssertFailure(result, "port 70000 is out of range")
    }

    /// Many probes at once on one loop thread: each is a socket and a timer, and all of them finish.
    func testManyConcurrentProbesOnOneThread() async throws {
        let server = try await scripted { _ in [] }
        let refused = Endpoint(address: server.address, port: try await closedPort(group: serverGroup))
        let probe = self.probe!
        let tcp = check(.tcp)
        let outcomes = await withTaskGroup(of: ProbeResult.Outcome.self) { tasks in
            for index in 0..<200 {
                tasks.addTask { await probe.probe(tcp, target: index % 2 == 0 ? server.endpoint : refused).outcome }
            }
            return await tasks.reduce(into: []) { $0.append($1) }
        }
        XCTAssertEqual(outcomes.filter { $0 == .success }.count, 100)
        XCTAssertEqual(outcomes.filter { $0 == .failure("connection refused") }.count, 100)
    }
}
