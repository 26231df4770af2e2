#if canImport(Glibc)
import Glibc
#endif
import LBWebSocketLoad
import NIOCore
import NIOPosix
import XCTest

/// The echo server and the load client against each other over real sockets on 127.0.0.1.
final class EchoLoadTests: XCTestCase {
    /// Runs `body` with a fresh server on a free port; the server and the event loops go away even if it throws.
    private func withServer(_ body: (WebSocketEchoServer) async throws -> Void) async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        do {
            let server = try await WebSocketEchoServer.start(host: "127.0.0.1", port: 0, name: "rs1", group: group)
            do {
                try await body(server)
            } catch {
                await server.stop(.reset)
                throw error
            }
            await server.stop(.reset)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
    }

    private func config(_ server: WebSocketEchoServer, connections: Int, seconds: Int64, mix: String) -> LoadConfiguration {
        LoadConfiguration(host: "127.0.0.1", port: server.localAddress.port!, connections: connections,
                          duration: .seconds(seconds), mix: LoadMix(parsing: mix)!, seed: 42, finalWait: .seconds(1))
    }

    func testFiftyConnectionsLoseNothing() async throws {
        try await withServer { server in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let summary = try await WebSocketLoad.run(config(server, connections: 50, seconds: 3, mix: "fast:0.8,heartbeat:0.1,idle:0.1"),
                                                      group: group)
            try await group.shutdownGracefully()
            XCTAssertTrue(summary.passed, summary.json)
            XCTAssertEqual(summary.connections.requested, 50)
            XCTAssertEqual(summary.connections.opened, 50)
            XCTAssertEqual(summary.connections.stillOpenAtEnd, 50)
            XCTAssertEqual(summary.connections.closedCleanly, 50, summary.json)
            XCTAssertEqual(summary.connections.reasons, [:])
            XCTAssertEqual(summary.mix, ["fast": 40, "heartbeat": 5, "idle": 5])
            XCTAssertEqual(summary.messages.lost, 0)
            XCTAssertEqual(summary.messages.outOfOrder, 0)
            XCTAssertEqual(summary.messages.corrupted, 0)
            XCTAssertEqual(summary.messages.echoed, summary.messages.sent)
            // 40 fast connections × ~15 sends in 3 s, plus a first and last message on each of the 50.
            XCTAssertGreaterThan(summary.messages.sent, 40 * 12 + 10 * 2, summary.json)
            XCTAssertLessThan(summary.longestEchoGapMs, 1000, summary.json)
        }
    }

    func testServerResetCountsConnectionsClosedEarly() async throws {
        try await runWithServerStopping(.reset, expecting: "reset")
    }

    func testServerGoingAwayCountsRemoteCloses() async throws {
        try await runWithServerStopping(.goingAway, expecting: "remote_close")
    }

    private func runWithServerStopping(_ mode: WebSocketEchoServer.StopMode, expecting reason: String) async throws {
        try await withServer { server in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
            let config = config(server, connections: 20, seconds: 3, mix: "fast:1")
            let run = Task { try await WebSocketLoad.run(config, group: group) }
            try await Task.sleep(for: .seconds(1))
            await server.stop(mode)
            let summary = try await run.value
            try await group.shutdownGracefully()
            XCTAssertFalse(summary.passed)
            XCTAssertEqual(summary.connections.opened, 20, summary.json)
            XCTAssertEqual(summary.connections.closedEarly, 20, summary.json)
            XCTAssertEqual(summary.connections.stillOpenAtEnd, 0)
            XCTAssertEqual(summary.connections.reasons, [reason: 20], summary.json)
            XCTAssertEqual(summary.messages.outOfOrder, 0)
            XCTAssertEqual(summary.messages.corrupted, 0)
        }
    }

    func testRefusedConnectionsCountAsFailedToOpen() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let server = try await WebSocketEchoServer.start(host: "127.0.0.1", port: 0, name: "gone", group: group)
        let port = server.localAddress.port!
        await server.stop()
        let summary = try await WebSocketLoad.run(LoadConfiguration(host: "127.0.0.1", port: port, connections: 3, duration: .zero), group: group)
        try await group.shutdownGracefully()
        XCTAssertEqual(summary.connections.failedToOpen, 3)
        XCTAssertEqual(summary.connections.reasons, ["connect_failed": 3])
        XCTAssertFalse(summary.passed)
    }

    func testPlainGetIsTheHealthCheck() async throws {
        try await withServer { server in
            let port = server.localAddress.port!
            // A blocking socket off the event loops, as a health checker on another host would be.
            let answer = await Task.detached { Self.get("/", port: port) }.value
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 200 OK"), answer)
            XCTAssertTrue(answer.hasSuffix("ok rs1\n"), answer)
            let missing = await Task.detached { Self.get("/nope", port: port) }.value
            XCTAssertTrue(missing.hasPrefix("HTTP/1.1 404"), missing)
        }
    }

    private static func get(_ path: String, port: Int) -> String {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return "connect failed" }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            bytes += chunk[..<n]
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
