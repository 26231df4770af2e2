import LBHost
import LBSpec
import LBVRRP
import LBVRRPRuntime
import Logging
import ServiceLifecycle

/// One VRRP speaker per planned instance, kept across document versions: a changed priority, advert
/// interval or VIP list is handed to the running speaker (no state transition, no VIP flap); only a
/// new router id, interface or version restarts it. On graceful shutdown every master resigns
/// (priority 0) before the agent goes on stopping. Instances of one sync group change state together:
/// a `VRRPSyncGroup` per group hears their transitions and reports and says what the others must do.
public actor VRRPSupervisor: Service {
    /// What the report and status show of one instance.
    public struct InstanceStatus: Sendable, Equatable, Codable {
        public var name: String
        public var interface: String
        public var routerID: Int
        public var priority: Int
        public var state: VRRPState
        public var error: String?
    }

    struct Running {
        var speaker: VRRPSpeaker
        var configuration: VRRPConfiguration
        var state: VRRPState = .initialize
        /// The effective priority the speaker last reported (tracking moves it); nil: the configured one.
        var priority: Int?
        var error: String?
        /// run() returned: the instance could not start (no such interface yet) and waits for a retry.
        var ended = false
    }

    enum Command: Sendable {
        case start(VRRPSpeaker)
    }

    let makeHost: @Sendable () -> any HostControl
    let transport: (@Sendable (VRRPConfiguration) -> (any VRRPTransport)?)
    let logger: Logger
    let metrics: AgentMetrics?
    let onChange: @Sendable () -> Void
    private(set) var running: [String: Running] = [:]
    private let commands: AsyncStream<Command>
    private let commandSink: AsyncStream<Command>.Continuation
    private var stopping = false
    private var notifyScript: NotifyScript?
    /// The plans as last applied, so a change of the preemption hold can apply them again.
    private var plans: [VRRPInstancePlan] = []
    /// Preemption is held while this director waits for the master's connection table (HandoverEngine);
    /// it starts held, so no speaker preempts before the first look.
    public private(set) var preemptionHeld: Bool
    /// VIPs put back on masters, by kind (always `vrrp_address`), for reports.
    public private(set) var repairs: [DriftKind: Int] = [:]
    /// The sync groups of the planned instances, by name.
    private var syncGroups: [String: VRRPSyncGroup] = [:]

    /// - Parameters:
    ///   - makeHost: the host each speaker adds its addresses through (a LinuxHost on a thread of the
    ///     VRRP speakers' own, so a takeover never waits behind an IPVS observation).
    ///   - transport: nil opens raw sockets (the default); tests give an in-memory network.
    ///   - onChange: called after every state change, so the node's report goes out at once.
    public init(makeHost: @escaping @Sendable () -> any HostControl,
                transport: @escaping @Sendable (VRRPConfiguration) -> (any VRRPTransport)? = { _ in nil },
                logger: Logger, metrics: AgentMetrics? = nil, preemptionHeld: Bool = false, onChange: @escaping @Sendable () -> Void = {}) {
        self.preemptionHeld = preemptionHeld
        self.makeHost = makeHost
        self.transport = transport
        self.logger = logger
        self.metrics = metrics
        self.onChange = onChange
        (commands, commandSink) = AsyncStream.makeStream(of: Command.self)
    }

    static func key(_ c: VRRPConfiguration) -> String { "\(c.interface)/\(c.virtualRouterID)" }
    static func key(_ s: VRRPSpeaker) -> String { "\(s.identity.interface)/\(s.identity.virtualRouterID)" }

    /// Brings the running speakers to `plans`: starts new ones, hands changes to running ones, stops
    /// those no longer planned (a master among them resigns). `notifyScript` (the spec's
    /// notifications.script) runs on every transition with keepalived's arguments.
    public func apply(_ plans: [VRRPInstancePlan], notifyScript: String? = nil) async {
        guard !stopping else { return }
        let script = notifyScript.map(NotifyScript.init(path:))
        let previousScript = self.notifyScript
        self.notifyScript = script
        let scriptChanged = script?.path != previousScript?.path
        self.plans = plans
        let held = preemptionHeld
        let wanted = plans.map { p in
            var c = VRRPConfiguration(plan: p)
            if held { c.preempt = false }
            return c
        }
        let wantedKeys = Set(wanted.map(Self.key))
        for (key, r) in running where !wantedKeys.contains(key) {
            logger.info("\(r.configuration.name): no longer planned: stopping")
            r.speaker.stop()
            running[key] = nil
        }
        for c in wanted {
            let key = Self.key(c)
            if let r = running[key] {
                if scriptChanged { await r.speaker.setNotifyScript(script) }
                guard r.configuration != c else { continue }
                if let reason = VRRPInstance.requiresRestart(from: r.configuration, to: c) {
                    logger.notice("\(c.name): \(reason): restarting the instance")
                    r.speaker.stop()
                    running[key] = nil
                    start(c)
                } else {
                    do {
                        try await r.speaker.update(c)
                        running[key]?.configuration = c
                        // A new configured priority moves the effective one without a tracking event.
                        running[key]?.priority = await r.speaker.snapshot.priority
                        logger.info("\(c.name): updated in place (priority \(c.priority), \(c.virtualAddresses.count) address(es))")
                    } catch {
                        logger.notice("\(c.name): \(error): restarting the instance")
                        r.speaker.stop()
                        running[key] = nil
                        start(c)
                    }
                }
            } else {
                start(c)
            }
        }
        regroup(wanted)
        onChange()
    }

    // MARK: sync groups

    /// Brings the sync groups to the planned instances' (members in plan order).
    private func regroup(_ wanted: [VRRPConfiguration]) {
        var members: [String: [String]] = [:]
        for c in wanted { if let g = c.syncGroup { members[g, default: []].append(c.name) } }
        for name in syncGroups.keys where members[name] == nil { syncGroups[name] = nil }
        for (name, names) in members {
            if let group = syncGroups[name] {
                guard group.members != names else { continue }
                route(syncGroups[name]!.setMembers(names), of: name)
            } else {
                syncGroups[name] = VRRPSyncGroup(name: name, members: names)
            }
        }
    }

    private func synced(_ speaker: VRRPSpeaker, _ report: VRRPSpeaker.SyncReport) {
        feedGroup(of: speaker) { member, group in
            switch report {
            case .wantsMaster(let wants): group.wantsMaster(member, wants)
            case .ownFault(let reason): group.ownFault(member, reason)
            }
        }
    }

    /// Gives what a running member of a sync group did to its group, and routes what the group says.
    private func feedGroup(of speaker: VRRPSpeaker, _ event: (String, inout VRRPSyncGroup) -> [VRRPSyncGroup.Command]) {
        guard let r = running[Self.key(speaker)], r.speaker === speaker, let name = r.configuration.syncGroup,
              syncGroups[name] != nil else { return }
        route(event(r.configuration.name, &syncGroups[name]!), of: name)
    }

    /// Hands each command to the member of sync group `name` it names.
    private func route(_ commands: [VRRPSyncGroup.Command], of name: String) {
        for command in commands {
            let member: String
            switch command {
            case .promote(let m, let why):
                member = m
                logger.info("sync group \(name): \(m) to MASTER (\(why))")
            case .demote(let m, let why):
                member = m
                logger.info("sync group \(name): \(m) to BACKUP (\(why))")
            case .fault(let m, let reason):
                member = m
                logger.info("\(m): \(reason ?? "sync group \(name): no other member in FAULT")")
            }
            running.values.first { $0.configuration.name == member && $0.configuration.syncGroup == name }?.speaker.sync(command)
        }
    }

    /// Holds or releases preemption on every speaker (in place: no transition, no VIP flap).
    public func holdPreemption(_ held: Bool) async {
        guard held != preemptionHeld else { return }
        preemptionHeld = held
        logger.info(held ? "preemption held until the master's connection table is here" : "preemption as planned")
        await apply(plans, notifyScript: notifyScript?.path)
    }

    private func start(_ c: VRRPConfiguration) {
        let logger = self.logger
        let speaker = VRRPSpeaker(configuration: c, host: makeHost(), transport: transport(c), notifyScript: notifyScript, log: { level, message in
            switch level {
            case .info: logger.info("\(message)")
            case .notice: logger.notice("\(message)")
            case .warning: logger.warning("\(message)")
            case .error: logger.error("\(message)")
            }
        })
        running[Self.key(c)] = Running(speaker: speaker, configuration: c)
        commandSink.yield(.start(speaker))
    }

    /// Puts back any VIP a master lost behind its back (called on address events and periodically).
    public func checkAddresses() async {
        for r in running.values {
            let repaired = await r.speaker.checkAddresses().count
            guard repaired > 0 else { continue }
            repairs[.vrrpAddress, default: 0] += repaired
            for _ in 0..<repaired { metrics?.recordRepair(.vrrpAddress) }
            onChange()
        }
    }

    /// Has every speaker read the links of its tracked interfaces (called on link events and periodically).
    public func checkLinks() async {
        for r in running.values { await r.speaker.checkLinks() }
    }

    /// Starts again every instance that could not start (called when links change: the interface it
    /// waited for may be there now).
    public func retryFailed() {
        guard !stopping else { return }
        for (key, r) in running where r.ended {
            logger.info("\(r.configuration.name): interface change: trying to start again")
            running[key] = nil
            start(r.configuration)
        }
    }

    public var instances: [InstanceStatus] {
        running.values.map {
            InstanceStatus(name: $0.configuration.name, interface: $0.configuration.interface, routerID: $0.configuration.virtualRouterID,
                           priority: $0.priority ?? $0.configuration.priority, state: $0.state, error: $0.error)
        }.sorted { $0.routerID < $1.routerID }
    }

    /// Runs the speakers until graceful shutdown, then makes every one resign and waits for them.
    public func run() async throws {
        await withDiscardingTaskGroup { group in
            await withGracefulShutdownHandler {
                for await command in commands {
                    switch command {
                    case .start(let speaker):
                        group.addTask { await self.drive(speaker) }
                    }
                }
            } onGracefulShutdown: { [commandSink] in
                commandSink.finish()
            }
            await stopAll()
        }
    }

    private func stopAll() async {
        stopping = true
        for r in running.values { r.speaker.stop() }
    }

    /// Runs one speaker and follows its transitions until it stops.
    private func drive(_ speaker: VRRPSpeaker) async {
        let c = await speaker.configuration
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await t in speaker.transitions { await self.transitioned(speaker, t) }
            }
            group.addTask {
                for await p in speaker.priorityChanges { await self.priorityChanged(speaker, p) }
            }
            group.addTask {
                for await r in speaker.syncReports { await self.synced(speaker, r) }
            }
            do {
                try await speaker.run()
            } catch {
                logger.error("\(c.name): cannot run: \(error); retrying when links change")
                failed(speaker, "\(error)")
            }
        }
    }

    private func transitioned(_ speaker: VRRPSpeaker, _ t: VRRPTransition) {
        let key = Self.key(speaker)
        guard running[key]?.speaker === speaker else { return }
        running[key]?.state = t.to
        running[key]?.priority = t.priority
        running[key]?.error = nil
        let c = running[key]!.configuration
        metrics?.recordVRRP(name: c.name, interface: c.interface, routerID: c.virtualRouterID, state: t.to, priority: t.priority)
        feedGroup(of: speaker) { member, group in group.transitioned(member, from: t.from, to: t.to) }
        onChange()
    }

    private func priorityChanged(_ speaker: VRRPSpeaker, _ priority: Int) {
        let key = Self.key(speaker)
        guard let r = running[key], r.speaker === speaker else { return }
        running[key]?.priority = priority
        let c = r.configuration
        metrics?.recordVRRP(name: c.name, interface: c.interface, routerID: c.virtualRouterID, state: r.state, priority: priority)
        onChange()
    }

    private func failed(_ speaker: VRRPSpeaker, _ message: String) {
        let key = Self.key(speaker)
        guard running[key]?.speaker === speaker else { return }
        running[key]?.error = message
        running[key]?.ended = true
        onChange()
    }
}
