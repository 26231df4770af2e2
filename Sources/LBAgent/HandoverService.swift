import LBConnSync
import LBGossip
import LBGossipService
import LBHost
import LBReport
import LBSpec
import Logging
import NIOPosix
import ServiceLifecycle

/// The shell around `HandoverEngine`: observes the plan, the kernel's convergence, the speakers and the
/// other directors' reports every `interval`; holds or releases preemption; reads this kernel's
/// connection table and multicasts it when a backup asks.
public actor HandoverService: Service {
    let node: String
    let follower: DocumentFollower
    let reconciler: Reconciler
    let vrrp: VRRPSupervisor
    let gossip: GossipService?
    let logger: Logger
    let interval: Duration
    let onChange: @Sendable () -> Void
    let listingPath: String
    private var engine: HandoverEngine
    private var decoded: [String: (version: UInt64, report: AgentReport?)] = [:]
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    public init(node: String, follower: DocumentFollower, reconciler: Reconciler, vrrp: VRRPSupervisor, gossip: GossipService?,
                engine: HandoverEngine = HandoverEngine(), interval: Duration = .milliseconds(200),
                listingPath: String = ConnectionListing.path, logger: Logger, onChange: @escaping @Sendable () -> Void = {}) {
        self.node = node
        self.follower = follower
        self.reconciler = reconciler
        self.vrrp = vrrp
        self.gossip = gossip
        self.engine = engine
        self.interval = interval
        self.listingPath = listingPath
        self.logger = logger
        self.onChange = onChange
        started = clock.now
    }

    /// The report's part.
    public var report: AgentReport.Handover? { engine.report }

    public func run() async throws {
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: self.interval) })) != nil {
            await step()
        }
    }

    func step() async {
        // Before any document there is no speaker to hold or release, and releasing now would let the
        // first speaker start preempting before its plan says whether it syncs.
        guard let plan = await follower.snapshot.plan else { return }
        let instances = await vrrp.instances
        let reconciled = await reconciler.snapshot
        let converged = reconciled.converged
        // Without IPVS there is no table to wait for: a director on such a kernel preempts as planned. A pass
        // that skipped IPVS says nothing either way, so it does not count as a kernel without it.
        let ipvsMissing = reconciled.observed.map { $0.ipvs.table == nil && !$0.ipvs.wasSkipped } ?? false
        var o = HandoverEngine.Observation(
            syncing: !plan.syncDaemons.isEmpty && !ipvsMissing, ready: converged, vrrp: !plan.vrrpInstances.isEmpty,
            master: instances.contains { $0.state == .master }, backup: instances.contains { $0.state == .backup },
            peers: await peers())
        if engine.needsLocalEntries { o.localEntries = await table(plan)?.count }
        let before = engine.report
        let actions = engine.step(now: clock.now - started, o, token: Self.token)
        for a in actions {
            switch a {
            case .holdPreemption(let held):
                await vrrp.holdPreemption(held)
            case .log(let level, let message):
                switch level {
                case .info: logger.info("\(message)")
                case .notice: logger.notice("\(message)")
                case .warning: logger.warning("\(message)")
                }
            case .give(let to, let token):
                await give(to: to, token: token, plan: plan)
            }
        }
        if engine.report != before { onChange() }
    }

    /// Reads the table and multicasts the planned services' entries on the sync interface.
    func give(to peer: String, token: String, plan: HostPlan) async {
        guard let sync = plan.syncDaemons.first(where: { $0.state == .master }) ?? plan.syncDaemons.first else {
            engine.failedToGive(token: token)
            return
        }
        let start = clock.now
        guard let entries = await table(plan) else {
            logger.warning("handover to \(peer): cannot read \(listingPath)")
            engine.failedToGive(token: token)
            return
        }
        do {
            let sender = try SyncSender(interface: sync.interface)
            let datagrams = SyncMessage.encode(entries, syncID: UInt8(truncatingIfNeeded: sync.syncID))
            _ = try await sender.send(datagrams)
            engine.gave(to: peer, token: token, entries: entries.count)
            logger.notice("handover to \(peer): \(entries.count) entries in \(datagrams.count) datagrams on \(sync.interface) in \(HandoverEngine.seconds(clock.now - start))")
        } catch {
            logger.warning("handover to \(peer): \(error)")
            engine.failedToGive(token: token)
        }
    }

    /// The planned services' templates and established connections, with their forwarding flags. Only
    /// while verifying or giving: the steps in between need neither the listing nor the services' map.
    func table(_ plan: HostPlan) async -> [SyncMessage.Entry]? {
        let services = Self.forwarding(plan)
        let path = listingPath
        let all: [IPVSConnection]?
        do {
            all = try await NIOThreadPool.singleton.runIfActive { ProcIPVS.connections(path: path) }
        } catch {
            return nil
        }
        guard let all else { return nil }
        return all.compactMap { c in
            guard c.isTemplate || c.isEstablished || c.protocolNumber == IPVSConnection.udp,
                  let forward = services[ServiceKey(protocolNumber: c.protocolNumber, address: c.virtual, port: c.virtualPort)] else { return nil }
            return SyncMessage.Entry(c, forward: forward)
        }
    }

    /// A planned service as the connection table names it.
    struct ServiceKey: Hashable {
        var protocolNumber: UInt8
        var address: IPAddress
        var port: UInt16
    }

    static func forwarding(_ plan: HostPlan) -> [ServiceKey: UInt32] {
        var out: [ServiceKey: UInt32] = [:]
        for s in plan.ipvsServices {
            let proto = s.protocol == .tcp ? IPVSConnection.tcp : IPVSConnection.udp
            let flag: UInt32
            switch s.destinations.first?.forwarding ?? .dr {
            case .dr: flag = SyncMessage.Flag.directRoute
            case .nat: flag = SyncMessage.Flag.masquerade
            case .tun: flag = SyncMessage.Flag.tunnel
            }
            out[ServiceKey(protocolNumber: proto, address: s.address, port: UInt16(truncatingIfNeeded: s.port))] = flag
        }
        return out
    }

    /// The other directors that are alive, with their reports' handover part.
    func peers() async -> [HandoverEngine.Peer] {
        guard let gossip else { return [] }
        let alive = Set(await gossip.currentMembers.filter { $0.status == .alive }.map(\.node.name))
        var out: [HandoverEngine.Peer] = []
        for (name, r) in await gossip.currentReports where name != node && alive.contains(name) {
            let report: AgentReport?
            if let d = decoded[name], d.version == r.version {
                report = d.report
            } else {
                report = AgentReport.decode(r.bytes)
                decoded[name] = (r.version, report)
            }
            guard let report, report.roles.contains(HostPlan.Role.director.rawValue) else { continue }
            out.append(.init(name: name, master: report.vrrp.contains { $0.state == "MASTER" }, handover: report.handover))
        }
        return out.sorted { $0.name < $1.name }
    }

    static func token() -> String {
        String(UInt32.random(in: 0...UInt32.max), radix: 16)
    }
}
