import LBGossip
import NIOCore

/// Serves one accepted connection: opens each frame, delivers one-way messages, answers one request,
/// and closes the connection on anything it cannot trust (oversized, unopenable, unknown kind, idle).
final class StreamHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let core: TransportCore
    /// Set once a request arrives: the connection then exists only to carry its answer.
    private var serving = false

    init(core: TransportCore) { self.core = core }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !serving else { return }
        guard let plaintext = core.openFrame(Array(frame.readableBytesView)) else {
            context.close(promise: nil)
            return
        }
        guard let first = plaintext.first, let kind = Wire.Kind(rawValue: first), kind != .response else {
            core.count(\.malformed)
            context.close(promise: nil)
            return
        }
        let body = Array(plaintext.dropFirst())
        switch kind {
        case .message:
            core.count(\.streamsReceived)
            core.deliver(GossipInbound(bytes: body, from: PeerAddress.format(context.channel.remoteAddress), reliable: true))
        case .request:
            serving = true
            // One request per connection: stop reading so a chatty peer cannot queue work behind it.
            try? context.channel.syncOptions?.setOption(ChannelOptions.autoRead, value: false)
            answer(body, on: context.channel)
        case .response:
            break
        }
    }

    /// Runs the handler off the event loop (it may be slow) and writes its answer from there.
    private func answer(_ request: [UInt8], on channel: any Channel) {
        guard let handler = core.requestHandler else {
            channel.close(promise: nil)
            return
        }
        let core = self.core
        Task {
            guard let reply = await handler(request) else {
                channel.close(promise: nil)
                return
            }
            let sealed = core.sealFrame(.response, reply)
            channel.writeAndFlush(ByteBuffer(bytes: sealed)).whenComplete { result in
                if case .success = result { core.count(\.requestsServed) }
                channel.close(promise: nil)
            }
        }
    }

    /// A silent connection is closed after `idleTimeout`, unless it is waiting for our own handler.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            if !serving { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch error as? FrameError {
        case .oversized: core.count(\.oversized)
        case .truncated: core.count(\.malformed)
        case nil: break  // resets and data after a decode error: the connection is going anyway
        }
        context.close(promise: nil)
    }
}
