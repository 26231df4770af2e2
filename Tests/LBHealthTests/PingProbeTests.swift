import NIOCore
import NIOPosix
import XCTest
@testable import LBHealth
import LBSpec

/// keepalived's PING_CHECK: ICMP and ICMPv6 echo to loopback pass; an address whose packets go nowhere (a
/// dummy interface in a network namespace of the test's own) fails at the timeout.
final class PingProbeTests: ProbeTestCase {
    func ping(timeoutMilliseconds: Int = 1000) -> HealthCheck {
        HealthCheck(kind: .ping, connectTimeoutMilliseconds: timeoutMilliseconds)
    }

    func testLoopbackAnswers() async throws {
        for address in ["127.0.0.1", "::1"] {
            let result = await probe.probe(ping(), target: Endpoint(address: IPAddress(address)!, port: 80))
            XCTAssertEqual(result.outcome, .success, address)
            XCTAssertLessThan(result.latency, .milliseconds(500), address)
        }
    }

    func testAddressThatDoesNotAnswerFailsWithinTheTimeout() async throws {
        // Nothing holds .2 on the veth link: ARP and neighbour discovery go unanswered, so no echo returns.
        let namespace = try await NetworkNamespace.create([
            ["link", "set", "lo", "up"], ["link", "add", "v0", "type", "veth", "peer", "name", "v1"],
            ["link", "set", "v0", "up"], ["link", "set", "v1", "up"],
            ["addr", "add", "10.99.0.1/24", "dev", "v0"], ["addr", "add", "2001:db8:99::1/64", "dev", "v0", "nodad"],
        ])
        addTeardownBlock { await namespace.remove() }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        addTeardownBlock { try await group.shutdownGracefully() }
        try await namespace.enter(on: group.next())
        let probe = NIOHealthProbe(group: group)
        for address in ["10.99.0.2", "2001:db8:99::2"] {
            let result = await probe.probe(ping(timeoutMilliseconds: 300), target: Endpoint(address: IPAddress(address)!, port: 80))
            XCTAssertFailure(result, "no echo reply")
            XCTAssertLessThan(result.latency, .milliseconds(800), address)
        }
        // Inside, loopback still answers: the socket was made in the namespace.
        let inside = await probe.probe(ping(), target: Endpoint(address: IPAddress("127.0.0.1")!, port: 80))
        XCTAssertEqual(inside.outcome, .success)
    }

    func testEchoCodec() {
        let request = PingExchange.request(v6: false, id: 0x0102, sequence: 7)
        XCTAssertEqual(Array(request.prefix(8)), [8, 0, request[2], request[3], 1, 2, 0, 7])
        XCTAssertEqual(PingExchange.checksum(request), 0, "a correct checksum sums to zero")
        var reply: [UInt8] = [0x45] + [UInt8](repeating: 0, count: 19) + request
        reply[20] = 0
        XCTAssertTrue(PingExchange.isReply(ByteBuffer(bytes: reply), v6: false, id: 0x0102, sequence: 7))
        XCTAssertFalse(PingExchange.isReply(ByteBuffer(bytes: reply), v6: false, id: 0x0103, sequence: 7))
        XCTAssertFalse(PingExchange.isReply(ByteBuffer(bytes: [0x45, 0]), v6: false, id: 0x0102, sequence: 7))
        XCTAssertTrue(PingExchange.isReply(ByteBuffer(bytes: [129, 0, 0, 0, 1, 2, 0, 7]), v6: true, id: 0x0102, sequence: 7))
    }
}
