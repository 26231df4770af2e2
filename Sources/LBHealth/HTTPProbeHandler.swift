import NIOCore
import NIOHTTP1

/// Sends the probe's one request when the connection comes up and decides on the head of the answer; the
/// body is never waited for, so a slow or endless body cannot hold the probe.
final class HTTPProbeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let exchange: HTTPExchange
    private let verdict: NIOLoopBound<Verdict>
    private let budget: Duration

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
        guard case .head(let head) = unwrapInboundIn(data), !verdict.value.isDecided else { return }
        let outcome = exchange.judge(head)
        guard outcome == .success, exchange.closesWebSocket else {
            verdict.value.decide(outcome)
            return
        }
        verdict.value.decide(outcome, closing: false)
        sayGoodbye(context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        verdict.value.decide(.failure("connection closed before a response"))
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
