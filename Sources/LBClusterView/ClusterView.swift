import Foundation
import LBReport
import LBSpec

/// The cluster as the controller sees it, as a value fed what gossip delivers (membership, reports) and
/// what the history holds (versions), and the time. Each input returns the events it causes: a VRRP
/// transition, a real server down or up, a repair, a refusal, a node lost or joined. `tick` raises and
/// clears the split-brain alarm and settles each version as converged or timed out. No I/O, no clock.
public struct ClusterView: Sendable {
    /// How long two directors must both report MASTER for one router id before it is a split brain:
    /// during a failover the old master's resignation and the new one's report can cross.
    public var splitBrainHold: Duration
    /// How long a version may take to reach every node before `apply-timed-out`.
    public var convergeTimeout: Duration

    public let cluster: String
    public let controller: String
    var spec: ClusterSpec?
    var head: VersionSummary?
    /// Versions not yet settled (converged or timed out), with when each was accepted.
    var pendingVersions: [UInt64: Date] = [:]
    var settled: [UInt64: Bool] = [:]
    var members: [String: MemberInfo] = [:]
    var reports: [String: AgentReport] = [:]
    var reportTimes: [String: Date] = [:]
    /// Router id → when two masters were first seen together.
    var dualMasterSince: [Int: Date] = [:]
    var alarms: [String: Alarm] = [:]

    /// What gossip says of one member.
    public struct MemberInfo: Sendable, Equatable {
        public var name: String
        public var address: String
        /// `alive`, `suspect`, `dead`, `left`.
        public var status: String
        public var roles: [String]

        public init(name: String, address: String, status: String, roles: [String]) {
            self.name = name
            self.address = address
            self.status = status
            self.roles = roles
        }
    }

    public init(cluster: String, controller: String, splitBrainHold: Duration = .seconds(2), convergeTimeout: Duration = .seconds(120)) {
        self.cluster = cluster
        self.controller = controller
        self.splitBrainHold = splitBrainHold
        self.convergeTimeout = convergeTimeout
    }

    // MARK: Inputs

    /// A version is now the head: its spec says which nodes must converge. `fresh` is false for the head
    /// found in the history at start, which is settled by the reports rather than announced again.
    public mutating func version(_ summary: VersionSummary, spec: ClusterSpec, now: Date, fresh: Bool = true) -> [ClusterEvent] {
        guard summary.version >= (head?.version ?? 0) else { return [] }
        head = summary
        self.spec = spec
        pendingVersions[summary.version] = fresh ? summary.acceptedAt : now
        var events: [ClusterEvent] = []
        if fresh {
            events.append(ClusterEvent(at: now, kind: .applied, version: summary.version,
                                       message: "v\(summary.version) accepted, signed by \(summary.signers.joined(separator: ", ")): \(summary.summary)"))
        }
        return events + settle(now: now)
    }

    /// A member appeared or changed status.
    public mutating func member(_ m: MemberInfo, now: Date) -> [ClusterEvent] {
        let previous = members[m.name]
        members[m.name] = m
        guard m.name != controller, previous?.status != m.status else { return [] }
        return membershipEvents(m, previous: previous, now: now) + splitBrain(now: now)
    }

    func membershipEvents(_ m: MemberInfo, previous: MemberInfo?, now: Date) -> [ClusterEvent] {
        switch m.status {
        case "alive" where previous == nil || previous?.status == "dead" || previous?.status == "left":
            return [ClusterEvent(at: now, kind: .nodeJoined, node: m.name, message: "\(m.name) joined at \(m.address)")]
        case "dead":
            return [ClusterEvent(at: now, kind: .nodeLost, node: m.name, message: "\(m.name) is unreachable (declared dead by gossip)")]
        case "left":
            return [ClusterEvent(at: now, kind: .nodeLeft, node: m.name, message: "\(m.name) left the cluster")]
        default:
            return []
        }
    }

    /// A member was forgotten by gossip.
    public mutating func removed(_ name: String) {
        members[name] = nil
        reports[name] = nil
        reportTimes[name] = nil
    }

    /// A node's new report: what changed since its previous one, as events.
    public mutating func report(_ r: AgentReport, now: Date) -> [ClusterEvent] {
        let old = reports[r.node]
        reports[r.node] = r
        reportTimes[r.node] = Date(timeIntervalSince1970: TimeInterval(r.at))
        var events: [ClusterEvent] = []
        let node = r.node
        if old?.version != r.version || old?.converged != r.converged {
            let state = r.version.map { "v\($0) \(r.converged ? "converged" : "applying")" } ?? "no version"
            events.append(ClusterEvent(at: now, kind: .nodeProgress, node: node, version: r.version,
                                       message: "\(node): \(state)\(r.error.map { ", error: \($0)" } ?? "")"))
        }
        let oldVRRP = Dictionary((old?.vrrp ?? []).map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        for v in r.vrrp where oldVRRP[v.name]?.state != v.state {
            let from = oldVRRP[v.name]?.state
            // A node's very first report is its state, not a transition anybody saw.
            guard old != nil || v.state == "MASTER" else { continue }
            events.append(ClusterEvent(at: now, kind: .vrrp, node: node, version: r.version,
                                       message: "\(node) \(v.name) (router id \(v.vrid)): \(from.map { "\($0) → " } ?? "")\(v.state), priority \(v.priority)",
                                       routerID: v.vrid))
        }
        let oldHealth = Self.health(old)
        for (key, health) in Self.health(r) {
            let before = oldHealth[key]
            guard before != health, health == "down" || (health == "up" && before == "down") else { continue }
            let kind: ClusterEvent.Kind = health == "down" ? .serverDown : .serverUp
            events.append(ClusterEvent(at: now, kind: kind, node: node, version: r.version,
                                       message: "\(key.endpoint) of \(key.service) is \(health) (checked by \(node))"))
        }
        for (kind, count) in r.repairs.sorted(by: { $0.key < $1.key }) where count > (old?.repairs[kind] ?? 0) && old != nil {
            let n = count - (old?.repairs[kind] ?? 0)
            events.append(ClusterEvent(at: now, kind: .driftRepaired, node: node, version: r.version,
                                       message: "\(node) repaired \(n) × \(kind) drift (\(count) since it started)"))
        }
        if let refused = r.refused, refused != old?.refused {
            events.append(ClusterEvent(at: now, kind: .refused, node: node, version: refused.version,
                                       message: "\(node) refused v\(refused.version): \(refused.reason)\(refused.from.map { " (from \($0))" } ?? "")"))
        }
        // The split brain's clock starts with the report that shows it, not with the next tick.
        return events + splitBrain(now: now) + settle(now: now)
    }

    /// Time passes: alarms and versions that depend on how long something lasted.
    public mutating func tick(now: Date) -> [ClusterEvent] {
        splitBrain(now: now) + settle(now: now)
    }

    // MARK: Rules

    struct HealthKey: Hashable, Comparable {
        var service: String
        var endpoint: String
        static func < (a: HealthKey, b: HealthKey) -> Bool { (a.service, a.endpoint) < (b.service, b.endpoint) }
    }

    static func health(_ r: AgentReport?) -> [HealthKey: String] {
        var out: [HealthKey: String] = [:]
        for s in r?.services ?? [] {
            for d in s.destinations ?? [] { out[HealthKey(service: s.key, endpoint: d.endpoint)] = d.health }
        }
        return out
    }

    func isAlive(_ node: String) -> Bool {
        // A node gossip has not told about yet but that reports is alive: reports travel on gossip.
        members[node].map { $0.status == "alive" || $0.status == "suspect" } ?? (reports[node] != nil)
    }

    /// Directors reporting MASTER per router id, among the members still alive.
    func masters() -> [Int: [String]] {
        var out: [Int: [String]] = [:]
        for (node, r) in reports where isAlive(node) {
            for v in r.vrrp where v.state == "MASTER" { out[v.vrid, default: []].append(node) }
        }
        return out.mapValues { $0.sorted() }
    }

    mutating func splitBrain(now: Date) -> [ClusterEvent] {
        var events: [ClusterEvent] = []
        let masters = masters()
        for (vrid, nodes) in masters where nodes.count > 1 {
            let since = dualMasterSince[vrid] ?? now
            dualMasterSince[vrid] = since
            let id = "split-brain/\(vrid)"
            guard alarms[id] == nil, now.timeIntervalSince(since) >= splitBrainHold.seconds else { continue }
            let vip = spec?.vips.first { $0.vrrp.routerID == vrid }
            let what = vip.map { "\($0.name) (\($0.address.address), router id \(vrid))" } ?? "router id \(vrid)"
            let alarm = Alarm(id: id, kind: "split-brain", since: since,
                              message: "split brain: \(nodes.joined(separator: " and ")) are all MASTER of \(what); clients may reach either",
                              nodes: nodes)
            alarms[id] = alarm
            events.append(ClusterEvent(at: now, kind: .splitBrain, message: alarm.message))
        }
        for (vrid, _) in dualMasterSince where (masters[vrid]?.count ?? 0) < 2 {
            dualMasterSince[vrid] = nil
            let id = "split-brain/\(vrid)"
            if let alarm = alarms.removeValue(forKey: id) {
                let holder = masters[vrid]?.first.map { "\($0) alone is MASTER" } ?? "no director is MASTER"
                events.append(ClusterEvent(at: now, kind: .splitBrainCleared, message: "split brain of router id \(vrid) over (\(alarm.nodes.joined(separator: ", "))): \(holder)"))
            }
        }
        return events
    }

    /// Versions that reached every node, or ran out of time.
    mutating func settle(now: Date) -> [ClusterEvent] {
        var events: [ClusterEvent] = []
        for (version, accepted) in pendingVersions.sorted(by: { $0.key < $1.key }) {
            let c = convergence(of: version)
            if c.complete {
                pendingVersions[version] = nil
                settled[version] = true
                events.append(ClusterEvent(at: now, kind: .converged, version: version,
                                           message: "v\(version) converged on \(c.converged.count) node\(c.converged.count == 1 ? "" : "s") in \(Self.seconds(now.timeIntervalSince(accepted)))"))
            } else if version < (head?.version ?? 0) {
                // Superseded before it converged: the newer version is the one to wait for.
                pendingVersions[version] = nil
            } else if now.timeIntervalSince(accepted) >= convergeTimeout.seconds {
                pendingVersions[version] = nil
                settled[version] = false
                let laggards = c.pending.map { "\($0.node) (\($0.reason ?? $0.version.map { "at v\($0)" } ?? "no report"))" } + c.applying.map { "\($0) (applying)" }
                events.append(ClusterEvent(at: now, kind: .timedOut, version: version,
                                           message: "v\(version) not converged after \(Self.seconds(convergeTimeout.seconds)): \(laggards.joined(separator: ", "))"))
            }
        }
        return events
    }

    static func seconds(_ s: TimeInterval) -> String {
        s < 10 ? String(format: "%.2f s", s) : "\(Int(s.rounded())) s"
    }

    /// The spec's nodes: the ones every version must reach.
    var expectedNodes: [String] { spec?.nodes.map(\.name) ?? [] }

    /// How far `version` has spread over the spec's nodes.
    public func convergence(of version: UInt64) -> Convergence {
        var converged: [String] = [], applying: [String] = [], pending: [Laggard] = []
        for node in expectedNodes {
            let r = reports[node]
            if let r, r.version == version {
                if r.converged { converged.append(node) } else { applying.append(node) }
                continue
            }
            // A node past this version has it too, as far as waiting for it goes.
            if let r, let v = r.version, v > version, r.converged { converged.append(node); continue }
            var reason: String?
            if let m = members[node], m.status != "alive" { reason = m.status }
            else if let refused = r?.refused, refused.version >= version { reason = "refused v\(refused.version): \(refused.reason)" }
            else if let e = r?.error { reason = e }
            else if r == nil { reason = members[node] == nil ? "never seen" : "no report yet" }
            pending.append(Laggard(node: node, version: r?.version, reason: reason))
        }
        return Convergence(version: version, converged: converged, applying: applying, pending: pending,
                           complete: applying.isEmpty && pending.isEmpty && !converged.isEmpty)
    }

    // MARK: Output

    /// The status now.
    public func status(now: Date) -> ClusterStatus {
        let expected = Set(expectedNodes)
        let names = expectedNodes + members.keys.filter { !expected.contains($0) }.sorted()
        let nodes = names.map { name -> NodeStatus in
            let m = members[name], r = reports[name]
            var destinations: [DestinationHealth] = []
            for s in r?.services ?? [] {
                for d in s.destinations ?? [] {
                    destinations.append(DestinationHealth(service: s.key, endpoint: d.endpoint, health: d.health, weight: Int(d.weight), active: Int(d.active)))
                }
            }
            let lastError = r?.error ?? r?.refused.map { "refused v\($0.version): \($0.reason)" }
            return NodeStatus(name: name, member: m?.status ?? (r != nil ? "alive" : "unknown"), address: m?.address, expected: expected.contains(name),
                              roles: r?.roles ?? m?.roles ?? [], version: r?.version, converged: r?.converged ?? false,
                              reportedAt: reportTimes[name],
                              vrrp: (r?.vrrp ?? []).map { VRRPState(name: $0.name, routerID: $0.vrid, state: $0.state, priority: $0.priority) },
                              activeConnections: Int((r?.services ?? []).reduce(0) { $0 + $1.active }),
                              inactiveConnections: Int((r?.services ?? []).reduce(0) { $0 + $1.inactive }),
                              destinations: destinations, repairs: r?.repairs ?? [:], lastError: lastError)
        }
        let masters = masters()
        let vips = (spec?.vips ?? []).map { vip -> VIPStatus in
            let m = masters[vip.vrrp.routerID] ?? []
            let directors = vip.vrrp.directors.sorted { $0.priority > $1.priority }.map(\.node)
            return VIPStatus(name: vip.name, address: "\(vip.address.address)", routerID: vip.vrrp.routerID, master: m.first, masters: m, directors: directors)
        }
        var versions = Set(pendingVersions.keys)
        if let h = head?.version { versions.insert(h) }
        for r in reports.values { if let v = r.version { versions.insert(v) } }
        let progress = versions.sorted(by: >).prefix(5).map { self.convergence(of: $0) }
        return ClusterStatus(cluster: cluster, controller: controller, generatedAt: now, head: head, nodes: nodes, vips: vips,
                             convergence: Array(progress), alarms: alarms.values.sorted { ($0.since, $0.id) < ($1.since, $1.id) })
    }

    /// The newest version the view follows.
    public var headVersion: UInt64? { head?.version }

    /// Whether the version has settled: true converged, false timed out, nil still pending or unknown.
    public func outcome(of version: UInt64) -> Bool? { settled[version] }
}

extension Duration {
    /// As seconds, fractions kept.
    var seconds: TimeInterval {
        let c = components
        return TimeInterval(c.seconds) + TimeInterval(c.attoseconds) / 1e18
    }
}
