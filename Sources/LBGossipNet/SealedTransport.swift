import LBCrypto
import LBGossip
import NIOCore
import NIOPosix

/// The production `GossipTransport`: UDP datagrams and TCP streams on one port, every datagram and
/// frame sealed with the cluster keyring (docs/gossip.md), so the engine sees only authenticated input.
public final class SealedTransport: GossipTransport {
    /// The "host:port" actually bound (the kernel's choice when started with port 0).
    public let localAddress: String
    /// Opened messages in arrival order; when the consumer lags, the newest are dropped and counted.
    public var inbound: AsyncStream<GossipInbound> { core.inbound }
    /// The bounds this transport was started with.
    public var limits: Limits { core.limits }

    // Internal so the extensions in SealedTransport+Start and +Request can reach them.
    let core: TransportCore
    let group: any EventLoopGroup
    let datagramChannel: any Channel
    let listener: any Channel

    init(core: TransportCore, group: any EventLoopGroup, datagramChannel: any Channel, listener: any Channel) {
        self.core = core
        self.group = group
        self.datagramChannel = datagramChannel
        self.listener = listener
        localAddress = PeerAddress.format(datagramChannel.localAddress)
    }

    // MARK: Sending

    /// Fire and forget: seals on the caller's thread, writes on an event loop, counts any failure.
    public func send(_ bytes: [UInt8], to address: String, reliable: Bool) {
        guard !core.isShutDown, let target = PeerAddress.parse(address) else {
            core.count(\.sendFailed)
            return
        }
        if reliable { sendStream(bytes, to: target) } else { sendDatagram(bytes, to: target) }
    }

    private func sendDatagram(_ bytes: [UInt8], to target: SocketAddress) {
        let sealed = core.sealDatagram(bytes)
        // The receiver would drop it unread; failing here makes the loss visible on the sender.
        guard sealed.count <= core.limits.maxDatagramBytes else {
            core.count(\.sendFailed)
            return
        }
        let core = self.core
        datagramChannel.writeAndFlush(AddressedEnvelope(remoteAddress: target, data: ByteBuffer(bytes: sealed))).whenComplete { result in
            switch result {
            case .success: core.count(\.datagramsSent)
            case .failure: core.count(\.sendFailed)
            }
        }
    }

    private func sendStream(_ bytes: [UInt8], to target: SocketAddress) {
        let frame = ByteBuffer(bytes: core.sealFrame(.message, bytes))
        let core = self.core
        let deadline = TimeAmount(core.limits.idleTimeout)
        connect(to: target, extraHandlers: { [] })
            .flatMap { channel -> EventLoopFuture<Void> in
                // A peer that accepts but never reads must not hold this socket forever.
                let guardTask = channel.eventLoop.scheduleTask(in: deadline) { channel.close(promise: nil) }
                return channel.writeAndFlush(frame).always { _ in
                    guardTask.cancel()
                    channel.close(promise: nil)
                }
            }
            .whenComplete { result in
                switch result {
                case .success: core.count(\.streamsSent)
                case .failure: core.count(\.sendFailed)
                }
            }
    }

    /// Opens a tracked client connection with the frame encoder and `extraHandlers` behind it.
    func connect(
        to target: SocketAddress,
        on loop: (any EventLoop)? = nil,
        extraHandlers: @escaping @Sendable () -> [any ChannelHandler]
    ) -> EventLoopFuture<any Channel> {
        let core = self.core
        let loop = loop ?? group.next()
        return ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(core.limits.connectTimeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))
                    try channel.pipeline.syncOperations.addHandlers(extraHandlers())
                }
            }
            .connect(to: target)
            .flatMapThrowing { channel in
                guard core.trackOutbound(channel) else {
                    channel.close(promise: nil)
                    throw TransportError.shutDown
                }
                return channel
            }
    }

    /// Replaces the handler for requests that arrive from now on; it runs off the event loops.
    public func serveRequests(_ handler: @escaping @Sendable ([UInt8]) async -> [UInt8]?) {
        core.requestHandler = handler
    }

    // MARK: Keys and counters

    /// The keys in use now; a copy, so it cannot change under the caller.
    public var keyring: Keyring { core.keyring }

    /// Adds a key that opens traffic from peers that already seal with it (rotation step 1).
    public func installKey(_ key: ClusterKey) throws { try core.updateKeyring { try $0.install(key) } }

    /// Seals from the next packet on with an installed key (rotation step 2, once every member has it).
    public func usePrimary(_ id: ClusterKeyID) throws { try core.updateKeyring { try $0.usePrimary(id) } }

    /// Stops opening traffic under a retired key (rotation step 3, once no member seals with it).
    public func removeKey(_ id: ClusterKeyID) throws { try core.updateKeyring { try $0.remove(id) } }

    /// A snapshot; each field only grows.
    public var counters: Counters { core.counters }

    // MARK: Shutdown

    /// Closes the listener, the UDP socket and every open connection, then finishes `inbound`; idempotent.
    public func shutdown() async {
        guard let connections = core.beginShutdown() else { return }
        try? await listener.close()
        try? await datagramChannel.close()
        for connection in connections { try? await connection.close() }
        core.finishInbound()
    }
}
