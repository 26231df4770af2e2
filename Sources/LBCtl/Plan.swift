import ArgumentParser
import Foundation
import LBSpec

extension LBCtl {
    /// `lbctl plan FILE`: what each node's agent will hold.
    struct Plan: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the local state each node's agent will apply: addresses, sysctls, VRRP, IPVS, health checks."
        )

        @Argument(help: "The cluster spec.")
        var file: String

        @Option(help: "Only this node.")
        var node: String?

        @OptionGroup var output: OutputOptions

        func run() throws {
            let spec = try loadValidSpec(file)
            let plans: [HostPlan]
            if let node {
                guard let plan = HostPlanner.plan(spec, node: node) else {
                    let hint = Suggest.closest(to: node, among: spec.nodes.map(\.name)).map { "; did you mean '\($0)'?" } ?? ""
                    throw CommandFailure("no node '\(node)' in \(file)\(hint)")
                }
                plans = [plan]
            } else {
                plans = HostPlanner.plans(spec)
            }
            switch output.output {
            case .json:
                let data = try SpecJSON.encoder(pretty: true).encode(plans)
                print(String(decoding: data, as: UTF8.self))
            case .text:
                print(PlanText.render(plans), terminator: "")
            }
        }
    }
}

/// The human form of host plans: one block per node, one line per thing held.
enum PlanText {
    static func render(_ plans: [HostPlan]) -> String {
        plans.map(render).joined(separator: "\n")
    }

    static func render(_ p: HostPlan) -> String {
        var out = "node \(p.node) (\(p.roles.isEmpty ? "no role" : p.roles.map(\.rawValue).joined(separator: ", ")))\n"
        func line(_ s: String) { out += "  \(s)\n" }
        for a in p.addresses {
            line("address \(a.address) on \(a.interface)\(a.label.map { " label \($0)" } ?? "")")
        }
        for s in p.sysctls { line("sysctl \(s.key) = \(s.value)") }
        for v in p.vrrpInstances {
            let auth = v.authPassword == nil ? "no auth" : "auth pass"
            let transport = v.unicastPeers.isEmpty ? "multicast" : "unicast to \(v.unicastPeers.map(\.description).joined(separator: ", "))"
            let preempt = v.preempt ? (v.preemptDelaySeconds > 0 ? "preempt after \(v.preemptDelaySeconds)s" : "preempt") : "nopreempt"
            line("vrrp \(v.name) on \(v.interface): router id \(v.routerID), v\(v.version), priority \(v.priority), advert \(seconds(centiseconds: v.advertIntervalCentiseconds)), \(auth), \(preempt), \(transport) (expected \(v.expectedState))")
            for a in v.virtualAddresses { line("  vip \(v.describe(a))") }
        }
        for s in p.ipvsServices {
            var desc = "ipvs \(s.key) \(s.scheduler.rawValue)"
            if !s.schedulerFlags.isEmpty { desc += " flags \(s.schedulerFlags.map(\.rawValue).joined(separator: ","))" }
            if s.ops == true { desc += " ops" }
            if let per = s.persistence { desc += " persistent \(per.timeoutSeconds)s mask \(per.netmask)" }
            if s.quorum > 1 { desc += " quorum \(s.quorum)" }
            if let h = s.hysteresis { desc += " hysteresis \(h)" }
            if s.alpha == true { desc += " alpha" }
            if let sorry = s.sorryServer { desc += " sorry \(sorry)" }
            line(desc)
            for d in s.destinations {
                var dest = "  -> \(Endpoint(address: d.address, port: d.port)) \(d.forwarding.rawValue) weight \(d.weight)\(d.node.map { " (\($0))" } ?? "")"
                // The planned weight is the spec's; the agent holds a draining destination at 0 itself.
                if d.drain { dest += ", draining at weight 0" + (d.drainDeadline.map { ", deadline \(RFC3339.format($0))" } ?? "") }
                if d.inhibitOnFailure { dest += ", inhibit_on_failure" }
                line(dest)
            }
        }
        for h in p.healthChecks {
            let c = h.check
            var what = c.kind.rawValue
            if c.kind == .http || c.kind == .websocket { what += " \(c.path) expect \(c.expectStatus)" }
            if c.kind == .exec, let cmd = c.command { what += " '\(cmd)'" }
            if c.kind == .dns { what += " \(c.dnsQueryType.rawValue) \(c.queryName ?? ".")" }
            line("health \(what) \(h.target) every \(millis(c.intervalMilliseconds)), timeout \(millis(c.connectTimeoutMilliseconds)), \(c.retries) retries")
        }
        if let t = p.ipvsTimeouts { line("ipvs timeouts tcp \(t.tcp)s tcpfin \(t.tcpFin)s udp \(t.udp)s") }
        for s in p.syncDaemons { line("sync daemon \(s.state.rawValue) on \(s.interface), sync id \(s.syncID)") }
        return out
    }

    static func seconds(centiseconds cs: Int) -> String {
        cs % 100 == 0 ? "\(cs / 100)s" : "\(cs * 10)ms"
    }

    static func millis(_ ms: Int) -> String {
        ms % 1000 == 0 ? "\(ms / 1000)s" : "\(ms)ms"
    }
}
