import ArgumentParser
import AsyncHTTPClient
import Foundation
import LBAgent
import LBAgentConfig
import NIOCore

extension Agent {
    /// `lb-agent status`: asks the running agent on this host.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the running agent on this host holds: version, convergence, VRRP, IPVS, repairs, errors.",
            discussion: "Asks the agent's status listener (status.listen in --config, or --address). JSON output is stable for scripts."
        )

        @OptionGroup var options: ConfigOptions

        @Option(help: "The agent's status listener, ADDRESS:PORT (instead of reading --config).")
        var address: String?

        @Option(name: .shortAndLong, help: "Output format: text (for people) or json (stable, for scripts).")
        var output: StatusFormat = .text

        @Option(help: "Seconds to wait for the agent's answer (a loaded host may need more than the default).")
        var timeout: Int = 5

        enum StatusFormat: String, ExpressibleByArgument { case text, json }

        func validate() throws {
            guard timeout > 0 else { throw ValidationError("--timeout must be a whole number of seconds above 0, not \(timeout)") }
        }

        func run() async throws {
            let target = try address ?? "\(options.load().status.listen)"
            let body: ByteBuffer
            do {
                let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://\(target)/status"), timeout: .seconds(Int64(timeout)))
                guard response.status == .ok else { throw AgentFailure("the agent at \(target) answered \(response.status)") }
                body = try await response.body.collect(upTo: 16 << 20)
            } catch let error as AgentFailure {
                throw error
            } catch {
                throw AgentFailure("no agent answers at \(target) within \(timeout) s (\(error)); is lb-agent running? (systemctl status lb-agent)")
            }
            let bytes = Data(body.readableBytesView)
            let status: AgentStatus
            do { status = try AgentStatus.decoder.decode(AgentStatus.self, from: bytes) } catch {
                throw AgentFailure("\(target) answered something that is not an agent's status: \(error)")
            }
            switch output {
            case .json: print(String(decoding: bytes, as: UTF8.self))
            case .text: print(StatusTable.render(status), terminator: "")
            }
        }
    }
}

/// `lb-agent status` for people.
enum StatusTable {
    static func render(_ s: AgentStatus) -> String {
        var out = ""
        func line(_ k: String, _ v: String) { out += k.padding(toLength: 12, withPad: " ", startingAt: 0) + v + "\n" }
        line("node", "\(s.node) (cluster \(s.cluster)), roles: \(s.roles.isEmpty ? "none" : s.roles.joined(separator: ", "))")
        line("document", s.version.map { "v\($0) \(s.digest ?? "")" } ?? "none yet")
        line("state", s.converged ? "converged" : (s.version == nil ? "waiting for a document" : "not converged"))
        if let e = s.lastError { line("last error", e) }
        for w in s.waiting { line("waiting", w) }
        if let r = s.refused { line("refused", "v\(r.version)\(r.from.map { " from \($0)" } ?? ""): \(r.reason): \(r.message)") }
        line("repairs", s.repairs.isEmpty ? "none" : s.repairs.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for v in s.vrrp {
            line("vrrp", "\(v.name) vrid \(v.routerID) on \(v.interface): \(v.state) priority \(v.priority)\(v.error.map { " (error: \($0))" } ?? "")")
        }
        for svc in s.services {
            line("service", "\(svc.key) active \(svc.active) inactive \(svc.inactive)")
            for d in svc.destinations ?? [] {
                line("", "  -> \(d.endpoint) weight \(d.weight) active \(d.active) inactive \(d.inactive) \(d.health)")
            }
        }
        let iso = ISO8601DateFormatter()
        for c in s.checks {
            let latency = c.latencyMilliseconds.map { " in \($0) ms" } ?? ""
            let result = c.lastResult.map { ", last: \($0)\(latency)" } ?? ", not checked yet"
            let failures = c.failures > 0 ? ", \(c.failures) failure\(c.failures == 1 ? "" : "s") in a row" : ""
            let since = c.lastChange.map { ", since \(iso.string(from: $0))" } ?? ""
            let weight = c.weight.map { ", weight \($0) by the check" } ?? ""
            line("check", "\(c.node.map { "\($0) " } ?? "")\(c.destination) of \(c.service) \(c.kind): \(c.health)\(since)\(result)\(failures)\(weight)")
        }
        for d in s.drains {
            line("drained", "\(d.node.map { "\($0) " } ?? "")\(d.destination) of \(d.service) at \(iso.string(from: d.at)): "
                + (d.byDeadline ? "deadline, \(d.openConnections) connection(s) still open" : "no connections left"))
        }
        let counts = Dictionary(grouping: s.members, by: \.status).mapValues(\.count).sorted { $0.key < $1.key }
        line("members", counts.map { "\($0.value) \($0.key)" }.joined(separator: ", "))
        return out
    }
}
