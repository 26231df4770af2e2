// libFuzzer driver for what a real server (or anything on the network) can send a director's agent:
// the answer to an http or websocket health probe, through the probe's own pipeline (byte budget,
// NIO's HTTP decoder with the probe's limits, the verdict handler; for a url with status ranges and a
// digest, the body hashed to its end), the replies of the dns, udp, smtp and ping probes through
// their own readers, and a gossiped node report. Any
// input must end in a verdict or an error, never a crash. Build and run with scripts/fuzz.sh health.
#if FUZZ
@testable import LBAgent
import LBFuzzSupport
import LBReport
@testable import LBHealth
import LBSpec
import NIOCore
import NIOEmbedded
import NIOHTTP1

enum Answers {
    static let http = HealthCheck(kind: .http, path: "/healthz")
    static let websocket = HealthCheck(kind: .websocket, path: "/ws")
    static let digested = HTTPURLCheck(path: "/", status: [200...299, 404...404], digest: "444bcb3a3fcf8389296c49467f27e1d6")
    static let address = IPAddress("192.168.1.102")!

    /// Both exchanges over one input, split at its first byte's value so the decoder also meets a
    /// read boundary inside the head.
    static func run(_ bytes: [UInt8]) {
        _ = AgentReport.decode(bytes)
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for exchange in [HTTPExchange.get(http, address: address, port: 80),
                         HTTPExchange.get(http, url: digested, address: address, port: 80),
                         HTTPExchange.upgrade(websocket, address: address, port: 80, key: "dGhlIHNhbXBsZSBub25jZQ==")] {
            feed(exchange, [Array(bytes[..<cut]), Array(bytes[cut...])])
        }
        datagrams(bytes)
        smtp([Array(bytes[..<cut]), Array(bytes[cut...])])
    }

    static let udp = HexPattern("01 xx 0a", wildcards: true)!

    /// A datagram as the dns, udp and ping probes read it; the id the dns reply is matched against comes from
    /// the input, so matching replies are reached too.
    static func datagrams(_ bytes: [UInt8]) {
        let buffer = ByteBuffer(bytes: bytes)
        let id = bytes.count >= 2 ? UInt16(bytes[0]) << 8 | UInt16(bytes[1]) : 0
        _ = DNSExchange.judge(buffer, id: id)
        _ = UDPExchange.judge(bytes, pattern: udp, lengths: 0...255)
        _ = PingExchange.isReply(buffer, v6: false, id: id, sequence: 1)
        _ = PingExchange.isReply(buffer, v6: true, id: id, sequence: 1)
        _ = HexPattern(String(decoding: bytes, as: UTF8.self), wildcards: true)
    }

    /// An SMTP server's side of the conversation, in two reads.
    static func smtp(_ chunks: [[UInt8]]) {
        var reader = SMTPReplyReader()
        var conversation = SMTPConversation(heloName: HealthCheck.defaultHeloName)
        do {
            for chunk in chunks {
                for reply in try reader.feed(chunk) {
                    if case .done = conversation.on(reply) { return }
                }
            }
        } catch {
            // Malformed replies are a verdict like any other.
        }
    }

    static func feed(_ exchange: HTTPExchange, _ chunks: [[UInt8]]) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let verdict = NIOLoopBound(Verdict(loop.makePromise()), eventLoop: loop)
        verdict.value.channel = channel
        do {
            try SocketProbe.addHTTPProbeHandlers(exchange, to: channel.pipeline.syncOperations, verdict: verdict, budget: .seconds(3))
            channel.pipeline.fireChannelActive()
            for chunk in chunks where !chunk.isEmpty {
                try channel.writeInbound(ByteBuffer(bytes: chunk))
            }
        } catch {
            // A decoder error is an answer like any other; the probe reports it.
        }
        _ = try? channel.finish()
        verdict.value.decide(.failure("end of input"))
        try? loop.syncShutdownGracefully()
    }

    static func seeds() -> [(String, [UInt8])] {
        let report = AgentReport(node: "lvs1", at: 1_700_000_000, version: 3, digest: "0123456789abcdef", converged: true,
                                 roles: ["director"], vrrp: [.init(name: "VI_51", vrid: 51, state: "MASTER", priority: 100)],
                                 services: nil, repairs: ["address": 1], error: nil, refused: nil)
        return [
            ("http-200.bin", Array("\u{0}HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok".utf8)),
            ("http-500.bin", Array("\u{5}HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\n\r\n".utf8)),
            ("ws-101.bin", Array("\u{0}HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".utf8)),
            ("http-chunked-ok.bin", Array("\u{3}HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\no\r\n1\r\nk\r\n0\r\n\r\n".utf8)),
            ("http-100-then-200.bin", Array("\u{20}HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n".utf8)),
            ("report.bin", report.encoded()),
            ("dns-noerror.bin", [0x12, 0x34, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 6, 0, 1]),
            ("smtp-multiline.bin", Array("\u{9}220-mail.example.com ESMTP\r\n220 ready\r\n250 hello\r\n221 bye\r\n".utf8)),
            ("ping-v4-reply.bin", [0x45, 0, 0, 28, 0, 0, 0, 0, 64, 1, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 0, 0, 0, 0, 0x45, 0, 0, 1]),
        ]
    }
}

FuzzDriver.main(seeds: Answers.seeds, body: Answers.run)
#else
print("HealthFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh health")
#endif
