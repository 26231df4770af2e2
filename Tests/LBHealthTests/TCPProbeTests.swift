import Foundation
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

    /// A handshake that completes a second after connect returned (the first SYN dropped by a full queue,
    /// the retransmitted one accepted): the answer comes through the tcp checks' epoll thread, not the
    /// immediate path loopback connects take.
    func testHandshakeThatCompletesLaterPasses() async throws {
        let listener = try await BlackHoleListener(group: serverGroup)
        addTeardownBlock { await listener.stop() }
        let probe = self.probe!, tcp = check(.tcp, timeoutMilliseconds: 3000)
        async let result = probe.probe(tcp, target: listener.endpoint)
        try await Task.sleep(for: .milliseconds(300))
        listener.makeRoom()
        let answer = await result
        XCTAssertEqual(answer.outcome, .success)
        XCTAssertGreaterThan(answer.latency, .milliseconds(500), "the answer should have waited for the retransmitted SYN")
    }

    /// The same late answer, a reset: the listener closed before the retransmitted SYN arrived.
    func testRefusalThatComesLaterFails() async throws {
        let listener = try await BlackHoleListener(group: serverGroup)
        addTeardownBlock { await listener.stop() }
        let probe = self.probe!, tcp = check(.tcp, timeoutMilliseconds: 3000)
        async let result = probe.probe(tcp, target: listener.endpoint)
        try await Task.sleep(for: .milliseconds(300))
        listener.stopListening()
        let answer = await result
        XCTAssertFailure(answer, "connection refused")
        XCTAssertGreaterThan(answer.latency, .milliseconds(500))
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

    /// Every socket a tcp check opens is closed by its verdict, whichever way it came: answered at once,
    /// refused, or timed out on the epoll thread.
    func testNoDescriptorOutlivesItsCheck() async throws {
        let server = try await scripted { _ in [] }
        let refused = Endpoint(address: server.address, port: try await closedPort(group: serverGroup))
        let listener = try await BlackHoleListener(group: serverGroup)
        addTeardownBlock { await listener.stop() }
        let probe = self.probe!
        _ = await probe.probe(check(.tcp), target: server.endpoint)  // the epoll thread and its descriptors exist
        let before = openDescriptors()
        let quick = check(.tcp, timeoutMilliseconds: 200)
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<300 {
                let target = [server.endpoint, refused, listener.endpoint][index % 3]
                tasks.addTask { _ = await probe.probe(quick, target: target) }
            }
        }
        // The test's own server closes its side of the accepted ones a moment after the probes' resets.
        let settled = await eventually { self.openDescriptors() <= before }
        XCTAssertTrue(settled, "\(openDescriptors() - before) descriptors left open after 300 checks")
    }

    private func openDescriptors() -> Int {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
    }
}
