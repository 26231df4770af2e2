import Foundation
import NIOCore
import NIOPosix
import XCTest
@testable import LBHealth
import LBSpec

/// keepalived's DNS_CHECK against a real DNS server: Debian's dnsmasq on a free loopback port, answering
/// its own records and nothing else (`--no-resolv`), so unknown names come back REFUSED.
final class DNSProbeTests: ProbeTestCase {
    func dns(_ type: String? = nil, _ name: String? = nil, timeoutMilliseconds: Int = 1000) -> HealthCheck {
        HealthCheck(kind: .dns, connectTimeoutMilliseconds: timeoutMilliseconds, queryType: type, queryName: name)
    }

    func testRecordsDnsmasqHoldsPass() async throws {
        let server = try await Dnsmasq.start(self)
        for (type, name) in [("A", "www.example.test"), ("txt", "txt.example.test"), ("AAAA", "www.example.test.")] {
            let result = await probe.probe(dns(type, name), target: server.endpoint)
            XCTAssertEqual(result.outcome, .success, "\(type) \(name)")
        }
    }

    func testErrorAnswersAndSilenceFail() async throws {
        let server = try await Dnsmasq.start(self)
        // example.test is dnsmasq's own (--local): a name it lacks is NXDOMAIN; anything else it refuses.
        XCTAssertFailure(await probe.probe(dns("A", "missing.example.test"), target: server.endpoint), containing: "NXDOMAIN")
        XCTAssertFailure(await probe.probe(dns("A", "www.elsewhere.test"), target: server.endpoint), containing: "REFUSED")
        let port = try await closedUDPPort()
        XCTAssertFailure(await probe.probe(dns(), target: Endpoint(address: IPAddress("127.0.0.1")!, port: port)), "port unreachable (ICMP)")
        let silent = try await UDPServer.start(on: serverGroup, answer: nil)
        let result = await probe.probe(dns(timeoutMilliseconds: 200), target: silent.endpoint)
        XCTAssertFailure(result, "no answer")
    }

    func testQueryAndReplyCodec() throws {
        let query = DNSExchange.query(id: 0x1234, labels: HealthCheck(kind: .dns, queryName: "a.bc").dnsLabels, type: .MX)
        XCTAssertEqual(query, [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x61, 2, 0x62, 0x63, 0, 0, 15, 0, 1])
        // The root, keepalived's default name, is the one zero byte.
        XCTAssertEqual(DNSExchange.query(id: 1, labels: HealthCheck(kind: .dns).dnsLabels, type: .SOA).suffix(5), [0, 0, 6, 0, 1])
        let header: [UInt8] = [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0]
        XCTAssertEqual(DNSExchange.judge(ByteBuffer(bytes: header), id: 0x1234), .success, "NOERROR without answers passes, as in keepalived")
        XCTAssertNil(DNSExchange.judge(ByteBuffer(bytes: header), id: 0x1235), "another id is not our answer")
        XCTAssertNil(DNSExchange.judge(ByteBuffer(bytes: [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]), id: 0x1234), "a query is no answer")
        XCTAssertNil(DNSExchange.judge(ByteBuffer(bytes: [0x12, 0x34, 0x81]), id: 0x1234), "too short for a header")
        XCTAssertEqual(DNSExchange.judge(ByteBuffer(bytes: [0x12, 0x34, 0x81, 0x82] + [UInt8](repeating: 0, count: 8)), id: 0x1234),
                       .failure("answered SERVFAIL (rcode 2)"))
    }
}

/// dnsmasq in the foreground on 127.0.0.1 and a free port, with a few records of example.test.
struct Dnsmasq {
    static let path = "/usr/sbin/dnsmasq"
    let endpoint: Endpoint

    static func start(_ test: XCTestCase) async throws -> Dnsmasq {
        guard access(path, X_OK) == 0 else {
            XCTFail("\(path) is missing; run `make deps` (it installs dnsmasq-base)")
            throw XCTSkip("no dnsmasq")
        }
        let port = try await closedUDPPort()
        let arguments = ["--keep-in-foreground", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                         "--bind-interfaces", "--listen-address=127.0.0.1", "--port=\(port)", "--pid-file=", "--user=root",
                         "--local=/example.test/", "--host-record=www.example.test,192.0.2.10,2001:db8::10",
                         "--txt-record=txt.example.test,hello"]
        let server = Dnsmasq(endpoint: Endpoint(address: IPAddress("127.0.0.1")!, port: port))
        // Ready when it answers its own record.
        let probe = NIOHealthProbe(group: MultiThreadedEventLoopGroup.singleton)
        let check = HealthCheck(kind: .dns, connectTimeoutMilliseconds: 200, queryType: "A", queryName: "www.example.test")
        return try await TestDaemon.start(test, path, arguments) {
            await probe.probe(check, target: server.endpoint).outcome == .success ? server : nil
        }
    }
}
