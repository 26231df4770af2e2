import LBHealth
import LBSpec
import NIOCore
import XCTest

/// keepalived's HTTP_GET in full: several URLs, every one of which must pass, status lists and ranges, and
/// the MD5 digest of the body; against a real server on loopback that answers by path.
final class HTTPURLProbeTests: ProbeTestCase {
    /// `GET /NNN` answers status NNN, `GET /big` a 3 MiB body, anything else 200 with the body "ok"
    /// (MD5 444bcb3a3fcf8389296c49467f27e1d6, `printf ok | md5sum`).
    private func server() async throws -> ScriptedServer {
        try await scripted { head in
            let path = head.split(separator: " ").dropFirst().first.map(String.init) ?? "/"
            if path == "/big" {
                let body = [UInt8](repeating: UInt8(ascii: "b"), count: 3 * 1024 * 1024)
                return [.send(Array("HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n".utf8)), .send(body), .close]
            }
            if let code = Int(path.dropFirst()) {
                return [.send(Array("HTTP/1.1 \(code) Whatever\r\nContent-Length: 2\r\n\r\nok".utf8)), .close]
            }
            return [.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)), .close]
        }
    }

    private func urls(_ urls: [HTTPURLCheck], kind: HealthCheck.Kind = .http) -> HealthCheck {
        HealthCheck(kind: kind, connectTimeoutMilliseconds: 2000, urls: urls)
    }

    static let okDigest = "444bcb3a3fcf8389296c49467f27e1d6"

    func testEveryURLIsFetchedAndAllPassing() async throws {
        let s = try await server()
        let result = await probe.probe(urls([HTTPURLCheck(path: "/"), HTTPURLCheck(path: "/204"), HTTPURLCheck(path: "/301", status: [301...301])]),
                                       target: s.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertEqual(s.seen.map { $0.components(separatedBy: "\r\n")[0] }, ["GET / HTTP/1.1", "GET /204 HTTP/1.1", "GET /301 HTTP/1.1"])
    }

    func testOneFailingURLFailsTheCheckAndNamesIt() async throws {
        let s = try await server()
        let result = await probe.probe(urls([HTTPURLCheck(path: "/"), HTTPURLCheck(path: "/503"), HTTPURLCheck(path: "/never")]),
                                       target: s.endpoint)
        XCTAssertFailure(result, "GET /503: HTTP 503 (expected 200-299)")
        XCTAssertEqual(s.seen.count, 2, "the URLs after the failing one are not fetched")
    }

    func testStatusListsAndRanges() async throws {
        let s = try await server()
        let accepted: [ClosedRange<Int>] = [200...204, 404...404]
        for (path, passes) in [("/200", true), ("/204", true), ("/404", true), ("/205", false), ("/403", false)] {
            let result = await probe.probe(urls([HTTPURLCheck(path: path, status: accepted)]), target: s.endpoint)
            XCTAssertEqual(result.outcome == .success, passes, "\(path): \(result.outcome)")
        }
        XCTAssertFailure(await probe.probe(urls([HTTPURLCheck(path: "/205", status: accepted)]), target: s.endpoint),
                         "HTTP 205 (expected 200-204 404)")
    }

    func testDigestOfTheBodyMustMatch() async throws {
        let s = try await server()
        let good = await probe.probe(urls([HTTPURLCheck(path: "/", digest: Self.okDigest)]), target: s.endpoint)
        XCTAssertEqual(good.outcome, .success)
        let upper = await probe.probe(urls([HTTPURLCheck(path: "/", digest: Self.okDigest.uppercased())]), target: s.endpoint)
        XCTAssertEqual(upper.outcome, .success, "hex digits compare in either case, as keepalived reads them")
        let bad = await probe.probe(urls([HTTPURLCheck(path: "/", digest: String(repeating: "0", count: 32))]), target: s.endpoint)
        XCTAssertFailure(bad, "body digest \(Self.okDigest) (expected 00000000000000000000000000000000)")
    }

    /// A digested body is hashed as it comes: 3 MiB (past the 80 KiB head budget) still pass.
    func testLargeBodyIsDigested() async throws {
        let s = try await server()
        let big = await probe.probe(urls([HTTPURLCheck(path: "/big", digest: "a0cd29468265395703837cf81fe6b3a0")]), target: s.endpoint)
        XCTAssertEqual(big.outcome, .success, "\(big.outcome)")
    }

    func testEachURLSendsItsOwnHost() async throws {
        let s = try await server()
        var check = urls([HTTPURLCheck(path: "/a", host: "a.example.test"), HTTPURLCheck(path: "/b")])
        check.host = "www.example.test"
        let outcome1 = await probe.probe(check, target: s.endpoint).outcome
        XCTAssertEqual(outcome1, .success)
        XCTAssertTrue(s.seen[0].contains("\r\nHost: a.example.test\r\n"), s.seen[0])
        XCTAssertTrue(s.seen[1].contains("\r\nHost: www.example.test\r\n"), s.seen[1])
    }

    func testBodyCutShortFails() async throws {
        let s = try await scripted { _ in [.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nok".utf8)), .close] }
        XCTAssertFailure(await probe.probe(urls([HTTPURLCheck(path: "/", digest: Self.okDigest)]), target: s.endpoint),
                         containing: "closed")
    }
}
