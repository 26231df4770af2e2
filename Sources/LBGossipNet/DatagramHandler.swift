import LBGossip
import NIOCore

/// Opens each received datagram and delivers it; whatever is oversized or does not open is counted and
/// dropped here, so the engine only ever sees authenticated plaintext.
final class DatagramHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    private let core: TransportCore

    init(core: TransportCore) { self.core = core }

    /// The receive buffer holds one byte more than the limit, so any longer datagram shows up as too long
    /// (the kernel truncates it to the buffer) instead of arriving cut short and failing to open.
    static func receiveBufferBytes(limits: Limits) -> Int { min(limits.maxDatagramBytes + 1, 65_536) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        guard envelope.data.readableBytes <= core.limits.maxDatagramBytes else {
            core.count(\.oversized)
            return
        }
        guard let plaintext = core.openDatagram(Array(envelope.data.readableBytesView)) else { return }
        core.count(\.datagramsReceived)
        core.deliver(GossipInbound(bytes: plaintext, from: PeerAddress.format(envelope.remoteAddress), reliable: false))
    }

    /// A read error on an unconnected UDP socket (an ICMP report about an earlier send) says nothing
    /// about the socket itself, so it is swallowed rather than closing the port.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {}
}
