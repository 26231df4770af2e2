import LBSpec
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL

#if canImport(Glibc)
import Glibc
#endif

/// A small SMTP client (RFC 5321) over SwiftNIO: one connection per message to the spec's
/// `notifications.email` server, EHLO (HELO for a server that does not know it), STARTTLS whenever the
/// server offers it, MAIL FROM, RCPT TO for each recipient, DATA, QUIT. The whole exchange, connecting
/// included, is bounded by the target's `timeoutSeconds`.
///
/// TLS is opportunistic, as keepalived does it and as Postfix's `may` level: encrypted when offered,
/// plain text otherwise. Without `caFile` the server's certificate is not verified, which keeps a passive
/// listener out but not someone who can intercept the connection; with it the certificate must chain to
/// that CA and name the server. A server that offers STARTTLS and then fails the handshake fails the
/// delivery: it is not sent again in plain text.
///
/// No authentication: the server is expected to accept mail from the controller's address as a relay
/// on the local network does.
public struct SMTPMailer: Sendable {
    /// What one delivery did.
    public struct Receipt: Sendable, Equatable {
        /// The message went over TLS (STARTTLS was offered and done).
        public var encrypted: Bool
        /// The recipients the server took.
        public var accepted: [String]

        public init(encrypted: Bool, accepted: [String]) {
            self.encrypted = encrypted
            self.accepted = accepted
        }
    }

    public let target: EmailNotification
    /// `HOST:PORT`, with brackets around an IPv6 address: how errors name the server.
    public let server: String
    private let helloName: String
    private let tls: NIOSSLContext
    private let group: any EventLoopGroup

    /// `caFile`: PEM certificates to verify the server's certificate against; nil verifies nothing.
    /// `helloName`: this machine's name in EHLO.
    public init(target: EmailNotification, caFile: String? = nil, helloName: String = SMTPMailer.localHostName(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        self.target = target
        server = target.smtpServer.contains(":") ? "[\(target.smtpServer)]:\(target.smtpPort)" : "\(target.smtpServer):\(target.smtpPort)"
        self.helloName = helloName
        self.group = group
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            configuration.trustRoots = .file(caFile)
            configuration.certificateVerification = .fullVerification
        } else {
            configuration.certificateVerification = .none
        }
        do {
            tls = try NIOSSLContext(configuration: configuration)
        } catch {
            throw NotifyError(.invalidTarget, "SMTP \(server): cannot use CA file \(caFile ?? ""): \(error)")
        }
    }

    /// This host's name for EHLO (`gethostname`), or `localhost` when it has none usable there.
    public static func localHostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let usable = !name.isEmpty && name.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-" || $0 == ".") }
        return usable ? name : "localhost"
    }

    /// Sends `message` to every recipient. Throws a `NotifyError` naming the step and the server's answer;
    /// when only some recipients are refused the others still get the message, and the error says so.
    @discardableResult
    public func send(_ message: EmailMessage) async throws -> Receipt {
        for address in [message.from] + message.to {
            if let problem = Self.addressProblem(address) {
                throw NotifyError(.invalidTarget, "SMTP \(server): \(problem)")
            }
        }
        guard !message.to.isEmpty else { throw NotifyError(.invalidTarget, "SMTP \(server): no recipients") }
        let seconds = max(target.timeoutSeconds, 1)
        let progress = SMTPProgress()
        return try await withThrowingTaskGroup(of: Receipt?.self) { group in
            group.addTask { try await self.exchange(message, progress) }
            group.addTask {
                try await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first: Receipt??
            do {
                first = try await group.next()
            } catch {
                group.cancelAll()
                progress.close()
                throw error
            }
            group.cancelAll()
            if let receipt = first ?? nil { return receipt }
            // The budget ran out: closing the connection ends whatever the exchange was waiting for.
            progress.close()
            // Past the end of the message only QUIT was left: the server has the message.
            if let receipt = progress.receipt { return receipt }
            throw NotifyError(.timedOut, "SMTP \(server): no answer within \(seconds) s (at \(progress.step))")
        }
    }

    /// An address for MAIL FROM or RCPT TO that would break the command line it goes into, or nil.
    static func addressProblem(_ address: String) -> String? {
        if address.isEmpty { return "an empty e-mail address" }
        if address.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == "<" || $0 == ">" }) {
            return "e-mail address '\(printable(address))' has a space, a control character or an angle bracket"
        }
        return nil
    }

    private func exchange(_ message: EmailMessage, _ progress: SMTPProgress) async throws -> Receipt {
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(Int64(max(target.timeoutSeconds, 1))))
                .connect(host: target.smtpServer, port: target.smtpPort) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(SMTPReplyDecoder()))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
            progress.connected(channel.channel)
            return try await channel.executeThenClose { inbound, outbound in
                var talk = Conversation(server: server, replies: inbound.makeAsyncIterator(), writer: outbound, progress: progress,
                                        channel: channel.channel)
                try await talk.expect([220], at: "greeting")
                var hello = try await talk.hello(helloName)
                var encrypted = false
                if hello.offers("STARTTLS") {
                    try await talk.command("STARTTLS", expect: [220])
                    progress.step = "TLS handshake"
                    try await startTLS(on: channel.channel, progress)
                    encrypted = true
                    // The handshake runs before this EHLO goes out, so its failure shows here.
                    hello = try await talk.hello(helloName, step: "TLS handshake and EHLO")
                }
                let body = message.is8Bit && hello.offers("8BITMIME") ? " BODY=8BITMIME" : ""
                try await talk.command("MAIL FROM:<\(message.from)>\(body)", expect: [250])
                var accepted: [String] = []
                var refused: [String] = []
                for recipient in message.to {
                    let step = "RCPT TO:<\(recipient)>"
                    let reply = try await talk.send(step)
                    if reply.code == 250 || reply.code == 251 {
                        accepted.append(recipient)
                    } else {
                        refused.append("\(step) answered \(reply.summary)")
                    }
                }
                guard !accepted.isEmpty else {
                    await talk.quit()
                    throw NotifyError(.refused, "SMTP \(server): " + refused.joined(separator: "; "))
                }
                try await talk.command("DATA", expect: [354])
                progress.step = "message"
                try await outbound.write(ByteBuffer(bytes: message.data))
                try await talk.expect([250], at: "the end of the message")
                let receipt = Receipt(encrypted: encrypted, accepted: accepted)
                if refused.isEmpty { progress.receipt = receipt }
                await talk.quit()
                if !refused.isEmpty {
                    throw NotifyError(.refused, "SMTP \(server): " + refused.joined(separator: "; ")
                                      + "; sent to the other \(accepted.count == 1 ? "recipient" : "\(accepted.count) recipients")")
                }
                return receipt
            }
        } catch let error as NotifyError where error.code == .malformedReply {
            // The reply decoder knows nothing of the server or the step; the conversation does.
            throw NotifyError(.malformedReply, "SMTP \(server): \(progress.step): \(error.message)")
        } catch let error as NotifyError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // A failed handshake closes the connection; which of the two reaches the conversation first is
            // a race, and the handshake's error is the one that says why.
            let cause = Self.isClosed(error) ? progress.tlsError ?? error : error
            throw NotifyError(.unreachable, "SMTP \(server): \(progress.step): \(Self.describe(cause))")
        }
    }

    /// Puts TLS under the conversation: the handler goes first in the pipeline, so the reply decoder reads
    /// what it decrypts and what the conversation writes is encrypted; the handshake starts at once, and
    /// writes wait for it.
    private func startTLS(on channel: any Channel, _ progress: SMTPProgress) async throws {
        let tls = self.tls
        // SNI carries names only; for an address the certificate is checked against the peer's address.
        let name = (try? SocketAddress(ipAddress: target.smtpServer, port: 0)) == nil ? target.smtpServer : nil
        try await channel.eventLoop.submit {
            let handler = try NIOSSLClientHandler(context: tls, serverHostname: name)
            try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            try channel.pipeline.syncOperations.addHandler(TLSErrorRecorder(progress: progress), position: .after(handler))
        }.get()
    }

    /// BoringSSL's reason names (`CERTIFICATE_VERIFY_FAILED`) out of NIOSSL's long description, which
    /// also holds error numbers and source paths; the whole text when it has none.
    static func tlsReason(_ error: any Error) -> String {
        let text = "\(error)"
        let reasons = text.components(separatedBy: "OPENSSL_internal:").dropFirst().map { $0.prefix { $0.isLetter || $0.isNumber || $0 == "_" } }
        let kind = text.hasPrefix("handshakeFailed") ? "handshake failed" : String(text.prefix { $0.isLetter })
        return reasons.isEmpty ? printable(text) : kind + ": " + reasons.joined(separator: ", ")
    }

    static func isClosed(_ error: any Error) -> Bool {
        guard let error = error as? ChannelError else { return false }
        return error == .ioOnClosedChannel || error == .eof
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as IOError: return printable(error.description)
        case let error where isClosed(error): return "the connection was closed"
        case is NIOSSLError, is BoringSSLError: return "TLS: " + tlsReason(error)
        default: return printable("\(error)")
        }
    }
}

/// Where an exchange is, for the timeout's message, its connection, for the timeout to close, and whether
/// the message was already taken, which a timeout during QUIT does not undo.
private final class SMTPProgress: Sendable {
    private struct State {
        var step = "connect"
        var channel: (any Channel)?
        var closed = false
        var receipt: SMTPMailer.Receipt?
        var tlsError: (any Error)?
    }

    private let state = NIOLockedValueBox(State())

    var step: String {
        get { state.withLockedValue { $0.step } }
        set { state.withLockedValue { $0.step = newValue } }
    }

    /// Set once the server has taken the message for every recipient.
    var receipt: SMTPMailer.Receipt? {
        get { state.withLockedValue { $0.receipt } }
        set { state.withLockedValue { $0.receipt = newValue } }
    }

    /// The first error the TLS handler raised, kept because the close that follows can reach the
    /// conversation before it.
    var tlsError: (any Error)? {
        get { state.withLockedValue { $0.tlsError } }
        set { state.withLockedValue { s in if s.tlsError == nil { s.tlsError = newValue } } }
    }

    /// Records the connection; one the timeout already gave up on is closed at once.
    func connected(_ channel: any Channel) {
        let closed = state.withLockedValue { s in
            s.channel = channel
            return s.closed
        }
        if closed { channel.close(promise: nil) }
    }

    func close() {
        let channel = state.withLockedValue { s in
            s.closed = true
            return s.channel
        }
        channel?.close(promise: nil)
    }
}

/// Sits right after the TLS handler and keeps the first error it raises for the exchange's report.
private final class TLSErrorRecorder: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny
    let progress: SMTPProgress

    init(progress: SMTPProgress) { self.progress = progress }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is NIOSSLError || error is BoringSSLError { progress.tlsError = error }
        context.fireErrorCaught(error)
    }
}

/// One SMTP conversation: a command, its reply, and what a reply that is not the expected one means.
private struct Conversation {
    let server: String
    var replies: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let writer: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let progress: SMTPProgress
    let channel: any Channel

    /// What EHLO answered: the extensions after its first line.
    struct Hello {
        var extensions: Set<String>

        func offers(_ keyword: String) -> Bool { extensions.contains(keyword) }
    }

    /// The next reply, for `step`; the connection ending first is an error.
    mutating func reply(at step: String) async throws -> SMTPReply {
        progress.step = step
        guard let reply = try await replies.next() else {
            throw NotifyError(.unreachable, "SMTP \(server): the server closed the connection (at \(step))")
        }
        return reply
    }

    @discardableResult
    mutating func expect(_ codes: Set<Int>, at step: String) async throws -> SMTPReply {
        let reply = try await reply(at: step)
        guard codes.contains(reply.code) else {
            throw NotifyError(.refused, "SMTP \(server): \(step) answered \(reply.summary)")
        }
        return reply
    }

    /// Writes `line` and returns the reply, whatever it is; `step` names it in errors (default: the line).
    mutating func send(_ line: String, as step: String? = nil) async throws -> SMTPReply {
        progress.step = step ?? line
        try await writer.write(ByteBuffer(string: line + "\r\n"))
        return try await reply(at: step ?? line)
    }

    @discardableResult
    mutating func command(_ line: String, expect codes: Set<Int>) async throws -> SMTPReply {
        let reply = try await send(line)
        guard codes.contains(reply.code) else {
            throw NotifyError(.refused, "SMTP \(server): \(line) answered \(reply.summary)")
        }
        return reply
    }

    /// EHLO, or HELO when the server does not know EHLO (500 or 502 to it); HELO offers no extensions.
    mutating func hello(_ name: String, step: String? = nil) async throws -> Hello {
        let reply = try await send("EHLO \(name)", as: step)
        if reply.code == 250 {
            let keywords = reply.lines.dropFirst().compactMap { $0.split(separator: " ").first.map { $0.uppercased() } }
            return Hello(extensions: Set(keywords))
        }
        guard reply.code == 500 || reply.code == 502 else {
            throw NotifyError(.refused, "SMTP \(server): \(step ?? "EHLO \(name)") answered \(reply.summary)")
        }
        try await command("HELO \(name)", expect: [250])
        return Hello(extensions: [])
    }

    /// QUIT after the message is taken or refused: the answer changes nothing, so it is awaited for at
    /// most `quitWait` (then the connection is closed) and any error is dropped.
    mutating func quit() async {
        let channel = self.channel
        let closing = channel.eventLoop.scheduleTask(in: Self.quitWait) { channel.close(promise: nil) }
        _ = try? await send("QUIT")
        closing.cancel()
    }

    static let quitWait = TimeAmount.seconds(2)
}
