import LBSpec
import NIOCore

/// What one probe found.
public struct ProbeResult: Sendable, Equatable {
    /// The verdict; a failure carries its reason in an operator's words ("connection refused").
    public enum Outcome: Sendable, Equatable {
        case success
        case failure(String)
    }

    public var outcome: Outcome
    /// From the start of the probe to its verdict.
    public var latency: Duration
    /// exec only: the command's combined stdout and stderr, cut at `ProbeLimits.execOutputBytes`, for a
    /// debug log line. nil for the socket kinds.
    public var output: String?
    /// exec with `dynamic_weight`: the weight the command's exit status asks for (status − 2); nil keeps the
    /// planned weight.
    public var weight: Int?

    public init(outcome: Outcome, latency: Duration, output: String? = nil, weight: Int? = nil) {
        self.outcome = outcome
        self.latency = latency
        self.output = output
        self.weight = weight
    }
}

/// Runs one check against one real server.
public protocol HealthProbe: Sendable {
    /// Never throws and never hangs: every kind answers within about `check.connectTimeoutMilliseconds`.
    func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult
    /// The same, answered through `done` (on whatever thread the probe finishes on): how the agent
    /// runs thousands of checks a second without a task and two thread hops for each.
    func start(_ check: HealthCheck, target: Endpoint, done: @escaping @Sendable (ProbeResult) -> Void)
}

extension HealthProbe {
    public func start(_ check: HealthCheck, target: Endpoint, done: @escaping @Sendable (ProbeResult) -> Void) {
        Task { done(await probe(check, target: target)) }
    }
}

/// The real probes: SwiftNIO sockets on a shared event loop group, and child processes for exec.
///
/// Every kind is bounded as a whole by the check's `connect_timeout`, as keepalived bounds its connect and
/// its reads by `connect_timeout`: for `http`, `websocket` and `smtp` that is connect, request and answer
/// together; for `udp`, `dns` and `ping` the datagram and its answer (or the silence); for `exec` it is the
/// command's whole run, after which its process group is killed.
///
/// Each probe opens a fresh connection and closes it after the verdict; nothing is pooled, so a server that
/// stops accepting new connections fails its check even while old ones still work. The target is
/// `target.address` on `check.port ?? target.port`.
///
/// Sockets are created on the group's own threads, so a group whose threads have entered a network
/// namespace probes from inside it.
public final class NIOHealthProbe: HealthProbe {
    private let group: any EventLoopGroup
    private let tls = TLSContexts()

    /// `group` only carries the sockets; a probe never blocks one of its loops, and many probes share a loop.
    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Socket kinds run on `group.next()` and call `done` there: with a one-loop group whose loop is the
    /// caller's own (the agent's health service), a probe never changes thread. exec runs as a task.
    ///
    /// An http or https check of several URLs fetches them one after the other, each on its own connection
    /// under its own `connect_timeout`, as keepalived does, and passes only when every one passes; the
    /// first failure is the verdict.
    public func start(_ check: HealthCheck, target: Endpoint, done: @escaping @Sendable (ProbeResult) -> Void) {
        let start = ContinuousClock.now
        let port = check.port ?? target.port
        let budget = Duration.milliseconds(max(check.connectTimeoutMilliseconds, 1))
        if check.kind == .exec {
            Task {
                let run = await ExecProbe.run(check.command ?? "", address: target.address, port: port, budget: budget,
                                              dynamicWeight: check.dynamicWeight)
                done(ProbeResult(outcome: run.outcome, latency: ContinuousClock.now - start, output: run.output, weight: run.weight))
            }
            return
        }
        if check.kind == .ping || check.kind == .udp || check.kind == .dns || check.kind == .smtp {
            return startProtocolCheck(check, target: target, port: port, budget: budget) { outcome in
                done(ProbeResult(outcome: outcome, latency: ContinuousClock.now - start))
            }
        }
        guard (1...65535).contains(port) else {
            return done(ProbeResult(outcome: .failure("port \(port) is out of range"), latency: ContinuousClock.now - start))
        }
        if check.kind == .tcp {
            do {
                ConnectProbe.shared.start(try SocketAddress(target.address, port: port), budget: budget, on: group.next()) { outcome in
                    done(ProbeResult(outcome: outcome, latency: ContinuousClock.now - start))
                }
            } catch {
                done(ProbeResult(outcome: .failure("cannot connect to \(target.address): \(error)"), latency: ContinuousClock.now - start))
            }
            return
        }
        let finish: @Sendable (Result<ProbeResult.Outcome, any Error>) -> Void = { result in
            let outcome: ProbeResult.Outcome = switch result {
            case .success(let o): o
            case .failure(let error): .failure("probe not run: \(error)")  // the loop is shutting down
            }
            done(ProbeResult(outcome: outcome, latency: ContinuousClock.now - start))
        }
        let loop = group.next()
        switch Self.exchanges(check, target: target, port: port) {
        case .failure(let unsendable):
            finish(.success(.failure(unsendable.reason)))
        case .success(let exchanges) where check.kind == .https:
            tls.context(verify: check.verifyCertificate, caFile: check.caFile, on: loop).whenComplete { result in
                switch result {
                case .failure(let error):
                    finish(.success(.failure("TLS not set up: \(error)")))
                case .success(let context):
                    let secured = exchanges.map { e -> Step in
                        let exchange = e.exchange.http
                        let name = check.sni ? e.serverName : nil
                        return Step(exchange: .http(exchange, tls: TLSClient(context: context, serverName: name)), label: e.label, serverName: name)
                    }
                    Self.run(secured[...], address: target.address, port: port, budget: budget, on: loop).whenComplete(finish)
                }
            }
        case .success(let exchanges):
            Self.run(exchanges[...], address: target.address, port: port, budget: budget, on: loop).whenComplete(finish)
        }
    }

    public func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult {
        await withCheckedContinuation { c in start(check, target: target) { c.resume(returning: $0) } }
    }

    /// Why a socket check cannot even be sent.
    struct Unsendable: Error { var reason: String }

    /// One connection of a probe; `label` names its URL in a failure when the check fetches several.
    struct Step: Sendable {
        var exchange: SocketExchange
        var label: String?
        /// The host name the URL is fetched for, when it is one (an address is never a TLS server name).
        var serverName: String?
    }

    /// The steps one after the other, stopping at the first that fails.
    private static func run(_ steps: ArraySlice<Step>, address: IPAddress, port: Int, budget: Duration,
                            on loop: any EventLoop) -> EventLoopFuture<ProbeResult.Outcome> {
        guard let step = steps.first else { return loop.makeSucceededFuture(.success) }
        return SocketProbe.start(step.exchange, address: address, port: port, budget: budget, on: loop).flatMap { outcome in
            guard case .failure(let reason) = outcome else {
                return run(steps.dropFirst(), address: address, port: port, budget: budget, on: loop)
            }
            return loop.makeSucceededFuture(.failure(step.label.map { "\($0): \(reason)" } ?? reason))
        }
    }

    /// What the socket kinds exchange.
    private static func exchanges(_ check: HealthCheck, target: Endpoint, port: Int) -> Result<[Step], Unsendable> {
        switch check.kind {
        case .http, .https:
            if let problem = HTTPExchange.unsendable(check) { return .failure(Unsendable(reason: problem)) }
            let fetches = check.fetches
            return .success(fetches.map { url in
                let host = url.host ?? check.host
                return Step(exchange: .http(HTTPExchange.get(check, url: url, address: target.address, port: port)),
                            label: fetches.count > 1 ? "GET \(url.path)" : nil,
                            serverName: host.flatMap { IPAddress($0) == nil ? $0 : nil })
            })
        case .websocket:
            if let problem = HTTPExchange.unsendable(check) { return .failure(Unsendable(reason: problem)) }
            return .success([Step(exchange: .http(HTTPExchange.upgrade(check, address: target.address, port: port)))])
        case .tcp, .exec, .udp, .dns, .smtp, .ping:
            return .failure(Unsendable(reason: "\(check.kind.rawValue) is not an HTTP check"))  // started before this
        }
    }
}

extension NIOHealthProbe {
    /// keepalived's UDP_CHECK, DNS_CHECK, SMTP_CHECK and PING_CHECK, each bounded as a whole by `budget`.
    private func startProtocolCheck(_ check: HealthCheck, target: Endpoint, port: Int, budget: Duration,
                                    done: @escaping @Sendable (ProbeResult.Outcome) -> Void) {
        guard check.kind == .ping || (1...65535).contains(port) else { return done(.failure("port \(port) is out of range")) }
        let address: SocketAddress
        do {
            address = try SocketAddress(target.address, port: check.kind == .ping ? 0 : port)
        } catch {
            return done(.failure("cannot reach \(target.address): \(error)"))
        }
        let loop = group.next()
        let outcome: EventLoopFuture<ProbeResult.Outcome>
        switch check.kind {
        case .udp:
            switch UDPExchange.make(check) {
            case .failure(let unsendable): return done(.failure(unsendable.reason))
            case .success(let exchange): outcome = DatagramProbe.start(exchange, to: address, over: .udp, budget: budget, on: loop)
            }
        case .dns:
            outcome = DatagramProbe.start(DNSExchange.make(check, id: .random(in: 0...UInt16.max)), to: address, over: .udp,
                                          budget: budget, on: loop)
        case .ping:
            let exchange = PingExchange.make(to: address, id: .random(in: 0...UInt16.max), sequence: .random(in: 0...UInt16.max))
            outcome = DatagramProbe.start(exchange, to: address, over: .icmp, budget: budget, on: loop)
        case .tcp, .http, .https, .websocket, .exec:
            return done(.failure("\(check.kind.rawValue) is not a UDP, DNS, SMTP or ping check"))  // started before this
        case .smtp:
            let helo = check.heloName ?? HealthCheck.defaultHeloName
            outcome = loop.onOwnThread {
                SocketProbe.connect(to: address, budget: budget, on: loop) { pipeline, verdict in
                    try pipeline.addHandler(SMTPProbeHandler(heloName: helo, verdict: verdict))
                }
            }
        }
        outcome.whenComplete { result in
            switch result {
            case .success(let o): done(o)
            case .failure(let error): done(.failure("probe not run: \(error)"))  // the loop is shutting down
            }
        }
    }
}

extension SocketAddress {
    /// From the address's bytes: 2,000 checks a second need not print an address and parse it back.
    init(_ address: IPAddress, port: Int) throws {
        try self.init(packedIPAddress: ByteBuffer(bytes: address.bytes), port: port)
    }
}
