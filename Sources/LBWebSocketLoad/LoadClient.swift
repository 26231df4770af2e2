import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
#if canImport(Glibc)
import Glibc
#endif

/// What `lb-bench websocket clients` runs: how many connections, from where, to where, for how long.
public struct LoadConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var connections: Int
    /// Local addresses to bind client sockets to, round-robin, so the director sees several client IPs.
    /// Empty: let the kernel choose.
    public var sources: [String]
    public var duration: Duration
    public var mix: LoadMix
    /// Seeds each connection's schedule: the same seed gives the same heartbeat and idle intervals.
    public var seed: UInt64
    /// How long connect plus upgrade may take before the connection counts as failed (timeout).
    public var openTimeout: Duration
    /// At the end: how long to wait for the final echoes, and then again for the close handshake.
    public var finalWait: Duration
    /// Opens (connect plus upgrade) in flight at once. Few, as browsers reconnecting after an outage are
    /// spread out: 200 handshakes at once on a slow or busy host left some past `openTimeout` in the lab.
    public var maxPendingOpens: Int

    public init(host: String, port: Int, connections: Int, sources: [String] = [], duration: Duration = .seconds(10),
                mix: LoadMix = .standard, seed: UInt64 = 1, openTimeout: Duration = .seconds(10), finalWait: Duration = .seconds(2),
                maxPendingOpens: Int = 16) {
        self.host = host
        self.port = port
        self.connections = connections
        self.sources = sources
        self.duration = duration
        self.mix = mix
        self.seed = seed
        self.openTimeout = openTimeout
        self.finalWait = finalWait
        self.maxPendingOpens = maxPendingOpens
    }
}

/// The WebSocket load client: every connection a small handler on an event loop, driven by NIO timers.
public enum WebSocketLoad {
    /// Opens the connections, runs them for `duration` (less if the calling task is cancelled, as on
    /// SIGTERM), then ends each with a last message and a close handshake, and sums up.
    public static func run(_ config: LoadConfiguration, group: any EventLoopGroup) async throws -> LoadSummary {
        let start = ContinuousClock.now
        let sources = try config.sources.map { try SocketAddress(ipAddress: $0, port: 0) }
        let kinds = config.mix.assign(count: config.connections)
        var outcomes = [Outcome?](repeating: nil, count: kinds.count)
        await withTaskGroup(of: (Int, Outcome).self) { tasks in
            var pending = 0
            for (id, kind) in kinds.enumerated() {
                if pending >= config.maxPendingOpens, let (done, outcome) = await tasks.next() {
                    outcomes[done] = outcome
                    pending -= 1
                }
                let source = sources.isEmpty ? nil : sources[id % sources.count]
                let schedule = SendSchedule.make(id: id, kind: kind, seed: config.seed)
                tasks.addTask { (id, await open(id: id, schedule: schedule, source: source, config: config, group: group)) }
                pending += 1
            }
            for await (done, outcome) in tasks { outcomes[done] = outcome }
        }
        // Cancellation (a signal) ends the waiting, not the run: the connections still finish cleanly.
        try? await Task.sleep(until: start + config.duration, clock: .continuous)
        let elapsed = start.duration(to: .now)
        // Every connection is told first, so the last echoes and close handshakes overlap.
        for case .open(let channel, _) in outcomes.map({ $0! }) { channel.pipeline.fireUserInboundEventTriggered(FinishRun()) }
        var reports: [ConnectionReport] = []
        for outcome in outcomes {
            switch outcome! {
            case .failed(let report): reports.append(report)
            case .open(_, let report): reports.append(try await report.get())
            }
        }
        return LoadSummary(reports: reports, durationS: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    enum Outcome: Sendable {
        case open(any Channel, EventLoopFuture<ConnectionReport>)
        case failed(ConnectionReport)
    }

    static func open(id: Int, schedule: SendSchedule, source: SocketAddress?, config: LoadConfiguration,
                     group: any EventLoopGroup) async -> Outcome {
        let loop = group.next()
        let opened = loop.makePromise(of: Void.self)
        let report = loop.makePromise(of: ConnectionReport.self)
        let failed = { (reason: CloseReason) -> Outcome in
            let outcome = ConnectionReport(kind: schedule.kind, opened: false, closedEarly: reason, closedCleanly: false, tracker: EchoTracker(connection: id))
            // Both promises are completed on every path (NIO traps on a leaked one); a second completion is ignored.
            opened.fail(reason)
            report.succeed(outcome)
            return .failed(outcome)
        }
        let hostHeader = config.port == 80 ? config.host : "\(config.host):\(config.port)"
        var bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(TimeAmount(config.openTimeout))
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let request = UpgradeRequestHandler(host: hostHeader, opened: opened)
                    let requestOnLoop = NIOLoopBound(request, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 20) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(
                                LoadConnectionHandler(tracker: EchoTracker(connection: id), schedule: schedule, finalWait: TimeAmount(config.finalWait), report: report))
                            opened.succeed()
                        }
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(requestOnLoop.value, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        if let source { bootstrap = bootstrap.bind(to: source) }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: config.host, port: config.port).get()
        } catch ChannelError.connectTimeout {
            return failed(.timeout)
        } catch {
            return failed(.connectFailed)
        }
        let timeout = loop.scheduleTask(in: TimeAmount(config.openTimeout)) { opened.fail(CloseReason.timeout) }
        do {
            try await opened.futureResult.get()
            timeout.cancel()
            return .open(channel, report.futureResult)
        } catch {
            timeout.cancel()
            channel.close(promise: nil)
            return failed(error as? CloseReason ?? .error)
        }
    }
}

extension CloseReason: Error {
    /// The reason an I/O error stands for: a reset or broken pipe is the peer (or the director) dropping us.
    static func of(_ error: any Error) -> CloseReason {
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE { return .reset }
        return .error
    }
}

/// Tells every connection the run is over.
struct FinishRun: Sendable {}

/// Sends `GET /ws` once connected; the upgrade handler adds the WebSocket headers. Gone after a good upgrade,
/// so anything it sees means the upgrade failed.
private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    private let host: String
    private let opened: EventLoopPromise<Void>

    init(host: String, opened: EventLoopPromise<Void>) {
        self.host = host
        self.opened = opened
    }

    func channelActive(context: ChannelHandlerContext) {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/ws", headers: HTTPHeaders([("Host", host), ("Content-Length", "0")]))
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        opened.fail(CloseReason.upgradeFailed)
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        opened.fail(error is NIOHTTPClientUpgradeError ? CloseReason.upgradeFailed : CloseReason.of(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        opened.fail(CloseReason.eof)
        context.fireChannelInactive()
    }
}
