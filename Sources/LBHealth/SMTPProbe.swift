import LBSpec
import NIOCore

/// SMTP replies as they come off a connection (RFC 5321 §4.2): lines of a three-digit code, `-` on every line
/// but the last, CRLF (a bare LF is taken too). Input is bounded: a line of more than `lineBytes`, a reply of
/// more than `replyLines` lines or continuation lines of another code are malformed, never buffered on.
struct SMTPReplyReader {
    struct Reply: Equatable {
        var code: Int
        /// The text of the reply's last line, for a failure reason.
        var text: String
    }

    struct Malformed: Error, Equatable {
        var reason: String
    }

    /// RFC 5321 §4.5.3.1.5 gives reply lines 512 octets; servers' banners stay far below 1,000.
    static let lineBytes = 1000
    static let replyLines = 100

    private var line: [UInt8] = []
    private var linesInReply = 0
    private var code: Int?

    /// The replies `bytes` complete, in order; what remains of a line waits for the next bytes.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(Malformed) -> [Reply] {
        var replies: [Reply] = []
        for byte in bytes {
            guard byte == 0x0a else {
                line.append(byte)
                if line.count > Self.lineBytes { throw Malformed(reason: "reply line longer than \(Self.lineBytes) bytes") }
                continue
            }
            if line.last == 0x0d { line.removeLast() }
            if let reply = try end(line) { replies.append(reply) }
            line.removeAll(keepingCapacity: true)
        }
        return replies
    }

    private mutating func end(_ line: [UInt8]) throws(Malformed) -> Reply? {
        let digits = line.prefix(3)
        guard digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }),
              line.count == 3 || line[3] == 0x20 || line[3] == 0x2d else {
            throw Malformed(reason: "not an SMTP reply: '\(Self.printable(line.prefix(40)))'")
        }
        let lineCode = Int(digits[0] - 0x30) * 100 + Int(digits[1] - 0x30) * 10 + Int(digits[2] - 0x30)
        if let code, code != lineCode { throw Malformed(reason: "reply lines of codes \(code) and \(lineCode) in one reply") }
        linesInReply += 1
        if linesInReply > Self.replyLines { throw Malformed(reason: "reply of more than \(Self.replyLines) lines") }
        if line.count > 3 && line[3] == 0x2d {
            code = lineCode
            return nil
        }
        code = nil
        linesInReply = 0
        return Reply(code: lineCode, text: Self.printable(line.dropFirst(4).prefix(200)))
    }

    /// Server text as it may be logged: control and non-ASCII bytes as `?`.
    static func printable(_ bytes: some Sequence<UInt8>) -> String {
        String(decoding: bytes.map { (0x20..<0x7f).contains($0) ? $0 : 0x3f }, as: UTF8.self)
    }
}

/// keepalived's SMTP_CHECK conversation (check_smtp.c, `smtp_engine_thread`): the 220 greeting, `HELO name`
/// answered 250, `QUIT` answered with anything. Unlike keepalived, which reads one line and so fails a
/// server whose greeting has several (`220-…`), whole multi-line replies are read.
struct SMTPConversation {
    enum Step: Equatable {
        /// Send these bytes and wait for the next reply.
        case send(String)
        /// The verdict.
        case done(ProbeResult.Outcome)
    }

    enum Phase { case greeting, helo, quit }

    let heloName: String
    private(set) var phase = Phase.greeting

    init(heloName: String) {
        self.heloName = heloName
    }

    mutating func on(_ reply: SMTPReplyReader.Reply) -> Step {
        switch phase {
        case .greeting:
            guard reply.code == 220 else { return .done(.failure("greeting \(reply.code) \(reply.text), not 220")) }
            phase = .helo
            return .send("HELO \(heloName)\r\n")
        case .helo:
            guard reply.code == 250 else { return .done(.failure("HELO answered \(reply.code) \(reply.text), not 250")) }
            phase = .quit
            return .send("QUIT\r\n")
        case .quit:
            return .done(.success)
        }
    }

    /// What a connection closed by the server before the verdict means in each phase.
    var closedEarly: String {
        switch phase {
        case .greeting: "connection closed before the greeting"
        case .helo: "connection closed before HELO was answered"
        case .quit: "connection closed before QUIT was answered"
        }
    }
}

/// Drives one `SMTPConversation` over the probe's connection.
final class SMTPProbeHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var reader = SMTPReplyReader()
    private var conversation: SMTPConversation
    private let verdict: NIOLoopBound<Verdict>

    init(heloName: String, verdict: NIOLoopBound<Verdict>) {
        conversation = SMTPConversation(heloName: heloName)
        self.verdict = verdict
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !verdict.value.isDecided else { return }
        let bytes = unwrapInboundIn(data)
        do {
            for reply in try reader.feed(bytes.readableBytesView) {
                switch conversation.on(reply) {
                case .send(let text):
                    context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: text)), promise: nil)
                case .done(let outcome):
                    return verdict.value.decide(outcome)
                }
            }
        } catch {
            verdict.value.decide(.failure(error.reason))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        verdict.value.decide(.failure(conversation.closedEarly))
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        verdict.value.decide(.failure(SocketProbe.describe(error, budget: .zero)))
    }
}
