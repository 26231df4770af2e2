/// What changes on each node when one spec replaces another, as terraform shows a plan: `+` added,
/// `-` removed, `~` changed with each changed setting as `old → new`. Built from the host plans, so it
/// says what the agents will do, not how the YAML was edited.
public enum PlanDiff {
    /// One line of the diff.
    public struct Change: Codable, Sendable, Equatable, CustomStringConvertible {
        public enum Action: String, Codable, Sendable { case add = "+", remove = "-", change = "~" }
        public var action: Action
        /// What is held: `address 192.168.1.200/32 on lo`, `ipvs 192.168.1.200:443/tcp -> 10.0.0.12:443 (rs2)`.
        public var subject: String
        /// For a change, the settings that differ: `weight 1 → 2`.
        public var details: [String]

        public init(_ action: Action, _ subject: String, _ details: [String] = []) {
            self.action = action
            self.subject = subject
            self.details = details
        }

        public var description: String {
            "\(action.rawValue) \(subject)" + (details.isEmpty ? "" : ": " + details.joined(separator: ", "))
        }
    }

    /// The changes of one node.
    public struct NodeChanges: Codable, Sendable, Equatable {
        public var node: String
        public var changes: [Change]
    }

    /// Every node whose plan changes, in the new spec's order and then the removed nodes; empty: no changes.
    public static func diff(from old: ClusterSpec?, to new: ClusterSpec) -> [NodeChanges] {
        let before = Dictionary((old.map(HostPlanner.plans) ?? []).map { ($0.node, $0) }, uniquingKeysWith: { a, _ in a })
        let after = HostPlanner.plans(new)
        var out: [NodeChanges] = []
        for plan in after {
            let changes = diff(from: before[plan.node], to: plan)
            if !changes.isEmpty { out.append(NodeChanges(node: plan.node, changes: changes)) }
        }
        let kept = Set(after.map(\.node))
        for plan in old.map(HostPlanner.plans) ?? [] where !kept.contains(plan.node) {
            out.append(NodeChanges(node: plan.node, changes: diff(from: plan, to: nil)))
        }
        return out
    }

    /// The changes from one host plan to another (nil: the node has none).
    public static func diff(from old: HostPlan?, to new: HostPlan?) -> [Change] {
        let a = old.map(items) ?? [], b = new.map(items) ?? []
        let before = Dictionary(a.map { ($0.subject, $0.settings) }, uniquingKeysWith: { x, _ in x })
        let afterSubjects = Set(b.map(\.subject))
        var out: [Change] = []
        for item in b {
            guard let was = before[item.subject] else { out.append(Change(.add, item.subject, item.settings.map { "\($0.0) \($0.1)" })); continue }
            let old = Dictionary(was, uniquingKeysWith: { x, _ in x })
            let new = Dictionary(item.settings, uniquingKeysWith: { x, _ in x })
            var details: [String] = []
            for (name, value) in item.settings where old[name] != value { details.append("\(name) \(old[name] ?? "none") → \(value)") }
            for (name, value) in was where new[name] == nil { details.append("\(name) \(value) → none") }
            if !details.isEmpty { out.append(Change(.change, item.subject, details)) }
        }
        for item in a where !afterSubjects.contains(item.subject) { out.append(Change(.remove, item.subject)) }
        return out
    }

    /// One thing a plan holds: its identity, and its settings in a fixed order.
    struct Item {
        var subject: String
        var settings: [(String, String)]
    }

    /// One track script as a plan line: what runs, how often, and what it does to the priority.
    static func describe(_ t: TrackScript) -> String {
        let effect = t.weight == 0 ? (t.reverse ? "FAULT while it succeeds" : "FAULT while it fails")
            : "weight \(t.weight)\(t.reverse ? " reverse" : "")"
        return "\(t.name): '\(t.command)' every \(t.intervalSeconds)s, timeout \(t.timeoutSeconds ?? t.intervalSeconds)s, rise \(t.rise), fall \(t.fall), \(effect)"
    }

    /// One tracked interface as a plan line.
    static func describe(_ t: TrackInterface) -> String {
        t.weight == 0 ? "\(t.interface): FAULT while \(t.reverse ? "up" : "down")" : "\(t.interface): weight \(t.weight)\(t.reverse ? " reverse" : "")"
    }

    static func items(_ p: HostPlan) -> [Item] {
        var out: [Item] = p.roles.map { Item(subject: "role \($0.rawValue)", settings: []) }
        for a in p.addresses {
            out.append(Item(subject: "address \(a.address) on \(a.interface)", settings: a.label.map { [("label", $0)] } ?? []))
        }
        for s in p.sysctls { out.append(Item(subject: "sysctl \(s.key)", settings: [("value", s.value)])) }
        for v in p.vrrpInstances {
            let vips = v.virtualAddresses.map(v.describe)
            var settings: [(String, String)] = [
                ("interface", v.interface), ("version", "\(v.version)"), ("priority", "\(v.priority)"),
                ("advert", "\(v.advertIntervalCentiseconds * 10)ms"), ("auth", v.authPassword == nil ? "none" : "password"),
                ("preempt", v.preempt ? (v.preemptDelaySeconds > 0 ? "after \(v.preemptDelaySeconds)s" : "yes") : "no"),
                ("unicast peers", v.unicastPeers.isEmpty ? "none (multicast)" : v.unicastPeers.map(\.description).joined(separator: " ")),
                ("vips", vips.joined(separator: " ")),
            ]
            if !v.trackScripts.isEmpty { settings.append(("track scripts", v.trackScripts.map(PlanDiff.describe).joined(separator: "; "))) }
            if !v.trackInterfaces.isEmpty { settings.append(("track interfaces", v.trackInterfaces.map(PlanDiff.describe).joined(separator: "; "))) }
            settings += v.notify.named.map { ("on \($0.state)", $0.command) }
            out.append(Item(subject: "vrrp \(v.name) (router id \(v.routerID))", settings: settings))
        }
        for s in p.ipvsServices {
            out.append(Item(subject: "ipvs \(s.key)", settings: [
                ("scheduler", s.scheduler.rawValue + (s.schedulerFlags.isEmpty ? "" : " " + s.schedulerFlags.map(\.rawValue).joined(separator: ","))
                    + (s.ops == true ? " ops" : "")),
                ("persistence", s.persistence.map { "\($0.timeoutSeconds)s mask \($0.netmask)" } ?? "none"),
                ("quorum", "\(s.quorum)" + (s.hysteresis.map { " hysteresis \($0)" } ?? "") + (s.alpha == true ? " alpha" : "")
                    + (s.omega == true ? " omega" : "")),
                ("sorry server", s.sorryServer.map { sorry in
                    "\(sorry)" + (s.sorryServerForwarding.map { " \($0.rawValue)" } ?? "") + (s.sorryServerInhibit == true ? " inhibit" : "")
                } ?? "none"),
            ] + (s.quorumUp.map { [("quorum_up", $0)] } ?? []) + (s.quorumDown.map { [("quorum_down", $0)] } ?? [])))
            for d in s.destinations {
                var settings = [("weight", "\(d.weight)"), ("forwarding", d.forwarding.rawValue)]
                if d.drain { settings.append(("drain", d.drainDeadline.map { "until \(RFC3339.format($0))" } ?? "yes")) }
                if d.inhibitOnFailure { settings.append(("inhibit_on_failure", "yes")) }
                out.append(Item(subject: "ipvs \(s.key) -> \(Endpoint(address: d.address, port: d.port))\(d.node.map { " (\($0))" } ?? "")", settings: settings))
            }
        }
        for h in p.healthChecks {
            let c = h.check
            var settings = [("every", "\(c.intervalMilliseconds)ms"), ("timeout", "\(c.connectTimeoutMilliseconds)ms"), ("retries", "\(c.retries)")]
            if c.kind == .websocket || (c.isHTTP && c.urls.isEmpty) {
                settings += [("path", c.path), ("expect", "\(c.expectStatus)")]
            }
            for (i, u) in c.urls.enumerated() {
                settings.append(("url \(i + 1)", "\(u.path) \(u.statusText)" + (u.digest.map { " digest \($0)" } ?? "") + (u.host.map { " host \($0)" } ?? "")))
            }
            if c.sni { settings.append(("sni", "yes")) }
            if c.verifyCertificate { settings.append(("verify_certificate", c.caFile ?? "system roots")) }
            if let command = c.command { settings.append(("command", command)) }
            if c.dynamicWeight { settings.append(("dynamic_weight", "yes")) }
            if let v = c.payload { settings.append(("payload", v)) }
            if c.requireReply { settings.append(("require_reply", c.reply ?? "yes")) }
            if let v = c.minReplyLength { settings.append(("min_reply_length", "\(v)")) }
            if let v = c.maxReplyLength { settings.append(("max_reply_length", "\(v)")) }
            if c.kind == .dns { settings.append(("query", "\(c.dnsQueryType.rawValue) \(c.queryName ?? ".")")) }
            if let v = c.heloName { settings.append(("helo_name", v)) }
            out.append(Item(subject: "health \(c.kind.rawValue) \(h.target) for \(h.service)", settings: settings))
        }
        if let t = p.ipvsTimeouts {
            out.append(Item(subject: "ipvs timeouts", settings: [("tcp", "\(t.tcp)s"), ("tcpfin", "\(t.tcpFin)s"), ("udp", "\(t.udp)s")]))
        }
        for s in p.syncDaemons {
            out.append(Item(subject: "sync daemon \(s.state.rawValue)", settings: [("interface", s.interface), ("sync id", "\(s.syncID)")]))
        }
        return out
    }

    /// One line for the history: how many nodes change and how, or "no changes".
    public static func summary(_ nodes: [NodeChanges], first: Bool) -> String {
        if first { return "first version" }
        guard !nodes.isEmpty else { return "no changes to any node" }
        var add = 0, remove = 0, change = 0
        for n in nodes { for c in n.changes { switch c.action { case .add: add += 1; case .remove: remove += 1; case .change: change += 1 } } }
        let counts = [(add, "added"), (change, "changed"), (remove, "removed")].filter { $0.0 > 0 }.map { "\($0.0) \($0.1)" }
        let first = nodes.flatMap(\.changes).first.map { "; e.g. \($0)" } ?? ""
        return "\(nodes.count) node\(nodes.count == 1 ? "" : "s"): \(counts.joined(separator: ", "))\(first)".prefix(300).description
    }
}
