#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// What a datagram probe sends, and how it reads what comes back: `udp`, `dns` and `ping` differ only here.
struct DatagramExchange: Sendable {
    /// The one datagram sent.
    var request: [UInt8]
    /// A datagram's verdict, or nil when it is no answer to this probe (another query's reply, another host's
    /// echo reply: a raw ICMP socket sees them all), so the probe keeps waiting.
    var judge: @Sendable (ByteBuffer, SocketAddress) -> ProbeResult.Outcome?
    /// The verdict when nothing has answered within the budget.
    var silence: ProbeResult.Outcome
    /// The largest datagram read whole; longer ones arrive cut to this, which a length check must see as too long.
    var readBytes = 2048
}

/// A datagram probe: one socket, one datagram, the first answer that `judge` decides on, the deadline.
/// Everything happens on one event loop, so a probe costs a channel and a timer, never a thread.
enum DatagramProbe {
    enum Transport {
        /// A UDP socket connected to the target, so an ICMP port unreachable comes back as ECONNREFUSED on it.
        case udp
        /// A raw ICMP (ICMPv6 for a v6 target) socket: root has CAP_NET_RAW, where an unprivileged ICMP
        /// datagram socket needs `net.ipv4.ping_group_range` to admit the group (Debian's default, `1 0`,
        /// admits nobody, and keepalived widens that global setting itself; lb leaves it alone). Every raw
        /// socket sees every echo reply the host gets, so replies are matched by source, identifier and sequence.
        case icmp
    }

    static func start(_ exchange: DatagramExchange, to address: SocketAddress, over transport: Transport, budget: Duration,
                      on loop: any EventLoop) -> EventLoopFuture<ProbeResult.Outcome> {
        loop.onOwnThread { run(exchange, to: address, over: transport, budget: budget, on: loop) }
    }

    private static func run(_ exchange: DatagramExchange, to address: SocketAddress, over transport: Transport,
                            budget: Duration, on loop: any EventLoop) -> EventLoopFuture<ProbeResult.Outcome> {
        let verdict = NIOLoopBound(Verdict(loop.makePromise()), eventLoop: loop)
        let deadline = loop.scheduleTask(in: TimeAmount(budget)) { verdict.value.decide(exchange.silence) }
        deadline.futureResult.whenFailure { _ in verdict.value.decide(.failure("probe cancelled: event loop shut down")) }
        let outcome = verdict.value.promise.futureResult
        outcome.whenComplete { _ in deadline.cancel() }

        let bootstrap = DatagramBootstrap(group: loop)
            .channelOption(.recvAllocator, value: FixedSizeRecvByteBufferAllocator(capacity: exchange.readBytes))
            .channelInitializer { channel in
                verdict.value.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(DatagramVerdictHandler(exchange: exchange, from: address, verdict: verdict))
                }
            }
        let opened: EventLoopFuture<any Channel>
        switch transport {
        case .udp:
            opened = bootstrap.connect(to: address)
        case .icmp:
            let v6 = address.protocol == .inet6
            let fd = socket(v6 ? AF_INET6 : AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue),
                            Int32(v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP))
            guard fd >= 0 else {
                verdict.value.decide(.failure("cannot open an ICMP socket: \(FailureText.errno(errno)) (ping checks need root or CAP_NET_RAW)"))
                return outcome
            }
            opened = bootstrap.withBoundSocket(fd)
        }
        opened.whenComplete { result in
            switch result {
            case .success(let channel):
                let envelope = AddressedEnvelope(remoteAddress: address, data: channel.allocator.buffer(bytes: exchange.request))
                channel.writeAndFlush(envelope).whenFailure { error in
                    verdict.value.decide(.failure(describe(error)))
                }
            case .failure(let error):
                verdict.value.decide(.failure(describe(error)))
            }
        }
        return outcome
    }

    /// An ICMP error the kernel reports on the socket, in keepalived's terms where it has them.
    static func describe(_ error: any Error) -> String {
        if let error = error as? IOError {
            if error.errnoCode == ECONNREFUSED { return "port unreachable (ICMP)" }
            return FailureText.errno(error.errnoCode)
        }
        return "\(error)"
    }
}

/// Hands each datagram from the target to the exchange's judge, and socket errors to the verdict.
private final class DatagramVerdictHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let exchange: DatagramExchange
    let target: SocketAddress
    let verdict: NIOLoopBound<Verdict>

    init(exchange: DatagramExchange, from target: SocketAddress, verdict: NIOLoopBound<Verdict>) {
        self.exchange = exchange
        self.target = target
        self.verdict = verdict
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        if let outcome = exchange.judge(envelope.data, envelope.remoteAddress) { verdict.value.decide(outcome) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        verdict.value.decide(.failure(DatagramProbe.describe(error)))
    }
}

extension SocketAddress {
    /// The address's bytes without the port: a raw socket's peer has no port to compare.
    var hostBytes: [UInt8]? {
        switch self {
        case .v4(let a): withUnsafeBytes(of: a.address.sin_addr) { Array($0) }
        case .v6(let a): withUnsafeBytes(of: a.address.sin6_addr) { Array($0) }
        default: nil
        }
    }
}
