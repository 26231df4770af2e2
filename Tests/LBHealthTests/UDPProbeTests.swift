import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import XCTest
@testable import LBHealth
import LBSpec

/// keepalived's UDP_CHECK against real UDP sockets on loopback: a server that answers, one that never does,
/// and a closed port, whose ICMP port unreachable fails the check.
final class UDPProbeTests: ProbeTestCase {
    func udp(payload: String? = nil, requireReply: Bool = false, reply: String? = nil, min: Int? = nil, max: Int? = nil,
             timeoutMilliseconds: Int = 300) -> HealthCheck {
        HealthCheck(kind: .udp, connectTimeoutMilliseconds: timeoutMilliseconds, payload: payload, requireReply: requireReply,
                    reply: reply, minReplyLength: min, maxReplyLength: max)
    }

    func testAnsweringServerPassesAndGetsThePayload() async throws {
        let server = try await UDPServer.start(on: serverGroup, answer: Array("PONG v1".utf8))
        let plain = await probe.probe(udp(payload: "50 49 4e 47"), target: server.endpoint)
        XCTAssertEqual(plain.outcome, .success)
        XCTAssertEqual(server.received.first, Array("PING".utf8))
        let matching = await probe.probe(udp(requireReply: true, reply: "50 4f xx 47"), target: server.endpoint)
        XCTAssertEqual(matching.outcome, .success)
        XCTAssertLessThan(matching.latency, .milliseconds(250), "an answer decides at once, not at the timeout")
        // Without a payload keepalived sends its own 32 bytes; so does lb.
        XCTAssertEqual(server.received.last, UDPExchange.filler)
        XCTAssertEqual(String(decoding: UDPExchange.filler.prefix(19), as: UTF8.self), "keepalived check - ")
    }

    func testReplyThatDoesNotMatchOrIsTooLongFails() async throws {
        let server = try await UDPServer.start(on: serverGroup, answer: Array("PONG v1".utf8))
        XCTAssertFailure(await probe.probe(udp(requireReply: true, reply: "4f4b"), target: server.endpoint), "reply does not match")
        XCTAssertFailure(await probe.probe(udp(requireReply: true, reply: "50", max: 4), target: server.endpoint),
                         "reply longer than max_reply_length 4")
        XCTAssertFailure(await probe.probe(udp(requireReply: true, reply: "50", min: 8), target: server.endpoint),
                         "reply of 7 bytes, shorter than min_reply_length 8")
        // A reply shorter than the pattern is compared as far as it goes (check_udp.c).
        let short = await probe.probe(udp(requireReply: true, reply: "50 4f 4e 47 20 76 31 ff ff"), target: server.endpoint)
        XCTAssertEqual(short.outcome, .success)
    }

    func testSilenceFailsOnlyWhenAReplyIsRequired() async throws {
        let server = try await UDPServer.start(on: serverGroup, answer: nil)
        let quiet = await probe.probe(udp(), target: server.endpoint)
        XCTAssertEqual(quiet.outcome, .success, "keepalived passes a UDP check that hears nothing back")
        XCTAssertGreaterThanOrEqual(quiet.latency, .milliseconds(290))
        XCTAssertFailure(await probe.probe(udp(requireReply: true), target: server.endpoint), "no reply")
    }

    func testClosedPortFailsWithPortUnreachable() async throws {
        let port = try await closedUDPPort()
        let result = await probe.probe(udp(timeoutMilliseconds: 2000), target: Endpoint(address: IPAddress("127.0.0.1")!, port: port))
        XCTAssertFailure(result, "port unreachable (ICMP)")
        XCTAssertLessThan(result.latency, .milliseconds(1000), "the ICMP error decides, not the timeout")
        let v6 = await probe.probe(udp(timeoutMilliseconds: 2000), target: Endpoint(address: IPAddress("::1")!, port: port))
        XCTAssertFailure(v6, "port unreachable (ICMP)")
    }

    func testHexNotationIsKeepalived() {
        XCTAssertEqual(HexPattern("0102 a B", wildcards: false)?.bytes, [1, 2, 0xa, 0xb])
        XCTAssertEqual(HexPattern("123", wildcards: false)?.bytes, [0x12, 3])
        XCTAssertEqual(HexPattern("1x", wildcards: true)?.mask, [0xf0])
        XCTAssertNil(HexPattern("1x", wildcards: false))
        XCTAssertNil(HexPattern("zz", wildcards: false))
        XCTAssertNil(HexPattern("  ", wildcards: false))
    }
}

/// A UDP socket on loopback that records every datagram and answers each with `answer` (nil: never).
final class UDPServer: Sendable {
    let endpoint: Endpoint
    private let log: NIOLockedValueBox<[[UInt8]]>
    var received: [[UInt8]] { log.withLockedValue { $0 } }

    private init(endpoint: Endpoint, log: NIOLockedValueBox<[[UInt8]]>) {
        self.endpoint = endpoint
        self.log = log
    }

    static func start(on group: any EventLoopGroup, host: String = "127.0.0.1", answer: [UInt8]?) async throws -> UDPServer {
        let log = NIOLockedValueBox<[[UInt8]]>([])
        let channel = try await DatagramBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Answerer(answer: answer, log: log))
                }
            }
            .bind(host: host, port: 0).get()
        return UDPServer(endpoint: Endpoint(address: IPAddress(host)!, port: channel.localAddress!.port!), log: log)
    }

    private final class Answerer: ChannelInboundHandler {
        typealias InboundIn = AddressedEnvelope<ByteBuffer>
        typealias OutboundOut = AddressedEnvelope<ByteBuffer>
        let answer: [UInt8]?
        let log: NIOLockedValueBox<[[UInt8]]>

        init(answer: [UInt8]?, log: NIOLockedValueBox<[[UInt8]]>) {
            self.answer = answer
            self.log = log
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let envelope = unwrapInboundIn(data)
            log.withLockedValue { $0.append(Array(envelope.data.readableBytesView)) }
            guard let answer else { return }
            let reply = AddressedEnvelope(remoteAddress: envelope.remoteAddress, data: context.channel.allocator.buffer(bytes: answer))
            context.writeAndFlush(wrapOutboundOut(reply), promise: nil)
        }
    }
}

/// A UDP port on loopback (v4 and v6) that nothing listens on: bound, then closed.
func closedUDPPort() async throws -> Int {
    let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "::", port: 0).get()
    let port = channel.localAddress!.port!
    try await channel.close()
    return port
}
