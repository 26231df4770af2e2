import LBHealth
import LBSpec
import NIOCore
import XCTest

final class HTTPProbeTests: ProbeTestCase {
    private static func answer(_ status: String, headers: String = "Content-Length: 2\r\n", body: String = "ok") -> [UInt8] {
        Array("HTTP/1.1 \(status)\r\n\(headers)\r\n\(body)".utf8)
    }

    func testStatus200PassesAndTheRequestIsWhatTheSpecSays() async throws {
        let server = try await scripted { _ in [.send(Self.answer("200 OK")), .close] }
        let result = await probe.probe(check(.http, path: "/healthz?full=1"), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertNil(result.output)
        let head = try XCTUnwrap(server.seen.first)
        let lines = head.components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "GET /healthz?full=1 HTTP/1.1")
        XCTAssertTrue(lines.contains("Host: 127.0.0.1:\(server.port)"), head)
        XCTAssertTrue(lines.contains("User-Agent: lb-agent"), head)
        XCTAssertTrue(lines.contains("Connection: close"), head)
    }

    func testHostHeaderFromTheCheckIsSentAsWritten() async throws {
        let server = try await scripted { _ in [.send(Self.answer("200 OK")), .close] }
        let result = await probe.probe(check(.http, host: "www.example.test"), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertTrue(server.seen.first?.contains("\r\nHost: www.example.test\r\n") ?? false, server.seen.first ?? "")
    }

    func testIPv6HostHeaderIsBracketed() async throws {
        let server = try await scripted(host: "::1") { _ in [.send(Self.answer("200 OK")), .close] }
        let result = await probe.probe(check(.http), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertTrue(server.seen.first?.contains("\r\nHost: [::1]:\(server.port)\r\n") ?? false, server.seen.first ?? "")
    }

    func testStatus500Fails() async throws {
        let server = try await scripted { _ in [.send(Self.answer("500 Internal Server Error")), .close] }
        let result = await probe.probe(check(.http), target: server.endpoint)
        XCTAssertFailure(result, "HTTP 500 (expected 200)")
    }

    func testExpectedStatusOtherThan200() async throws {
        let server = try await scripted { _ in [.send(Self.answer("204 No Content", headers: "", body: "")), .close] }
        let noContent = await probe.probe(check(.http, expectStatus: 204), target: server.endpoint)
        XCTAssertEqual(noContent.outcome, .success)
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint), "HTTP 204 (expected 200)")
    }

    /// An interim 100 Continue is not the answer; the final status is.
    func testInformationalAnswerIsSkipped() async throws {
        let server = try await scripted { _ in [.send(Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)), .send(Self.answer("503 Busy")), .close] }
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint), "HTTP 503 (expected 200)")
    }

    func testConnectionClosedBeforeAResponse() async throws {
        let server = try await scripted { _ in [.close] }
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint), "connection closed before a response")
    }

    func testServerThatNeverAnswersTimesOut() async throws {
        let server = try await scripted { _ in [] }
        let result = await probe.probe(check(.http, timeoutMilliseconds: 300), target: server.endpoint)
        XCTAssertFailure(result, "timed out after 300ms waiting for a response")
        XCTAssertLessThan(result.latency, .milliseconds(800))
    }

    /// A head dripped a byte every 20 ms never completes in time: the deadline covers the reads too.
    func testSlowHeadTimesOutWithinTheTimeout() async throws {
        let head = Array("HTTP/1.1 200 OK\r\nX-Slow: \(String(repeating: "a", count: 1000))\r\n\r\n".utf8)
        let server = try await scripted { _ in [.drip(head, every: .milliseconds(20))] }
        let started = ContinuousClock.now
        let result = await probe.probe(check(.http, timeoutMilliseconds: 500), target: server.endpoint)
        XCTAssertFailure(result, "timed out after 500ms waiting for a response")
        XCTAssertLessThan(ContinuousClock.now - started, .milliseconds(1000))
    }

    /// The status line decides: a body that trickles in for minutes does not hold the probe.
    func testSlowBodyDoesNotHoldTheProbe() async throws {
        let server = try await scripted { _ in
            [.send(Self.answer("200 OK", headers: "Content-Length: 100000\r\n", body: "")),
             .drip(Array(repeating: UInt8(ascii: "x"), count: 100_000), every: .milliseconds(50))]
        }
        let result = await probe.probe(check(.http, timeoutMilliseconds: 2000), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        XCTAssertLessThan(result.latency, .milliseconds(500))
    }

    func testUnsendablePathFailsWithoutConnecting() async throws {
        let server = try await scripted { _ in [.send(Self.answer("200 OK")), .close] }
        let result = await probe.probe(check(.http, path: "/a b\r\nX-Injected: 1"), target: server.endpoint)
        XCTAssertFailure(result, "path contains spaces or control characters")
        XCTAssertFailure(await probe.probe(check(.http, host: "a\r\nb"), target: server.endpoint),
                         "host header is empty or contains control characters")
        XCTAssertTrue(server.seen.isEmpty)
    }

    func testFreshConnectionPerProbe() async throws {
        let server = try await scripted { _ in [.send(Self.answer("200 OK"))] }  // never closes by itself
        for _ in 0..<3 {
            let result = await probe.probe(check(.http), target: server.endpoint)
            XCTAssertEqual(result.outcome, .success)
        }
        XCTAssertEqual(server.seen.count, 3)
    }
}
