import Foundation
import LBHealth
import LBSpec
import NIOCore
import XCTest

final class WebSocketProbeTests: ProbeTestCase {
    func testRealUpgradePassesWithAFreshKeyAndACloseFrame() async throws {
        let server = try await WebSocketServer.start(on: serverGroup)
        for _ in 0..<2 {
            let result = await probe.probe(check(.websocket, path: "/ws"), target: server.endpoint)
            XCTAssertEqual(result.outcome, .success)
        }
        let keys = server.seenKeys
        XCTAssertEqual(keys.count, 2)
        XCTAssertNotEqual(keys[0], keys[1], "every probe sends a new key")
        XCTAssertEqual(keys.compactMap { Data(base64Encoded: $0)?.count }, [16, 16])
        XCTAssertEqual(server.seenHosts, Array(repeating: "127.0.0.1:\(server.port)", count: 2))
        let closed = await eventually { server.seenCloseCodes.count == 2 }
        XCTAssertTrue(closed, "close frames seen: \(server.seenCloseCodes)")
        XCTAssertEqual(server.seenCloseCodes, [1000, 1000])
    }

    func testTheRequestIsAnUpgrade() async throws {
        let server = try await scripted { _ in [.close] }
        _ = await probe.probe(check(.websocket, path: "/socket"), target: server.endpoint)
        let lines = try XCTUnwrap(server.seen.first).components(separatedBy: "\r\n")
        XCTAssertEqual(lines.first, "GET /socket HTTP/1.1")
        for header in ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13", "User-Agent: lb-agent",
                       "Host: 127.0.0.1:\(server.port)"] {
            XCTAssertTrue(lines.contains(header), "\(header) missing from \(lines)")
        }
        XCTAssertTrue(lines.contains { $0.hasPrefix("Sec-WebSocket-Key: ") })
    }

    func testWrongAcceptFails() async throws {
        let server = try await scripted { _ in
            [.send(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8))]
        }
        XCTAssertFailure(await probe.probe(check(.websocket), target: server.endpoint),
                         "Sec-WebSocket-Accept does not match the key")
    }

    func testMissingAcceptFails() async throws {
        let server = try await scripted { _ in
            [.send(Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8))]
        }
        XCTAssertFailure(await probe.probe(check(.websocket), target: server.endpoint), "no Sec-WebSocket-Accept header")
    }

    func testPlainHTTPAnswerFails() async throws {
        let server = try await scripted { _ in [.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)), .close] }
        XCTAssertFailure(await probe.probe(check(.websocket), target: server.endpoint), "answered 200 instead of 101")
    }

    func testSwitchingWithoutUpgradeHeaderFails() async throws {
        let server = try await scripted { _ in
            [.send(Array("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n".utf8))]
        }
        XCTAssertFailure(await probe.probe(check(.websocket), target: server.endpoint), "no Upgrade: websocket header")
    }

    func testUpgradeThatNeverAnswersTimesOut() async throws {
        let server = try await scripted { _ in [] }
        let result = await probe.probe(check(.websocket, timeoutMilliseconds: 300), target: server.endpoint)
        XCTAssertFailure(result, "timed out after 300ms waiting for a response")
    }
}
