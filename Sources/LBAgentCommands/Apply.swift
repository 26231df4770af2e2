import ArgumentParser
import LBAgent
import LBHost
import LBSpec
import Logging

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension Agent {
    /// `lb-agent apply --plan FILE --node NAME`: one pass of the daemon's reconciler, without the daemon.
    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Bring this host to one node's plan once: observe, diff, apply, observe again.",
            discussion: """
            FILE is the JSON of `lbctl plan SPEC --output json` (all nodes, or one with --node there). \
            Only what the plan asks for is changed; foreign addresses and IPVS services are left alone. \
            VIPs that move by VRRP are not added here: `lb-agent vrrp` (and the agent) holds them. This is \
            the reconciler `lb-agent run` loops, run once with no ledger kept.
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
            let reconciler = try Reconciler(host: LinuxHost(), ledgerPath: nil, logger: Logger(label: "lb-agent", factory: { _ in SwiftLogNoOpLogHandler() }))
            await reconciler.setTarget(.init(state: DesiredState.compose(mine, .unchecked), version: 0))
            let preview = try await reconciler.preview(.full)
            if let blocked = await reconciler.engine.blocked { throw AgentFailure("node '\(node)': \(blocked)") }
            if dryRun || preview.actions.isEmpty {
                for w in preview.waiting { print("waiting: \(w)") }
                if preview.actions.isEmpty && preview.waiting.isEmpty { print("\(node): nothing to change") }
                for a in preview.actions { print("would \(a)") }
                return
            }
            let result = await reconciler.pass(.full)
            if let error = result.error { throw AgentFailure(error) }
            for a in result.actions { print("\(a)") }
            for e in result.report.errors { print("error: \(e.message)") }
            for w in result.waiting { print("waiting: \(w)") }
            guard result.converged else {
                print("\(node): not converged")
                throw ExitCode(1)
            }
            print("\(node): \(result.actions.count) change(s) applied; converged")
        }
    }
}

/// A run-time failure: printed as "Error: …" without the usage text, exit status 1.
struct AgentFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
