import ArgumentParser
import LBHost
import LBSpec

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Agent {
    /// `lb-agent apply --plan FILE --node NAME`: one reconcile pass of a host plan, without the daemon.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring this host to one node's plan once: observe, diff, apply, observe again.",
            discussion: """
            FILE is the JSON of `lbctl plan SPEC --output json` (all nodes, or one with --node there). \
            Only what the plan asks for is changed; foreign addresses and IPVS services are left alone. \
            VIPs that move by VRRP are not added here: `lb-agent vrrp` (and later the agent) holds them.
            """
        )

        @Option(help: "Host plans as JSON, from `lbctl plan --output json`.")
        var plan: String

        @Option(help: "Which node's plan this host is.")
        var node: String

        @Flag(help: "Print the actions without applying them.")
        var dryRun = false

        func run() async throws {
            let data: Data
            do {
                data = try Data(contentsOf: URL(fileURLWithPath: plan))
            } catch {
                throw AgentFailure("cannot read \(plan): \(error)")
            }
            let plans: [HostPlan]
            do {
                plans = try SpecJSON.decoder().decode([HostPlan].self, from: data)
            } catch {
                throw AgentFailure("\(plan) is not the JSON of `lbctl plan --output json`: \(error)")
            }
            guard let mine = plans.first(where: { $0.node == node }) else {
                throw AgentFailure("\(plan) has no plan for node '\(node)' (it has: \(plans.map(\.node).joined(separator: ", ")))")
            }
            let desired = DesiredHostState(plan: mine)
            let host = LinuxHost()
            let before = try await host.observe(sysctls: desired.sysctlKeys(ledger: Ledger()))
            if desired.ipvs != nil, case .unavailable(let reason) = before.ipvs {
                throw AgentFailure("node '\(node)' is a director but \(reason)")
            }
            let actions = HostDiff.actions(desired: desired, observed: before)
            if actions.isEmpty {
                print("\(node): nothing to change")
                return
            }
            for a in actions { print("\(dryRun ? "would " : "")\(a)") }
            if dryRun { return }
            let report = await host.apply(actions)
            for e in report.errors { print("error: \(e.message)") }
            let after = try await host.observe(sysctls: desired.sysctlKeys(ledger: Ledger()))
            let left = HostDiff.actions(desired: desired, observed: after)
            guard report.succeeded, left.isEmpty else {
                print("\(node): \(left.count) change(s) still pending")
                throw ExitCode(1)
            }
            print("\(node): \(actions.count) change(s) applied; converged")
        }
    }
}

/// A run-time failure: printed as "Error: …" without the usage text, exit status 1.
struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
