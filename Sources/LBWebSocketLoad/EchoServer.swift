#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// The lab's WebSocket real server: `GET /` answers 200 `ok NAME` (for http health checks), `GET /ws` upgrades,
/// and every data frame is echoed back unchanged, pings answered, close frames returned.
public final class WebSocketEchoServer: Sendable {
    /// How `stop` ends open connections.
    public enum StopMode: Sendable {
        /// A close frame with 1001 (going away), as a server being shut down sends.
        case goingAway
        /// A TCP reset (SO_LINGER 0), as a crashed or firewalled server looks to its clients.
        case reset
    }

    public let localAddress: SocketAddress
    private let listener: any Channel
    private let children: NIOLockedValueBox<[ObjectIdentifier: any Channel]>

    private init(listener: any Channel, children: NIOLockedValueBox<[ObjectIdentifier: any Channel]>) {
        self.listener = listener
        self.localAddress = listener.localAddress!
        self.children = children
    }

    public static func start(host: String, port: Int, name: String, group: any EventLoopGroup) async throws -> WebSocketEchoServer {
        let children = NIOLockedValueBox<[ObjectIdentifier: any Channel]>([:])
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 4096)
            .childChannelInitializer { channel in
                let id = ObjectIdentifier(channel)
                children.withLockedValue { $0[id] = channel }
                channel.closeFuture.whenComplete { _ in _ = children.withLockedValue { $0.removeValue(forKey: id) } }
                return channel.eventLoop.makeCompletedFuture {
                    let http = PlainHTTPHandler(name: name)
                    let httpOnLoop = NIOLoopBound(http, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketServerUpgrader(
                        maxFrameSize: 1 << 20,
                        shouldUpgrade: { channel, head in
                            // Only /ws upgrades; refusing here hands the request to PlainHTTPHandler.
                            channel.eventLoop.makeSucceededFuture(head.uri.split(separator: "?").first == "/ws" ? HTTPHeaders() : nil)
                        },
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(EchoHandler()) }
                        }
                    )
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(httpOnLoop.value, promise: nil)
                        })
                    )
                    try channel.pipeline.syncOperations.addHandler(http)
                }
            }
            .bind(host: host, port: port).get()
        return WebSocketEchoServer(listener: listener, children: children)
    }

    /// Stops listening and ends every open connection.
    public func stop(_ mode: StopMode = .goingAway) async {
        try? await listener.close()
        let open = children.withLockedValue { Array($0.values) }
        for channel in open {
            switch mode {
            case .goingAway:
                channel.pipeline.fireUserInboundEventTriggered(GoingAway())
            case .reset:
                let linger0 = (channel as? any SocketOptionProvider)?.setSoLinger(linger(l_onoff: 1, l_linger: 0)) ?? channel.eventLoop.makeSucceededVoidFuture()
                linger0.whenComplete { _ in channel.close(promise: nil) }
            }
        }
        for channel in open { try? await channel.closeFuture.get() }
    }
}

/// Asks a connection to end as a server shutting down does.
private struct GoingAway: Sendable {}

/// Everything that is not an upgrade: `GET /` is the health check, the rest is 404.
private final class PlainHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart
    private let name: String
    private var head: HTTPRequestHead?

    init(name: String) { self.name = name }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is GoingAway else { return context.fireUserInboundEventTriggered(event) }
        context.close(promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): self.head = head
        case .body: break
        case .end:
            guard let head else { return }
            self.head = nil
            let ok = head.method == .GET && head.uri.split(separator: "?").first == "/"
            let body = ok ? "ok \(name)\n" : "not found\n"
            var headers = HTTPHeaders([("Content-Type", "text/plain"), ("Content-Length", "\(body.utf8.count)")])
            if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
            let response = HTTPResponseHead(version: head.version, status: ok ? .ok : .notFound, headers: headers)
            context.write(wrapOutboundOut(.head(response)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            if !head.isKeepAlive { done.whenComplete { [channel = context.channel] _ in channel.close(promise: nil) } }
        }
    }
}

/// Echoes data frames as they came (fragments stay fragments), answers pings, and returns a close frame.
private final class EchoHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame
    private var sentClose = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text, .binary, .continuation:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: frame.fin, opcode: frame.opcode, data: frame.unmaskedData)), promise: nil)
        case .ping:
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            if sentClose {
                // Our close was answered: the handshake is done.
                context.close(promise: nil)
            } else {
                // RFC 6455 §5.5.1: answer with the same status code, then close.
                sentClose = true
                var data = frame.unmaskedData
                let code = data.readSlice(length: min(2, data.readableBytes)) ?? context.channel.allocator.buffer(capacity: 0)
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)))
                    .whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            }
        default:
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is GoingAway, !sentClose else { return context.fireUserInboundEventTriggered(event) }
        sentClose = true
        var code = context.channel.allocator.buffer(capacity: 2)
        code.write(webSocketErrorCode: .goingAway)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: code)), promise: nil)
        // A client that never answers does not hold the shutdown up.
        context.eventLoop.scheduleTask(in: .seconds(2)) { [channel = context.channel] in channel.close(promise: nil) }
    }
}
