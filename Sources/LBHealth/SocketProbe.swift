import LBSpec
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// What an HTTP probe does once connected (`http`, `https`, `websocket`): one request, judged on the head
/// of its answer (and the body's digest), inside TLS when `tls` is set. A `tcp` check is `ConnectProbe`'s.
struct SocketExchange: Sendable {
    var http: HTTPExchange
    var tls: TLSClient?

    static func http(_ exchange: HTTPExchange, tls: TLSClient? = nil) -> SocketExchange {
        SocketExchange(http: exchange, tls: tls)
    }
}

/// The TLS side of an https probe: the context (its verification settings) and the server name sent.
struct TLSClient: Sendable {
    var context: NIOSSLContext
    /// SNI, and with verification the name the certificate must carry; nil: none sent, and a verified
    /// certificate must name the address.
    var serverName: String?
}

/// An HTTP probe: connect, one HTTP exchange, close. Everything happens on one event loop under one
/// deadline, so a probe costs a channel and a timer, never a thread.
enum SocketProbe {
    static func start(_ exchange: SocketExchange, address: IPAddress, port: Int, budget: Duration,
                      on loop: any EventLoop) -> EventLoopFuture<ProbeResult.Outcome> {
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(address, port: port)
        } catch {
            return loop.makeSucceededFuture(.failure("cannot connect to \(address): \(error)"))
        }
        return loop.onOwnThread { start(exchange, to: socketAddress, budget: budget, on: loop) }
    }

    private static func start(_ exchange: SocketExchange, to address: SocketAddress, budget: Duration,
                              on loop: any EventLoop) -> EventLoopFuture<ProbeResult.Outcome> {
        connect(to: address, budget: budget, on: loop) { pipeline, verdict in
            if let tls = exchange.tls {
                try pipeline.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
            }
            try addHTTPProbeHandlers(exchange.http, to: pipeline, verdict: verdict, budget: budget)
        }
    }

    /// A TCP probe's frame, whatever it speaks once connected (HTTP, SMTP): the connect, the deadline over
    /// connect and exchange together, one verdict, and the connection closed after it. `handlers` builds the
    /// pipeline that reaches the verdict. Called on `loop`.
    static func connect(to address: SocketAddress, budget: Duration, on loop: any EventLoop,
                        handlers: @escaping @Sendable (ChannelPipeline.SynchronousOperations, NIOLoopBound<Verdict>) throws -> Void)
        -> EventLoopFuture<ProbeResult.Outcome> {
        let verdict = NIOLoopBound(Verdict(loop.makePromise()), eventLoop: loop)
        let timeAmount = TimeAmount(budget)
        let deadline = loop.scheduleTask(in: timeAmount) {
            let phase = verdict.value.connected ? "waiting for a response" : nil
            verdict.value.decide(.failure(FailureText.timedOut(after: budget, phase)))
        }
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeAmount)
            .channelInitializer { channel in
                verdict.value.channel = channel
                return channel.eventLoop.makeCompletedFuture {
                    try handlers(channel.pipeline.syncOperations, verdict)
                }
            }
        bootstrap.connect(to: address).whenComplete { result in
            switch result {
            case .success:
                verdict.value.connected = true
            case .failure(let error):
                verdict.value.decide(.failure(describe(error, budget: budget)))
            }
        }
        // A loop shutting down cancels the deadline; the probe still gets its answer then, and the promise
        // is never dropped unfulfilled.
        deadline.futureResult.whenFailure { _ in verdict.value.decide(.failure("probe cancelled: event loop shut down")) }
        let outcome = verdict.value.promise.futureResult
        outcome.whenComplete { _ in deadline.cancel() }
        return outcome
    }

    /// The probe's HTTP pipeline, as the probe and the fuzzer build it: the byte budget, NIO's decoder with
    /// the probe's limits, the verdict handler.
    static func addHTTPProbeHandlers(_ exchange: HTTPExchange, to pipeline: ChannelPipeline.SynchronousOperations,
                                     verdict: NIOLoopBound<Verdict>, budget: Duration) throws {
        var limits = NIOHTTPDecoderLimitConfiguration()
        limits.maxHeaderFieldSize = ProbeLimits.headerFieldBytes
        limits.maxHeaderListSize = ProbeLimits.headerListBytes
        limits.maxHeaderFieldCount = ProbeLimits.headerFieldCount
        let bytes = ProbeLimits.responseBytes + (exchange.readsBody ? ProbeLimits.digestBodyBytes : 0)
        try pipeline.addHandler(ResponseByteBudget(limit: bytes))
        try pipeline.addHTTPClientHandlers(decoderLimitConfiguration: limits)
        try pipeline.addHandler(HTTPProbeHandler(exchange: exchange, verdict: verdict, budget: budget))
    }

    /// An error from NIO, the kernel or the HTTP decoder as a reason an operator can act on.
    static func describe(_ error: any Error, budget: Duration) -> String {
        switch error {
        case let error as IOError:
            return FailureText.errno(error.errnoCode)
        case let error as ChannelError:
            if case .connectTimeout = error { return FailureText.timedOut(after: budget) }
            switch error {
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed:
                return "connection closed before a response"
            default:
                return "connection failed: \(error)"
            }
        case is ResponseTooLarge:
            return "response too large: over \(ProbeLimits.responseBytes / 1024) KiB (\(ProbeLimits.digestBodyBytes / 1024 / 1024) MiB more when the body is digested)"
        case let error as NIOSSLError:
            switch error {
            case .handshakeFailed(let reasons):
                let text = "\(reasons)"
                if text.contains("CERTIFICATE_VERIFY_FAILED") { return "TLS handshake failed: certificate not trusted" }
                return "TLS handshake failed: \(text)"
            case .uncleanShutdown:
                return "connection closed without a TLS close_notify before the answer was complete"
            default:
                return "TLS error: \(error)"
            }
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "TLS certificate does not name the host"
        case let error as HTTPParserError:
            switch error {
            case .headerOverflow:
                return "response head too large (over \(ProbeLimits.headerListBytes / 1024) KiB or \(ProbeLimits.headerFieldCount) fields)"
            case .invalidEOFState:
                return "connection closed in the middle of the response head"
            case .invalidVersion, .invalidConstant, .invalidStatus:
                return "answer is not HTTP/1.x"
            default:
                return "malformed HTTP response (\(error))"
            }
        case let error as NIOHTTPDecoderError:
            return "malformed HTTP response (\(error))"
        default:
            return "\(error)"
        }
    }
}

extension EventLoop {
    /// `body` on this loop's thread: submitted when called from elsewhere, so a socket it creates belongs to
    /// that thread's network namespace, not to whichever pool thread asked.
    func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> EventLoopFuture<T>) -> EventLoopFuture<T> {
        inEventLoop ? body() : flatSubmit(body)
    }
}

/// The one answer of a socket probe, given by whichever comes first: the exchange, a failed connect or the
/// deadline; later ones are dropped. Lives on the probe's event loop (held through `NIOLoopBound`).
final class Verdict {
    let promise: EventLoopPromise<ProbeResult.Outcome>
    /// Set as soon as the socket exists, so the deadline can close a connect still in progress.
    var channel: (any Channel)?
    /// Once connected, a timeout is reported as waiting for a response rather than for the connect.
    var connected = false
    private(set) var isDecided = false

    init(_ promise: EventLoopPromise<ProbeResult.Outcome>) {
        self.promise = promise
    }

    /// Gives the answer and, unless told otherwise, closes the connection: one connection per probe.
    func decide(_ outcome: ProbeResult.Outcome, closing: Bool = true) {
        guard !isDecided else { return }
        isDecided = true
        promise.succeed(outcome)
        if closing { channel?.close(promise: nil) }
    }
}
