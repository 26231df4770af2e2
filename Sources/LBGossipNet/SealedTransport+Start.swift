#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import LBCrypto
import NIOCore
import NIOPosix

/// Binding: one port for both protocols, so a member is known by a single "host:port".
extension SealedTransport {
    /// Binds UDP and TCP to `host:port`; with port 0 the kernel picks UDP's port and TCP follows it,
    /// retrying with a new port when that one is already taken for TCP.
    public static func start(
        host: String,
        port: Int,
        keyring: Keyring,
        limits: Limits = .init(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> SealedTransport {
        let core = TransportCore(keyring: keyring, limits: limits)
        let attempts = port == 0 ? 8 : 1
        for attempt in 1...attempts {
            let udp = try await bindDatagram(host: host, port: port, core: core, group: group)
            do {
                let tcp = try await bindListener(host: host, port: udp.localAddress?.port ?? port, core: core, group: group)
                return SealedTransport(core: core, group: group, datagramChannel: udp, listener: tcp)
            } catch where isAddressInUse(error) && attempt < attempts {
                try? await udp.close()
            } catch {
                try? await udp.close()
                throw error
            }
        }
        preconditionFailure("the last attempt either returns or throws")
    }

    /// Whether a bind failed only because the port is taken, the one failure a new port can fix.
    static func isAddressInUse(_ error: any Error) -> Bool {
        (error as? IOError)?.errnoCode == EADDRINUSE
    }

    private static func bindDatagram(host: String, port: Int, core: TransportCore, group: any EventLoopGroup) async throws -> any Channel {
        let bufferBytes = DatagramHandler.receiveBufferBytes(limits: core.limits)
        return try await DatagramBootstrap(group: group)
            .channelOption(ChannelOptions.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: bufferBytes))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramHandler(core: core))
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    private static func bindListener(host: String, port: Int, core: TransportCore, group: any EventLoopGroup) async throws -> any Channel {
        let limits = core.limits
        return try await ServerBootstrap(group: group)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                guard core.admitInbound(child) else {
                    // A failed initializer makes the bootstrap close the accepted socket.
                    return child.eventLoop.makeFailedFuture(ConnectionRefused())
                }
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandlers(
                        IdleStateHandler(readTimeout: TimeAmount(limits.idleTimeout)),
                        ByteToMessageHandler(FrameDecoder(maxFrameBytes: limits.maxFrameBytes)),
                        MessageToByteHandler(FrameEncoder()),
                        StreamHandler(core: core)
                    )
                }
            }
            .bind(host: host, port: port)
            .get()
    }

    /// Why the listener closed an accepted socket at once: over `maxConnections`, or shutting down.
    private struct ConnectionRefused: Error {}
}
