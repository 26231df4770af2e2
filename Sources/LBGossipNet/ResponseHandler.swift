import NIOCore

/// The client half of a request: hands the first frame back through `promise`, or why none came.
final class ResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<ByteBuffer>

    init(promise: EventLoopPromise<ByteBuffer>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(unwrapInboundIn(data))
        context.close(promise: nil)
    }

    // A promise completes once; whichever of these comes after a reply or the timeout is ignored.
    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(TransportError.closedWithoutReply)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error is FrameError ? TransportError.badReply : TransportError.connectionFailed("\(error)"))
        context.close(promise: nil)
    }
}
