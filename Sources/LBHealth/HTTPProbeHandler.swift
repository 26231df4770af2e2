import Crypto
import NIOCore
import NIOHTTP1

/// Sends the probe's one request when the connection comes up and decides on the head of the answer; the
/// body is waited for only when a digest must be compared, and then hashed as it comes, never kept, so a
/// large body costs no memory and `ProbeLimits.digestBodyBytes` and the deadline bound the rest.
final class HTTPProbeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let exchange: HTTPExchange
    private let verdict: NIOLoopBound<Verdict>
    private let budget: Duration
    /// Set once the head passed and the body's digest is still to be compared.
    private var body: Insecure.MD5?

    init(exchange: HTTPExchange, verdict: NIOLoopBound<Verdict>, budget: Duration) {
        self.exchange = exchange
        self.verdict = verdict
        self.budget = budget
    }

    func channelActive(context: ChannelHandlerContext) {
        verdict.value.connected = true
        let sent = context.eventLoop.makePromise(of: Void.self)
        context.write(wrapOutboundOut(.head(exchange.request)), promise: sent)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        let verdict = self.verdict
        let budget = self.budget
        sent.futureResult.whenFailure { error in
            verdict.value.decide(.failure("could not send the request: \(SocketProbe.describe(error, budget: budget))"))
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !verdict.value.isDecided else { return }
        let head: HTTPResponseHead
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
        case .body(let bytes):
            bytes.withUnsafeReadableBytes { body?.update(bufferPointer: $0) }
            return
        case .end:
            if let digest = body?.finalize() { verdict.value.decide(exchange.judge(bodyDigest: digest)) }
            return
        }
        let outcome = exchange.judge(head)
        if outcome == .success, exchange.readsBody {
            body = Insecure.MD5()
            return
        }
        guard outcome == .success, exchange.closesWebSocket else {
            verdict.value.decide(outcome)
            return
        }
        verdict.value.decide(outcome, closing: false)
        sayGoodbye(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        verdict.value.decide(.failure(body == nil ? "connection closed before a response" : "connection closed in the middle of the body"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        verdict.value.decide(.failure(SocketProbe.describe(error, budget: budget)))
        context.close(promise: nil)
    }

    /// After an upgrade, a close frame with 1000 (normal closure) before the TCP close, so the server logs a
    /// goodbye rather than a dropped connection. RFC 6455 §5.2: FIN + opcode 8, masked (every client frame
    /// is, §5.3), payload the two-byte status code (§5.5.1), in network byte order. It is written from the
    /// HTTP encoder's context, beneath the encoder, which would only take HTTP parts.
    private func sayGoodbye(context: ChannelHandlerContext) {
        let channel = context.channel
        guard let beneath = try? context.pipeline.syncOperations.context(handlerType: HTTPRequestEncoder.self) else {
            channel.close(promise: nil)
            return
        }
        let mask = (0..<4).map { _ in UInt8.random(in: .min ... .max) }
        var frame = channel.allocator.buffer(capacity: 8)
        frame.writeBytes([0x88, 0x80 | 2] + mask + [0x03 ^ mask[0], 0xE8 ^ mask[1]])
        beneath.writeAndFlush(NIOAny(frame)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Thrown into the pipeline when an answer sends more than `ProbeLimits.responseBytes`.
struct ResponseTooLarge: Error {}

/// Counts the bytes an answer sends and stops the probe past `limit`, whatever the HTTP decoder makes of
/// them: a bound that holds even for input the decoder keeps buffering.
final class ResponseByteBudget: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var remaining: Int
    private var exceeded = false

    init(limit: Int) {
        self.remaining = limit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !exceeded else { return }
        var bytes = unwrapInboundIn(data)
        guard bytes.readableBytes > remaining else {
            remaining -= bytes.readableBytes
            context.fireChannelRead(data)
            return
        }
        // What still fits goes on first: a head that ends inside the budget is judged, whatever follows it.
        exceeded = true
        if remaining > 0, let fits = bytes.readSlice(length: remaining) {
            context.fireChannelRead(wrapInboundOut(fits))
        }
        remaining = 0
        context.fireErrorCaught(ResponseTooLarge())
    }
}
