import NIOCore

/// Why a stream was cut: the decoder throws these so the stream handler can count and close.
/// Public so the fuzzer (GossipNetFuzz) can check which error a byte stream ends in.
public enum FrameError: Error, Equatable {
    /// The length prefix announced more than `maxFrameBytes`.
    case oversized(UInt32)
    /// The stream ended in the middle of a frame.
    case truncated
}

/// Splits a TCP byte stream into sealed frames (u32 big-endian length, then that many bytes).
/// The length is checked before anything is buffered, so a hostile prefix cannot make us allocate.
/// Public so the fuzzer (GossipNetFuzz) can run it in an EmbeddedChannel exactly as the listener does.
public struct FrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer
    /// Longest sealed frame accepted; a longer length prefix throws `FrameError.oversized`.
    public let maxFrameBytes: Int

    /// A decoder that refuses frames longer than `maxFrameBytes`.
    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    /// Emits every complete frame in `buffer`; throws `FrameError.oversized` on a too-long prefix.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard UInt64(length) <= UInt64(maxFrameBytes) else { throw FrameError.oversized(length) }
        guard buffer.readableBytes >= Wire.lengthPrefixBytes + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: Wire.lengthPrefixBytes)
        let frame = buffer.readSlice(length: Int(length))!
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    /// As `decode`, then throws `FrameError.truncated` when the stream ends inside a frame.
    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        let state = try decode(context: context, buffer: &buffer)
        // Bytes left at EOF are a frame the peer never finished.
        if state == .needMoreData && buffer.readableBytes > 0 {
            buffer.moveReaderIndex(to: buffer.writerIndex)
            throw FrameError.truncated
        }
        return state
    }
}

/// Prepends the u32 length to each outbound sealed frame.
struct FrameEncoder: MessageToByteEncoder {
    typealias OutboundIn = ByteBuffer

    func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
