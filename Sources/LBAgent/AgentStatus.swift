import Foundation
import LBGossip
import LBGossipService
import LBHealth
import LBHost
import LBNetlink
import LBReport
import LBSpec
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// Everything `lb-agent status` shows, as `/status` serves it (JSON, stable keys). The gossiped report
/// is the compact form of the same value.
public struct AgentStatus: Codable, Sendable, Equatable {
    public var node: String
    public var cluster: String
    public var version: UInt64?
    public var digest: String?
    public var converged: Bool
    public var roles: [String]
    public var vrrp: [VRRPSupervisor.InstanceStatus]
    public var services: [AgentReport.ServiceCounts]
    public var repairs: [String: Int]
    public var lastError: String?
    public var waiting: [String]
    public var refused: Refused?
    public var members: [MemberView]
    public var passes: Int
    public var startedAt: Date
    /// Every health check this director runs, with its last result.
    public var checks: [HealthService.CheckView] = []
    /// Drains that finished, with the connections still open then.
    public var drains: [HealthService.DrainView] = []
    /// The connection-table handover: the request this director waits on, the ones it answered.
    public var handover: AgentReport.Handover?

    /// The last document this node refused.
    public struct Refused: Codable, Sendable, Equatable {
        public var version: UInt64
        public var reason: String
        public var message: String
        public var from: String?
    }

    /// One gossip member as this node sees it.
    public struct MemberView: Codable, Sendable, Equatable {
        public var name: String
        public var address: String
        public var status: String
        public var documentVersion: UInt64
    }

    /// The report this status is gossiped as.
    public var report: AgentReport {
        AgentReport(node: node, at: Int(Date().timeIntervalSince1970), version: version, digest: digest, converged: converged,
                    roles: roles, vrrp: vrrp.map { .init(name: $0.name, vrid: $0.routerID, state: $0.state.rawValue, priority: $0.priority) },
                    services: services.isEmpty ? nil : services, repairs: repairs, error: lastError ?? vrrp.compactMap(\.error).first,
                    refused: refused.map { .init(version: $0.version, reason: $0.reason, from: $0.from) },
                    drained: drains.isEmpty ? nil : drains.map { .init(service: $0.service, endpoint: $0.destination, open: $0.openConnections, deadline: $0.byDeadline) },
                    handover: handover)
    }
}

/// Gathers the status from the parts and gossips the report: at once after a change (a new version,
/// a VRRP transition, a refusal, a repair), otherwise every `interval` when anything differs, and
/// every minute regardless, so a member that missed a report catches up.
public actor ReportPublisher: Service {
    let node: String
    let cluster: String
    let reconciler: Reconciler
    let follower: DocumentFollower
    let vrrp: VRRPSupervisor
    let health: HealthService?
    let handover: HandoverService?
    let gossip: GossipService?
    let metrics: AgentMetrics?
    let interval: Duration
    let logger: Logger
    let startedAt = Date()
    private var lastPublished: (report: AgentReport, at: ContinuousClock.Instant)?
    let wakeup: Wakeup

    /// `wakeup` is what the other parts signal after a change.
    public init(node: String, cluster: String, reconciler: Reconciler, follower: DocumentFollower, vrrp: VRRPSupervisor,
                health: HealthService? = nil, handover: HandoverService? = nil, gossip: GossipService?, metrics: AgentMetrics?,
                interval: Duration = .seconds(5), wakeup: Wakeup = Wakeup(), logger: Logger) {
        self.health = health
        self.handover = handover
        self.node = node
        self.cluster = cluster
        self.reconciler = reconciler
        self.follower = follower
        self.vrrp = vrrp
        self.gossip = gossip
        self.metrics = metrics
        self.interval = interval
        self.logger = logger
        self.wakeup = wakeup
    }

    /// Something changed: publish soon.
    public nonisolated func kick() { wakeup.signal() }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [wakeup, interval] in
                while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil { wakeup.signal() }
                wakeup.finish()
            }
            for await _ in wakeup.stream.cancelOnGracefulShutdown() {
                await publish()
                // Changes come in bursts (a document touches many things); one report covers a burst.
                try? await Task.sleep(for: .milliseconds(50))
            }
            group.cancelAll()
        }
    }

    /// The status now. Connection counts come from the reconciler's last full pass (the kernel's listing
    /// has them), so reporting costs no IPVS read of its own.
    /// `forReport`: only what can fit in a gossiped report (1 KiB holds at most ~25 services), so a
    /// director with thousands of services does not build them all every few seconds to throw them away.
    public func status(forReport: Bool = false) async -> AgentStatus {
        let r = await reconciler.snapshot
        let f = await follower.snapshot
        let members = await gossip?.currentMembers ?? []
        var repairs = Dictionary(uniqueKeysWithValues: r.repairs.map { ($0.key.rawValue, $0.value) })
        for (k, v) in await vrrp.repairs { repairs[k.rawValue, default: 0] += v }
        let serving = await health?.serving ?? .unchecked
        let tooMany = (f.plan?.ipvsServices.count ?? 0) * 40 > AgentReport.maximumBytes
        var status = AgentStatus(
            node: node, cluster: cluster, version: f.version, digest: f.digest, converged: r.converged && f.version != nil,
            roles: f.plan?.roles.map(\.rawValue) ?? [], vrrp: await vrrp.instances,
            services: forReport && tooMany ? [] : Self.services(r.observed?.ipvs.table, plan: f.plan, serving: serving),
            repairs: repairs, lastError: r.lastError, waiting: r.waiting,
            refused: f.refused.map { .init(version: $0.version, reason: $0.reason, message: $0.message, from: $0.from) },
            members: members.map { .init(name: $0.node.name, address: $0.node.address, status: $0.status.description, documentVersion: $0.metadata.documentVersion) },
            passes: r.passes, startedAt: startedAt)
        if let health {
            if !forReport { status.checks = await health.checks }
            status.drains = await health.finishedDrains
        }
        status.handover = await handover?.report
        return status
    }

    /// Reads the IPVS counters into the metrics: when `/metrics` is scraped, so the cost of a full
    /// statistics dump (one netlink request per service) is paid at the scraper's pace, not every pass.
    public func refreshIPVSMetrics() async {
        guard let metrics, let plan = await follower.snapshot.plan, !plan.ipvsServices.isEmpty,
              let table = await reconciler.statistics()?.ipvs.table else { return }
        metrics.recordIPVS(table, managed: Set(plan.ipvsServices.map { IPVSServiceKey($0) }))
    }

    func publish() async {
        let report = await status(forReport: true).report
        var comparable = report
        comparable.at = lastPublished?.report.at ?? 0
        if let last = lastPublished, last.report == comparable, ContinuousClock.now - last.at < .seconds(60) { return }
        guard let gossip else { lastPublished = (report, .now); return }
        do {
            try await gossip.publishReport(report.encoded())
            lastPublished = (report, .now)
        } catch {
            logger.error("cannot publish this node's report: \(error)")
        }
    }

    /// Connection counts of the planned services, from an observation of the kernel.
    public static func services(_ table: IPVSTable?, plan: HostPlan?, serving: ServingState = .unchecked) -> [AgentReport.ServiceCounts] {
        guard let table, let plan else { return [] }
        // By key: a director may hold thousands of services, and this runs for every report.
        var entries: [IPVSServiceKey: IPVSTable.Entry] = [:]
        entries.reserveCapacity(table.services.count)
        for e in table.services { entries[e.service.key] = e }
        let checked = Set(plan.healthChecks.map(\.service))
        return plan.ipvsServices.compactMap { s in
            let key = IPVSServiceKey(s)
            guard let entry = entries[key] else { return nil }
            var destinations = entry.destinations.map {
                // A service without a health check has no health to tell: its destinations are "up".
                let health = checked.contains(s.key) ? serving.health(of: Endpoint(address: $0.address, port: Int($0.port)), in: s.key) : .up
                return AgentReport.Destination(endpoint: "\($0.endpoint)", weight: $0.weight, active: $0.activeConnections,
                                               inactive: $0.inactiveConnections, health: health.rawValue)
            }
            // A real server that is down is out of the kernel, yet it is the one the controller must hear about.
            if checked.contains(s.key) {
                let inKernel = Set(entry.destinations.map { Endpoint(address: $0.address, port: Int($0.port)) })
                for d in s.destinations {
                    let endpoint = Endpoint(address: d.address, port: d.port)
                    guard !inKernel.contains(endpoint) else { continue }
                    destinations.append(AgentReport.Destination(endpoint: "\(endpoint)", weight: 0, active: 0, inactive: 0,
                                                                health: serving.health(of: endpoint, in: s.key).rawValue))
                }
            }
            return AgentReport.ServiceCounts(key: s.key, active: destinations.reduce(0) { $0 + $1.active },
                                             inactive: destinations.reduce(0) { $0 + $1.inactive }, destinations: destinations)
        }
    }
}
