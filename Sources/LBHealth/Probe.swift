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

    public init(outcome: Outcome, latency: Duration, output: String? = nil) {
        self.outcome = outcome
        self.latency = latency
        self.output = output
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
/// its reads by `connect_timeout`: for `http` and `websocket` that is connect, request and answer together;
/// for `exec` it is the command's whole run, after which its process group is killed.
///
/// Each probe opens a fresh connection and closes it after the verdict; nothing is pooled, so a server that
/// stops accepting new connections fails its check even while old ones still work. The target is
/// `target.address` on `check.port ?? target.port`.
///
/// Sockets are created on the group's own threads, so a group whose threads have entered a network
/// namespace probes from inside it.
public final class NIOHealthProbe: HealthProbe {
    private let group: any EventLoopGroup

    /// `group` only carries the sockets; a probe never blocks one of its loops, and many probes share a loop.
    public init(group: any EventLoopGroup) {
        self.group = group
    }

    /// Socket kinds run on `group.next()` and call `done` there: with a one-loop group whose loop is the
    /// caller's own (the agent's health service), a probe never changes thread. exec runs as a task.
    public func start(_ check: HealthCheck, target: Endpoint, done: @escaping @Sendable (ProbeResult) -> Void) {
        let start = ContinuousClock.now
        let port = check.port ?? target.port
        let budget = Duration.milliseconds(max(check.connectTimeoutMilliseconds, 1))
        if check.kind == .exec {
            Task {
                let run = await ExecProbe.run(check.command ?? "", address: target.address, port: port, budget: budget)
                done(ProbeResult(outcome: run.outcome, latency: ContinuousClock.now - start, output: run.output))
            }
            return
        }
        switch Self.exchange(check, target: target, port: port) {
        case .failure(let unsendable):
            done(ProbeResult(outcome: .failure(unsendable.reason), latency: ContinuousClock.now - start))
        case .success(.connectOnly):
            do {
                let address = try SocketAddress(target.address, port: port)
                ConnectProbe.shared.start(address, budget: budget, on: group.next()) { outcome in
                    done(ProbeResult(outcome: outcome, latency: ContinuousClock.now - start))
                }
            } catch {
                done(ProbeResult(outcome: .failure("cannot connect to \(target.address): \(error)"), latency: ContinuousClock.now - start))
            }
        case .success(.http(let exchange)):
            SocketProbe.start(exchange, address: target.address, port: port, budget: budget, on: group.next()).whenComplete { result in
                let outcome: ProbeResult.Outcome = switch result {
                case .success(let o): o
                case .failure(let error): .failure("probe not run: \(error)")  // the loop is shutting down
                }
                done(ProbeResult(outcome: outcome, latency: ContinuousClock.now - start))
            }
        }
    }

    public func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult {
        await withCheckedContinuation { c in start(check, target: target) { c.resume(returning: $0) } }
    }

    /// Why a socket check cannot even be sent.
    struct Unsendable: Error { var reason: String }

    /// What the socket kinds exchange.
    private static func exchange(_ check: HealthCheck, target: Endpoint, port: Int) -> Result<SocketExchange, Unsendable> {
        switch check.kind {
        case .http, .websocket:
            if let problem = HTTPExchange.unsendable(check) { return .failure(Unsendable(reason: problem)) }
            guard (1...65535).contains(port) else { return .failure(Unsendable(reason: "port \(port) is out of range")) }
            return .success(.http(check.kind == .http ? HTTPExchange.get(check, address: target.address, port: port)
                                                      : HTTPExchange.upgrade(check, address: target.address, port: port)))
        default:
            guard (1...65535).contains(port) else { return .failure(Unsendable(reason: "port \(port) is out of range")) }
            return .success(.connectOnly)
        }
    }
}

extension SocketAddress {
    /// From the address's bytes: 2,000 checks a second need not print an address and parse it back.
    init(_ address: IPAddress, port: Int) throws {
        try self.init(packedIPAddress: ByteBuffer(bytes: address.bytes), port: port)
    }
}
