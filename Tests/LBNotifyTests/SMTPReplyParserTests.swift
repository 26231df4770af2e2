import LBNotify
import LBTestKit
import NIOCore
import XCTest

final class SMTPReplyParserTests: XCTestCase {
    func parseAll(_ text: String) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        var buffer = ByteBuffer(string: text)
        var replies: [SMTPReply] = []
        while let reply = try parser.next(from: &buffer) { replies.append(reply) }
        return replies
    }

    func testOneLineMultiLineAndBareLF() throws {
        XCTAssertEqual(try parseAll("220 sink.test ESMTP\r\n"), [SMTPReply(code: 220, lines: ["sink.test ESMTP"])])
        XCTAssertEqual(try parseAll("250-sink.test\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 HELP\r\n"),
                       [SMTPReply(code: 250, lines: ["sink.test", "8BITMIME", "STARTTLS", "HELP"])])
        XCTAssertEqual(try parseAll("354\n221 2.0.0 Bye\n"), [SMTPReply(code: 354, lines: [""]), SMTPReply(code: 221, lines: ["2.0.0 Bye"])])
        XCTAssertEqual(SMTPReply(code: 550, lines: ["5.1.1 no such user", " try again "]).summary, "550 5.1.1 no such user; try again")
        XCTAssertEqual(SMTPReply(code: 421, lines: ["bye\u{1b}[31m"]).summary, "421 bye\\u{1b}[31m", "control characters never reach a log raw")
    }

    /// Every split of a reply into pieces gives the same reply (NIO's drip-feeding of decoders).
    func testDripFed() throws {
        let text = "250-sink.test Hello\r\n250-SIZE 33554432\r\n250 SMTPUTF8\r\n220 ready\r\n"
        let expected = try parseAll(text)
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            var parser = SMTPReplyParser()
            var buffer = ByteBuffer()
            var replies: [SMTPReply] = []
            for piece in [bytes[..<cut], bytes[cut...]] {
                buffer.writeBytes(piece)
                while let reply = try parser.next(from: &buffer) { replies.append(reply) }
            }
            XCTAssertEqual(replies, expected, "cut at \(cut)")
        }
    }

    func testGarbageIsAnError() {
        let cases = [
            "HTTP/1.1 400 Bad Request\r\n": "the server sent 'HTTP/1.1 400 Bad Request', which does not start with a reply code",
            "25\r\n": "the server sent '25', which does not start with a reply code",
            "650 no\r\n": "the server sent '650 no', which does not start with a reply code",
            "250x\r\n": "the server sent '250x', whose code is followed by neither a space nor '-'",
            "250-a\r\n251 b\r\n": "the server sent a multi-line reply whose code changed from 250 to 251",
            String(repeating: "250-x\r\n", count: 101): "the server sent a multi-line reply of more than 100 lines",
            "250 " + String(repeating: "x", count: 3000): "the server sent a reply line longer than 2048 bytes",
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try parseAll(text), text.debugDescription) { error in
                XCTAssertEqual((error as? NotifyError)?.code, .malformedReply)
                XCTAssertEqual((error as? NotifyError)?.message, message)
            }
        }
        XCTAssertEqual(try parseAll("250 incomplete"), [], "no line end yet: more bytes are needed, nothing is wrong")
    }

    /// Random bytes, random lines and mutated replies: the parser never crashes, never returns a reply that
    /// breaks its own rules, and refuses what is not SMTP.
    func testRandomInputNeverCrashes() throws {
        var rng = SplitMix64(seed: 0x5A7_9)
        let seeds = ["220 sink.test ESMTP\r\n", "250-a\r\n250-STARTTLS\r\n250 HELP\r\n", "354 go ahead\r\n", "550 5.1.1 no\r\n"]
        let alphabet = Array("0123456789- \r\n\tAZaz.:<>@\u{0}\u{ff}".utf8)
        var garbageWithALine = 0
        var garbageRefused = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            switch round % 3 {
            case 0:
                bytes = (0..<rng.below(300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            case 1:
                bytes = (0..<rng.below(200)).map { _ in rng.pick(alphabet) }
            default:
                bytes = Array(rng.pick(seeds).utf8)
                for _ in 0..<(1 + rng.below(4)) where !bytes.isEmpty {
                    bytes[rng.below(bytes.count)] = rng.below(2) == 0 ? rng.pick(alphabet) : UInt8(truncatingIfNeeded: rng.next())
                }
            }
            if round % 3 == 0 && bytes.contains(UInt8(ascii: "\n")) { garbageWithALine += 1 }
            var parser = SMTPReplyParser()
            var buffer = ByteBuffer()
            var offset = 0
            do {
                while offset < bytes.count {
                    let piece = min(bytes.count - offset, 1 + rng.below(64))
                    buffer.writeBytes(bytes[offset..<offset + piece])
                    offset += piece
                    while let reply = try parser.next(from: &buffer) {
                        XCTAssertTrue((100..<600).contains(reply.code), "seed \(rng.seed) round \(round)")
                        XCTAssertFalse(reply.lines.isEmpty)
                        XCTAssertLessThanOrEqual(reply.lines.count, SMTPReplyParser.maximumLines)
                    }
                }
            } catch {
                XCTAssertEqual((error as? NotifyError)?.code, .malformedReply, "seed \(rng.seed) round \(round): \(error)")
                if round % 3 == 0 { garbageRefused += 1 }
            }
        }
        // Random bytes without a line end are only an unfinished line; with one, they are refused.
        XCTAssertGreaterThan(garbageWithALine, 2000)
        XCTAssertEqual(garbageRefused, garbageWithALine, "random bytes with a line end are never a reply")
    }
}
