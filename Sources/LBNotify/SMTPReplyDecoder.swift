import NIOCore

/// `SMTPReplyParser` in a channel pipeline: bytes in, one `SMTPReply` out per complete reply. A malformed
/// reply is thrown as the parser's `NotifyError`, which ends the conversation.
struct SMTPReplyDecoder: ByteToMessageDecoder {
    typealias InboundOut = SMTPReply

    private var parser = SMTPReplyParser()

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let reply = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(reply))
        return .continue
    }

    mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A reply cut off by the close is not delivered; the conversation sees the connection end instead.
        try decode(context: context, buffer: &buffer)
    }
}
