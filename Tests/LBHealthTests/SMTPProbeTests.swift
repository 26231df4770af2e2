import Foundation
import LBProcess
import NIOCore
import NIOPosix
import XCTest
@testable import LBHealth
import LBSpec

/// keepalived's SMTP_CHECK against a real SMTP server (Debian's aiosmtpd, as the notification tests use),
/// once accepting HELO and once answering it 550; the reply reader on its own for what servers send.
final class SMTPProbeTests: ProbeTestCase {
    func smtp(helo: String? = nil, timeoutMilliseconds: Int = 2000) -> HealthCheck {
        HealthCheck(kind: .smtp, connectTimeoutMilliseconds: timeoutMilliseconds, heloName: helo)
    }

    func testRealServerPassesAndHearsTheHeloName() async throws {
        let server = try await SMTPServer.start(self)
        let result = await probe.probe(smtp(), target: server.endpoint)
        XCTAssertEqual(result.outcome, .success)
        let named = await probe.probe(smtp(helo: "lvs1.example.com"), target: server.endpoint)
        XCTAssertEqual(named.outcome, .success)
        XCTAssertEqual(try server.helos(), [HealthCheck.defaultHeloName, "lvs1.example.com"])
    }

    func testServerAnswering5xxFails() async throws {
        let server = try await SMTPServer.start(self, refuseHelo: true)
        XCTAssertFailure(await probe.probe(smtp(), target: server.endpoint), containing: "HELO answered 550")
    }

    func testGreetingOtherThan220AndSilenceFail() async throws {
        let busy = try await TCPGreeter.start(on: serverGroup, greeting: "554 5.3.2 busy\r\n")
        XCTAssertFailure(await probe.probe(smtp(), target: busy.endpoint), "greeting 554 5.3.2 busy, not 220")
        let mute = try await TCPGreeter.start(on: serverGroup, greeting: "")
        XCTAssertFailure(await probe.probe(smtp(timeoutMilliseconds: 200), target: mute.endpoint), "timed out after 200ms waiting for a response")
        let port = try await closedPort(group: serverGroup)
        XCTAssertFailure(await probe.probe(smtp(), target: Endpoint(address: IPAddress("127.0.0.1")!, port: port)), "connection refused")
    }

    func testReplyReaderTakesMultiLineRepliesAndRefusesGarbage() throws {
        var reader = SMTPReplyReader()
        XCTAssertEqual(try reader.feed(Array("220-mail.example.com ESMTP\r\n220-".utf8)), [])
        XCTAssertEqual(try reader.feed(Array("second line\r\n220 ready\r\n250 hi\n".utf8)),
                       [.init(code: 220, text: "ready"), .init(code: 250, text: "hi")])
        var mixed = SMTPReplyReader()
        XCTAssertThrowsError(try mixed.feed(Array("220-a\r\n250 b\r\n".utf8)))
        var garbage = SMTPReplyReader()
        XCTAssertThrowsError(try garbage.feed(Array("HTTP/1.1 200 OK\r\n".utf8)))
        var long = SMTPReplyReader()
        XCTAssertThrowsError(try long.feed([UInt8](repeating: 0x32, count: 2000)))
        var conversation = SMTPConversation(heloName: "x")
        XCTAssertEqual(conversation.on(.init(code: 220, text: "")), .send("HELO x\r\n"))
        XCTAssertEqual(conversation.on(.init(code: 250, text: "")), .send("QUIT\r\n"))
        XCTAssertEqual(conversation.on(.init(code: 221, text: "")), .done(.success))
    }
}

/// aiosmtpd on 127.0.0.1, recording each HELO name; with `refuseHelo` it answers HELO 550.
struct SMTPServer {
    static let python = "/usr/bin/python3"
    static let script = #"""
import asyncio, os, sys
from aiosmtpd.smtp import SMTP

out, refuse = sys.argv[1], sys.argv[2] == "1"

class Handler:
    async def handle_HELO(self, server, session, envelope, hostname):
        with open(os.path.join(out, "helo"), "a") as f:
            f.write(hostname + "\n")
        if refuse:
            return "550 5.7.1 not you"
        session.host_name = hostname
        return "250 %s" % server.hostname

async def main():
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(Handler(), hostname="sink.test"), "127.0.0.1", 0)
    with open(os.path.join(out, "port.tmp"), "w") as f:
        f.write(str(server.sockets[0].getsockname()[1]))
    os.rename(os.path.join(out, "port.tmp"), os.path.join(out, "port"))
    await asyncio.Event().wait()

asyncio.run(main())
"""#

    let endpoint: Endpoint
    let directory: URL

    static func start(_ test: XCTestCase, refuseHelo: Bool = false) async throws -> SMTPServer {
        let check = try? await ChildProcess.run(python, arguments: ["-c", "import aiosmtpd"], budget: .seconds(20), outputLimit: 4096)
        guard check?.termination == .exited(0) else {
            XCTFail("\(python) cannot import aiosmtpd; run `make deps` (it installs python3-aiosmtpd)")
            throw XCTSkip("no aiosmtpd")
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lb-smtp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        let portFile = dir.appendingPathComponent("port")
        return try await TestDaemon.start(test, python, ["-c", script, dir.path, refuseHelo ? "1" : "0"]) {
            guard let text = try? String(contentsOf: portFile, encoding: .utf8), let port = Int(text) else { return nil }
            return SMTPServer(endpoint: Endpoint(address: IPAddress("127.0.0.1")!, port: port), directory: dir)
        }
    }

    func helos() throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent("helo"), encoding: .utf8).split(separator: "\n").map(String.init)
    }
}

/// A TCP listener that says `greeting` on each connection and then nothing.
final class TCPGreeter: Sendable {
    let endpoint: Endpoint

    private init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    static func start(on group: any EventLoopGroup, greeting: String) async throws -> TCPGreeter {
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(Greeting(text: greeting)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TCPGreeter(endpoint: Endpoint(address: IPAddress("127.0.0.1")!, port: channel.localAddress!.port!))
    }

    private final class Greeting: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let text: String

        init(text: String) {
            self.text = text
        }

        func channelActive(context: ChannelHandlerContext) {
            if !text.isEmpty { context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: text)), promise: nil) }
        }
    }
}
