import LBDocument
import LBGossip
import LBGossipService
import LBSpec
import Logging
import ServiceLifecycle

/// Turns each newer verified document into this node's part: validates the spec, works out this host's
/// plan, and hands the desired state to the reconciler and the VRRP instances to the supervisor. A
/// document whose spec does not validate, and every document gossip refused, changes nothing and is
/// logged, counted and reported.
public actor DocumentFollower: Service {
    /// The document in force and the last refusal, for reports and status.
    public struct Snapshot: Sendable {
        public var version: UInt64?
        public var digest: String?
        public var plan: HostPlan?
        public var refused: Refusal?
    }

    /// A document this node did not act on, and why.
    public struct Refusal: Sendable, Equatable {
        public var version: UInt64
        public var reason: String
        public var message: String
        public var from: String?
    }

    public let node: String
    let reconciler: Reconciler
    let vrrp: VRRPSupervisor
    let logger: Logger
    let metrics: AgentMetrics?
    let onChange: @Sendable () -> Void
    var gossip: GossipService?
    private(set) var current: HeldDocument?
    private(set) var plan: HostPlan?
    private var serving = ServingState()
    private var refusal: Refusal?
    let health: HealthService?
    /// Every desired state handed to the reconciler gets the next one (see `Target.revision`).
    private var revision: UInt64 = 0
    /// Each service's quorum across compositions (hysteresis), and the commands its changes run.
    private var quorum = QuorumTracker()
    /// The quorum commands, queued as the changes come; `run` starts each, so no composition waits for one.
    private let scripts: AsyncStream<QuorumTracker.Action>
    private let scriptQueue: AsyncStream<QuorumTracker.Action>.Continuation
    /// How long one quorum_up or quorum_down may run before it is killed with its process group.
    let scriptTimeout: Duration

    /// - Parameter health: runs this node's health checks and tracks its drains; nil composes with
    ///   `ServingState.unchecked` (every real server up), as a one-shot `lb-agent apply` does.
    public init(node: String, reconciler: Reconciler, vrrp: VRRPSupervisor, gossip: GossipService?, logger: Logger,
                metrics: AgentMetrics? = nil, health: HealthService? = nil, scriptTimeout: Duration = QuorumScript.defaultTimeout,
                onChange: @escaping @Sendable () -> Void = {}) {
        self.node = node
        (scripts, scriptQueue) = AsyncStream.makeStream(of: QuorumTracker.Action.self)
        self.scriptTimeout = scriptTimeout
        self.health = health
        serving = health == nil ? .unchecked : ServingState()
        self.reconciler = reconciler
        self.vrrp = vrrp
        self.gossip = gossip
        self.logger = logger
        self.metrics = metrics
        self.onChange = onChange
    }

    public var snapshot: Snapshot {
        Snapshot(version: current?.head.version, digest: current.map { Self.short($0.verified.digest) },
                 plan: plan, refused: refusal)
    }

    /// The first 16 hex digits of a digest: enough to tell versions apart in a report or a log line.
    static func short(_ digest: DocumentDigest) -> String { String(digest.description.dropFirst(DocumentDigest.prefix.count).prefix(16)) }

    /// Acts on `held` if it is newer than the document in force and its spec validates.
    public func accept(_ held: HeldDocument) async {
        let version = held.head.version
        guard version > (current?.head.version ?? 0) else { return }
        let spec = held.verified.document.spec
        let errors = SpecValidator.validate(spec).filter { $0.severity == .error }
        if !errors.isEmpty {
            refuse(version: version, reason: "invalid_spec",
                   message: "the spec of v\(version) does not validate: \(errors.map { "\($0.path): \($0.message)" }.joined(separator: "; "))", from: nil)
            return
        }
        let mine: HostPlan
        if let p = HostPlanner.plan(spec, node: node) {
            mine = p
        } else {
            logger.warning("v\(version) has no node '\(node)': this host holds nothing of it, and what lb made here is removed")
            mine = HostPlan(node: node)
        }
        current = held
        plan = mine
        logger.info("following v\(version) \(Self.short(held.verified.digest)) of cluster \(held.verified.document.cluster): roles \(mine.roles.isEmpty ? "none" : mine.roles.map(\.rawValue).joined(separator: ", "))")
        // The checks first: the serving state they start from (all unknown for new destinations) is
        // what this version is composed with.
        await health?.setPlan(mine)
        if let health { serving = await health.serving }
        await setTarget(mine, version: version)
        await vrrp.apply(mine.vrrpInstances, notifyScript: spec.notifications.script)
        onChange()
    }

    /// New health or drain input: the desired state is composed again from the plan in force.
    public func setServing(_ serving: ServingState) async {
        guard serving != self.serving else { return }
        self.serving = serving
        guard let plan, let current else { return }
        await setTarget(plan, version: current.head.version)
    }

    private func setTarget(_ plan: HostPlan, version: UInt64) async {
        revision += 1
        // Without health checks (a one-shot apply) nothing runs the scripts, and no quorum changes anyway.
        if health != nil {
            for action in quorum.update(plan, healthy: DesiredState.healthy(plan, serving)) { queue(action) }
        }
        await reconciler.setTarget(ReconcileEngine.Target(state: DesiredState.compose(plan, serving, quorum: quorum.up),
                                                          version: version, revision: revision))
    }

    private func queue(_ action: QuorumTracker.Action) {
        logger.notice("\(action.service): \(action.reason.rawValue), running \(action.up ? "quorum_up" : "quorum_down")",
                      metadata: ["command": "\(action.command)"])
        scriptQueue.yield(action)
    }

    /// keepalived's omega at shutdown: quorum_down of the services that ask for it, then no more scripts.
    private func stopQuorum() {
        for action in quorum.stop() { queue(action) }
        scriptQueue.finish()
    }

    /// A document that gossip or the state directory would not hold.
    public func refuse(version: UInt64, reason: String, message: String, from: String?) {
        refusal = Refusal(version: version, reason: reason, message: message, from: from)
        metrics?.recordRefusal(reason: reason)
        logger.warning("refused document v\(version)\(from.map { " from \($0)" } ?? ""): \(message)", metadata: ["reason": "\(reason)"])
        onChange()
    }

    /// Follows gossip's documents and refusals until graceful shutdown, running the quorum scripts
    /// meanwhile, and at the end the omega ones, which it waits for (each bounded by its timeout).
    public func run() async throws {
        await withDiscardingTaskGroup { outer in
            let (scripts, timeout, logger) = (self.scripts, scriptTimeout, logger)
            outer.addTask {
                // Each in its own task, as keepalived forks each notify and does not wait for it.
                await withDiscardingTaskGroup { runs in
                    for await action in scripts {
                        let budget = action.reason == .stopping ? QuorumScript.stoppingTimeout : timeout
                        runs.addTask { await QuorumScript.run(action, budget: budget, logger: logger) }
                    }
                }
            }
            await follow()
            stopQuorum()
        }
    }

    private func follow() async {
        await withDiscardingTaskGroup { group in
            if let health {
                group.addTask {
                    for await serving in health.updates.cancelOnGracefulShutdown() { await self.setServing(serving) }
                }
            }
            guard let gossip else {
                try? await gracefulShutdown()
                group.cancelAll()
                return
            }
            let documents = await gossip.documents()
            let rejections = await gossip.rejections()
            group.addTask {
                for await held in documents.cancelOnGracefulShutdown() { await self.accept(held) }
            }
            group.addTask {
                for await r in rejections.cancelOnGracefulShutdown() {
                    // An unreachable holder is a network fault, not a refused document; gossip retries it.
                    guard r.reason != "unreachable" else { continue }
                    await self.refuse(version: r.head.version, reason: r.reason, message: r.message, from: r.from)
                }
            }
        }
    }
}
