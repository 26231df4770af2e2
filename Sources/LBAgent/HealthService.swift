import Foundation
import LBHealth
import LBHost
import LBSpec
import Logging
import NIOCore
import ServiceLifecycle

/// What the real servers can serve, as a Service: runs the planned health checks (the pure
/// `HealthChecker` decides when and what results mean; `probe` does the I/O, never a thread per check)
/// and tracks drains (`DrainTracker`, fed the reconciler's last observation). Every change of either
/// goes out on `updates` as a `ServingState`, which the document follower composes into the
/// desired state. Health is not carried over a restart: a new agent starts with every check unknown.
public actor HealthService: Service {
    /// One check as `status` shows it.
    public struct CheckView: Codable, Sendable, Equatable {
        public var service: String
        public var destination: String
        public var node: String?
        public var kind: String
        public var health: String
        public var failures: Int
        public var lastResult: String?
        public var latencyMilliseconds: Double?
        public var lastChange: Date?
        /// The weight an exec check with `dynamic_weight` set; absent otherwise.
        public var weight: Int?
    }

    /// One finished drain as `status` and the report show it.
    public struct DrainView: Codable, Sendable, Equatable {
        public var service: String
        public var destination: String
        public var node: String?
        public var openConnections: Int
        public var byDeadline: Bool
        public var at: Date
    }

    let probe: any HealthProbe
    let reconciler: Reconciler
    let logger: Logger
    let metrics: AgentMetrics?
    let onChange: @Sendable () -> Void
    private var checker = HealthChecker()
    private var drains = DrainTracker()
    private var plan: HostPlan?
    private var planAt = ContinuousClock.now
    private var nodes: [Endpoint: String] = [:]
    private var published = ServingState()
    private let epoch = ContinuousClock.now
    /// The actor's executor, the probes' sockets and the timer share this one event loop.
    let loop: any EventLoop
    private var timer: Scheduled<Void>?
    private var running = false
    private var wakeAt: Duration = .zero
    private var dirty = false
    private var lastPublish: Duration = .zero
    /// Served to the follower: the latest serving state, whenever it changes.
    public nonisolated let updates: AsyncStream<ServingState>
    private let updateSink: AsyncStream<ServingState>.Continuation
    /// How often drains are looked at while any is in progress.
    let drainInterval: Duration

    /// - Parameter loop: runs this actor, its timer and, when `probe` is an `NIOHealthProbe` on the same
    ///   loop, every socket probe: one thread for all checks, no hop per probe.
    public init(probe: any HealthProbe, loop: any EventLoop, reconciler: Reconciler, logger: Logger, metrics: AgentMetrics? = nil,
                drainInterval: Duration = .seconds(1), onChange: @escaping @Sendable () -> Void = {}) {
        self.probe = probe
        self.loop = loop
        self.reconciler = reconciler
        self.logger = logger
        self.metrics = metrics
        self.drainInterval = drainInterval
        self.onChange = onChange
        (updates, updateSink) = AsyncStream.makeStream(of: ServingState.self, bufferingPolicy: .bufferingNewest(1))
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { loop.executor.asUnownedSerialExecutor() }

    var now: Duration { ContinuousClock.now - epoch }

    /// The plan in force: its checks are run, its drains tracked.
    public func setPlan(_ plan: HostPlan) async {
        self.plan = plan
        planAt = .now
        nodes = [:]
        for s in plan.ipvsServices {
            for d in s.destinations { if let n = d.node { nodes[Endpoint(address: d.address, port: d.port)] = n } }
        }
        checker.setChecks(plan.healthChecks, now: now)
        // A deadline already past ends its drain at once, with the connections the last look counted.
        let last = await reconciler.snapshot.observed?.ipvs.table
        updateDrains(observed: last, fresh: false)
        publish()
        if timer != nil { timer?.cancel(); timer = nil }
        arm()
    }

    public var checks: [CheckView] {
        checker.ids.sorted().compactMap { id in
            guard let s = checker.status(id) else { return nil }
            let failure: String? = switch s.last?.outcome {
            case .failure(let text): text
            case .success: "ok"
            case nil: nil
            }
            return CheckView(service: id.service, destination: id.destination.description, node: nodes[id.destination],
                             kind: checker.check(id)?.kind.rawValue ?? "",
                             health: s.health.rawValue, failures: s.consecutiveFailures, lastResult: failure,
                             latencyMilliseconds: s.last.map { Self.milliseconds($0.latency) },
                             lastChange: s.lastChange.map { Date(timeIntervalSinceNow: -Self.seconds(now - $0)) },
                             weight: s.weight)
        }
    }

    public var finishedDrains: [DrainView] {
        drains.done.values.flatMap(\.values).sorted { ($0.service, $0.destination.description) < ($1.service, $1.destination.description) }.map {
            DrainView(service: $0.service, destination: $0.destination.description, node: $0.node, openConnections: $0.openConnections,
                      byDeadline: $0.byDeadline, at: Date(timeIntervalSince1970: TimeInterval($0.at)))
        }
    }

    public var serving: ServingState { published }

    public func run() async throws {
        running = true
        arm()
        await withDiscardingTaskGroup { group in
            group.addTask { await self.watchDrains() }
            try? await gracefulShutdown()
            group.cancelAll()
        }
        running = false
        timer?.cancel()
        timer = nil
    }

    /// One turn: starts the due checks, publishes what changed, sets the timer for the next turn.
    private func tick() {
        timer = nil
        guard running else { return }
        for run in checker.start(now: now) {
            probe.start(run.check, target: run.target) { [weak self] result in self?.deliver(run.id, result) }
        }
        // At most one publication per `publishEvery`: 10,000 first results in the first second are a
        // few dozen new desired states, not 10,000.
        if dirty, now - lastPublish >= Self.publishEvery { publish() }
        arm()
    }

    /// A probe's answer, on whatever thread it finished: on this actor's loop (the NIO probes') it is
    /// recorded at once, without a task or a thread hop.
    private nonisolated func deliver(_ id: HealthChecker.ID, _ result: ProbeResult) {
        if loop.inEventLoop {
            assumeIsolated { $0.record(id, result) }
        } else {
            loop.execute { self.assumeIsolated { $0.record(id, result) } }
        }
    }

    /// One timer per agent, not one per check: the next turn at the next due check (in steps of at least
    /// `granularity`, so 2,000 checks a second are a few hundred turns), or sooner to publish.
    private func arm() {
        guard running else { return }
        var wait = checker.nextDue().map { min(max(Self.granularity, $0 - now), Self.idle) } ?? Self.idle
        if dirty { wait = min(wait, max(Self.granularity, lastPublish + Self.publishEvery - now)) }
        let at = now + wait
        if timer != nil, wakeAt <= at { return }
        timer?.cancel()
        wakeAt = at
        timer = loop.scheduleTask(in: TimeAmount(wait)) { [weak self] in
            self?.assumeIsolated { $0.tick() }
        }
    }

    /// The shortest and longest waits between turns.
    static let granularity: Duration = .milliseconds(5)
    static let publishEvery: Duration = .milliseconds(50)
    static let idle: Duration = .seconds(1)

    private func record(_ id: HealthChecker.ID, _ result: ProbeResult) {
        metrics?.recordCheck(result)
        if let output = result.output, !output.isEmpty { logger.debug("check \(id): output: \(output)") }
        let weightBefore = checker.status(id)?.weight
        let transition = checker.record(id, result, now: now)
        if transition != nil { dirty = true }
        if let after = checker.status(id), after.health == .up, after.weight != weightBefore {
            dirty = true
            let who = nodes[id.destination].map { "\($0) " } ?? ""
            logger.notice("\(who)\(id.destination) of \(id.service): its check sets weight \(after.weight.map(String.init) ?? "back to the planned one")")
        }
        arm()
        guard let t = transition else { return }
        let who = nodes[id.destination].map { "\($0) " } ?? ""
        switch (t.from, t.to) {
        case (.unknown, .up):
            logger.debug("\(who)\(id.destination) of \(id.service) up: first check passed in \(Self.milliseconds(t.latency)) ms")
        case (_, .down):
            logger.warning("\(who)\(id.destination) of \(id.service) down after \(t.failures) failure\(t.failures == 1 ? "" : "s"): \(t.reason ?? "")")
        default:
            logger.notice("\(who)\(id.destination) of \(id.service) up again: check passed in \(Self.milliseconds(t.latency)) ms")
        }
        metrics?.recordTransition(service: id.service, destination: id.destination.description, to: t.to, counted: t.from != .unknown)
    }

    private func watchDrains() async {
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: self.drainInterval) })) != nil {
            guard plan?.ipvsServices.contains(where: { $0.destinations.contains(where: \.drain) }) == true else { continue }
            // Only a look at the kernel taken after this plan came in may end a drain: an older one may
            // show no connections on a server that has some now.
            let snapshot = await reconciler.snapshot
            guard let at = snapshot.ipvsObservedAt else { continue }
            updateDrains(observed: snapshot.observed?.ipvs.table, fresh: at > planAt)
            publish()
        }
    }

    private func updateDrains(observed: IPVSTable?, fresh: Bool) {
        guard let plan else { return }
        for d in drains.update(plan: plan, observed: observed, fresh: fresh, now: Int64(Date().timeIntervalSince1970)) {
            let who = d.node.map { "\($0) " } ?? ""
            if d.byDeadline {
                logger.notice("\(who)\(d.destination) of \(d.service) drained at its deadline with \(d.openConnections) connection\(d.openConnections == 1 ? "" : "s") still open: removed")
            } else {
                logger.notice("\(who)\(d.destination) of \(d.service) drained: no connections left, removed")
            }
        }
    }

    private func publish() {
        dirty = false
        lastPublish = now
        let next = ServingState(health: checker.health, drained: drains.drained, weights: checker.weights)
        guard next != published else { return }
        published = next
        updateSink.yield(next)
        onChange()
    }

    static func seconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return Double(s) + Double(a) / 1e18
    }

    static func milliseconds(_ d: Duration) -> Double { (seconds(d) * 10_000).rounded() / 10 }
}
