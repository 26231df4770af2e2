import LBHealth
import LBSpec
import LBTestKit
import NIOCore
import XCTest

/// Whatever a server sends, an http or websocket probe ends in a failure within its timeout: no crash, no
/// hang, no unbounded buffering.
final class RobustnessTests: ProbeTestCase {
    func testRandomBytesFailBothKinds() async throws {
        var random = SplitMix64(seed: 11)
        for round in 0..<40 {
            let length = Int.random(in: 1...4096, using: &random)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0 ... 255, using: &random) }
            // Every fourth answer starts like HTTP, so the decoder gets past the first bytes.
            if round % 4 == 0 { bytes = Array("HTTP/1.1 ".utf8) + bytes }
            let answer = bytes
            let server = try await scripted { _ in [.send(answer), .close] }
            for kind in [HealthCheck.Kind.http, .websocket] {
                let result = await probe.probe(check(kind, timeoutMilliseconds: 1000), target: server.endpoint)
                guard case .failure = result.outcome else {
                    return XCTFail("round \(round) \(kind): random bytes passed")
                }
                XCTAssertLessThan(result.latency, .milliseconds(1500))
            }
            await server.stop()
        }
    }

    func testOversizedHeaderFails() async throws {
        let huge = Array("HTTP/1.1 200 OK\r\nX-Huge: \(String(repeating: "a", count: 200_000))\r\n\r\n".utf8)
        let server = try await scripted { _ in [.send(huge)] }
        for kind in [HealthCheck.Kind.http, .websocket] {
            XCTAssertFailure(await probe.probe(check(kind), target: server.endpoint), containing: "too large")
        }
    }

    func testTooManyHeaderLinesFail() async throws {
        let many = Array(("HTTP/1.1 200 OK\r\n" + String(repeating: "X-A: b\r\n", count: 2000) + "\r\n").utf8)
        let server = try await scripted { _ in [.send(many)] }
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint), containing: "too large")
    }

    /// An endless stream of header bytes is cut at the byte budget, well before the timeout.
    func testFloodIsCutAtTheByteBudget() async throws {
        let flood = Array("HTTP/1.1 200 OK\r\nX-Flood: ".utf8)
        let server = try await scripted { _ in
            [.send(flood), .flood(chunk: Array(repeating: UInt8(ascii: "f"), count: 64 * 1024), total: 64 * 1024 * 1024)]
        }
        for kind in [HealthCheck.Kind.http, .websocket] {
            let result = await probe.probe(check(kind, timeoutMilliseconds: 3000), target: server.endpoint)
            XCTAssertFailure(result, containing: "too large")
            XCTAssertLessThan(result.latency, .seconds(1))
        }
    }

    /// The byte budget is about the head: a good head followed by a flood of body still passes.
    func testFloodedBodyAfterAGoodHeadPasses() async throws {
        let head = Array("HTTP/1.1 200 OK\r\nContent-Length: 16777216\r\n\r\n".utf8)
        let server = try await scripted { _ in
            [.send(head), .flood(chunk: Array(repeating: UInt8(ascii: "b"), count: 256 * 1024), total: 16 * 1024 * 1024)]
        }
        let result = await probe.probe(check(.http), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
    }

    func testNotHTTPFails() async throws {
        let server = try await scripted { _ in [.send(Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)), .close] }
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint), "answer is not HTTP/1.x")
    }

    func testHeadCutShortFails() async throws {
        let server = try await scripted { _ in [.send(Array("HTTP/1.1 200 OK\r\nContent-Le".utf8)), .close] }
        XCTAssertFailure(await probe.probe(check(.http), target: server.endpoint),
                         "connection closed in the middle of the response head")
    }
}
