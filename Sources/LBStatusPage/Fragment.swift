import Foundation
import LBClusterView

/// The inner HTML of `<main id="live">`, section by section. Every element a test or script looks for
/// carries an `id` or `data-*` attribute holding the raw value (escaped), beside text for people.
struct Fragment {
    let status: ClusterStatus
    let events: [ClusterEvent]
    let now: Date
    /// The spec's nodes first, then the others, each group in the status's order.
    let nodes: [NodeStatus]
    let byName: [String: NodeStatus]

    init(status: ClusterStatus, events: [ClusterEvent], now: Date) {
        self.status = status
        self.events = events
        self.now = now
        nodes = status.nodes.filter(\.expected) + status.nodes.filter { !$0.expected }
        // Names come from the network: a duplicate must not trap, the first one wins.
        byName = Dictionary(status.nodes.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    func write(into w: inout HTMLWriter) {
        summary(&w)
        alarms(&w)
        w.markup("<nav><a href=\"#vips\">VIPs</a> · <a href=\"#convergence\">Convergence</a> · <a href=\"#health\">Real servers</a> · ")
        w.markup("<a href=\"#events\">Events</a> · <a href=\"#nodes\">Nodes</a></nav>\n")
        vips(&w)
        convergence(&w)
        healthMatrix(&w)
        timeline(&w)
        nodeTable(&w)
    }

    /// A node of the spec that has not applied the head yet (older, none, or silent).
    func lagging(_ node: NodeStatus) -> Bool {
        guard node.expected, let head = status.head else { return false }
        return (node.version ?? 0) < head.version
    }

    // MARK: Header

    func summary(_ w: inout HTMLWriter) {
        w.markup("<header id=\"summary\"")
        w.attribute("data-cluster", status.cluster)
        w.markup("><h1>Cluster <span id=\"cluster\">")
        w.text(status.cluster)
        w.markup("</span></h1>\n<dl class=\"facts\"><dt>Controller</dt><dd id=\"controller\">")
        w.text(status.controller)
        w.markup("</dd><dt>Head</dt>")
        if let head = status.head {
            w.markup("<dd id=\"head\"")
            w.attribute("data-version", head.version)
            w.attribute("data-digest", head.digest)
            w.markup("><strong>v")
            w.number(head.version)
            w.markup("</strong> <code")
            w.attribute("title", head.digest)
            w.markup(">")
            w.text(shortDigest(head.digest))
            w.markup("</code> · signed by ")
            if head.signers.isEmpty { w.markup("<span class=\"bad\">nobody</span>") }
            for (i, signer) in head.signers.enumerated() {
                if i > 0 { w.markup(", ") }
                w.element("<code class=\"signer\">", signer, close: "</code>")
            }
            w.markup(" · accepted ")
            time(&w, head.acceptedAt)
            if !head.summary.isEmpty {
                w.markup(" · ")
                w.element("<span class=\"change\">", head.summary, close: "</span>")
            }
            w.markup("</dd>")
        } else {
            w.markup("<dd id=\"head\" data-version=\"none\" class=\"mute\">no version accepted yet</dd>")
        }
        w.markup("<dt>Generated</dt><dd><time id=\"generated\"")
        w.attribute("datetime", UTCTime.iso(status.generatedAt))
        w.markup(">")
        w.text(UTCTime.iso(status.generatedAt))
        w.markup("</time></dd><dt>Nodes</dt>")
        nodeCounts(&w)
        w.markup("</dl></header>\n")
    }

    func nodeCounts(_ w: inout HTMLWriter) {
        var counts: [String: Int] = [:]
        var lagging = 0
        for node in nodes {
            counts[node.member, default: 0] += 1
            if self.lagging(node) { lagging += 1 }
        }
        let states = ["alive", "suspect", "dead", "left", "unknown"]
        w.markup("<dd id=\"node-counts\"")
        w.attribute("data-total", nodes.count)
        for state in states {
            w.markup(" data-")
            w.text(state)
            w.markup("=\"")
            w.number(counts[state] ?? 0)
            w.markup("\"")
        }
        w.attribute("data-lagging", lagging)
        w.markup(">")
        w.number(nodes.count)
        w.markup(" (")
        for (i, state) in states.enumerated() {
            if i > 0 { w.markup(", ") }
            w.number(counts[state] ?? 0)
            w.markup(" ")
            w.text(state)
        }
        w.markup(")")
        if lagging > 0 {
            w.markup(" · <span class=\"bad\">")
            w.number(lagging)
            w.markup(" behind the head</span>")
        }
        w.markup("</dd>")
    }

    func alarms(_ w: inout HTMLWriter) {
        w.markup("<section id=\"alarms\"")
        w.attribute("data-count", status.alarms.count)
        w.markup("><h2>Alarms</h2>")
        guard !status.alarms.isEmpty else {
            w.markup("<p class=\"ok\">No open alarms.</p></section>\n")
            return
        }
        w.markup("<ul class=\"alarms\">")
        for alarm in status.alarms {
            w.markup("<li class=\"alarm\"")
            w.attribute("data-alarm", alarm.id)
            w.attribute("data-kind", alarm.kind)
            w.markup("><strong>")
            w.text(alarm.kind == "split-brain" ? "SPLIT BRAIN" : alarm.kind)
            w.markup("</strong> ")
            w.element("<span class=\"message\">", alarm.message, close: "</span>")
            if !alarm.nodes.isEmpty {
                w.markup(" · nodes: ")
                for (i, node) in alarm.nodes.enumerated() {
                    if i > 0 { w.markup(", ") }
                    w.markup("<span")
                    w.attribute("data-alarm-node", node)
                    w.markup(">")
                    w.text(node)
                    w.markup("</span>")
                }
            }
            w.markup(" · since ")
            time(&w, alarm.since)
            w.markup("</li>")
        }
        w.markup("</ul></section>\n")
    }

    // MARK: VIPs

    func vips(_ w: inout HTMLWriter) {
        w.markup("<section id=\"vips\"><h2>VIPs</h2>")
        guard !status.vips.isEmpty else {
            w.markup("<p class=\"mute\">No VIPs in the head's spec.</p></section>\n")
            return
        }
        w.markup("<table><thead><tr><th>VIP</th><th>Address</th><th>Router ID</th><th>Master</th><th>Directors</th></tr></thead><tbody>\n")
        for vip in status.vips {
            let split = vip.masters.count > 1
            w.markup("<tr")
            if split { w.markup(" class=\"split\"") }
            w.attribute("data-vip", vip.name)
            w.attribute("data-masters", vip.masters.count)
            w.attribute("data-split-brain", split)
            w.markup(">")
            w.element("<td>", vip.name, close: "</td>")
            w.element("<td>", vip.address, close: "</td>")
            w.markup("<td class=\"num\">")
            w.number(vip.routerID)
            w.markup("</td>")
            if vip.masters.isEmpty {
                w.markup("<td class=\"master bad\" data-master=\"none\">none</td>")
            } else {
                w.markup("<td class=\"master")
                if split { w.markup(" bad") }
                w.markup("\"")
                w.attribute("data-master", vip.masters.joined(separator: " "))
                w.markup(">")
                if split { w.markup("split brain: ") }
                w.text(vip.masters.joined(separator: ", "))
                w.markup("</td>")
            }
            w.markup("<td>")
            for director in vip.directors {
                let state = byName[director]?.vrrp.first { $0.name == vip.name }?.state ?? "none"
                w.markup("<span class=\"vrrp\"")
                w.attribute("data-director", director)
                w.attribute("data-state", state)
                w.markup(">")
                w.text(director)
                w.markup(" ")
                w.text(state == "none" ? "—" : state)
                w.markup("</span>")
            }
            w.markup("</td></tr>\n")
        }
        w.markup("</tbody></table></section>\n")
    }

    // MARK: Nodes

    func nodeTable(_ w: inout HTMLWriter) {
        w.markup("<section id=\"nodes\"><h2>Nodes</h2>")
        guard !nodes.isEmpty else {
            w.markup("<p class=\"mute\">No nodes known yet.</p></section>\n")
            return
        }
        w.markup("<table><thead><tr><th>Node</th><th>Member</th><th>Roles</th><th>Version</th><th>VRRP</th>")
        w.markup("<th title=\"active / inactive\">Connections</th><th>Repairs</th><th>Reported</th><th>Last error</th></tr></thead>\n")
        var group: Bool?
        for node in nodes {
            if group != node.expected {
                if group != nil { w.markup("</tbody>\n") }
                group = node.expected
                w.markup(node.expected ? "<tbody id=\"expected-nodes\">" : "<tbody id=\"other-nodes\"><tr><th colspan=\"9\">Not in the head's spec</th></tr>")
                w.markup("\n")
            }
            nodeRow(&w, node)
        }
        w.markup("</tbody></table></section>\n")
    }

    func nodeRow(_ w: inout HTMLWriter, _ node: NodeStatus) {
        let lagging = lagging(node)
        w.markup("<tr")
        w.attribute("data-node", node.name)
        w.attribute("data-member", node.member)
        w.attribute("data-expected", node.expected)
        if let version = node.version { w.attribute("data-version", version) } else { w.markup(" data-version=\"none\"") }
        w.attribute("data-converged", node.converged)
        w.attribute("data-lagging", lagging)
        w.markup("><td>")
        w.text(node.name)
        if let address = node.address { w.element("<span class=\"addr\">", address, close: "</span>") }
        w.element("</td><td class=\"member\">", node.member, close: "</td>")
        w.element("<td class=\"roles\">", node.roles.joined(separator: ", "), close: "</td>")

        w.markup("<td class=\"version\">")
        if let version = node.version {
            w.markup("v")
            w.number(version)
            if let head = status.head, version < head.version, node.expected {
                w.markup(" · behind by ")
                w.number(head.version - version)
            } else if let head = status.head, version > head.version {
                w.markup(" · ahead of the head")
            }
            w.markup(node.converged ? " · converged" : " · applying")
        } else {
            w.markup(lagging ? "none" : "—")
        }
        w.markup("</td><td>")
        for instance in node.vrrp {
            w.markup("<span class=\"vrrp\"")
            w.attribute("data-vrrp", instance.name)
            w.attribute("data-state", instance.state)
            w.markup(" title=\"router ")
            w.number(instance.routerID)
            w.markup(", priority ")
            w.number(instance.priority)
            w.markup("\">")
            w.text(instance.name)
            w.markup(" ")
            w.text(instance.state)
            w.markup("</span>")
        }
        w.markup("</td><td class=\"num\">")
        w.number(node.activeConnections)
        w.markup(" / ")
        w.number(node.inactiveConnections)
        w.markup("</td><td class=\"num\"")
        w.attribute("data-repairs", node.repairsTotal)
        if !node.repairs.isEmpty {
            w.markup(" title=\"")
            for (i, (kind, count)) in node.repairs.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { w.markup(", ") }
                w.text(kind)
                w.markup(": ")
                w.number(count)
            }
            w.markup("\"")
        }
        w.markup(">")
        w.number(node.repairsTotal)
        w.markup("</td><td>")
        if let reported = node.reportedAt { time(&w, reported) } else { w.markup("<span class=\"mute\">never</span>") }
        w.markup("</td>")
        if let error = node.lastError {
            w.element("<td class=\"err\" data-error=\"true\">", error, close: "</td>")
        } else {
            w.markup("<td></td>")
        }
        w.markup("</tr>\n")
    }

    // MARK: Pieces

    /// `<time>` with the UTC instant in `datetime` and `title`, and the age as its text.
    func time(_ w: inout HTMLWriter, _ date: Date) {
        let iso = UTCTime.iso(date)
        w.markup("<time")
        w.attribute("datetime", iso)
        w.attribute("title", iso)
        w.markup(">")
        w.text(UTCTime.age(date, now: now))
        w.markup("</time>")
    }

    /// `sha256:` and the first 12 hex digits, enough to tell versions apart at a glance.
    func shortDigest(_ digest: String) -> String {
        guard let colon = digest.firstIndex(of: ":") else { return String(digest.prefix(12)) }
        return String(digest[...colon]) + digest[digest.index(after: colon)...].prefix(12)
    }
}
