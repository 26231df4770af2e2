import ArgumentParser
import LBAgent
import LBDaemonConfig
import LBAgentConfig
import LBGossipService
import LBHost
import LBSpec
import Logging

#if canImport(Glibc)
import Glibc
#endif

extension Agent {
    /// `lb-agent reset`: removes what lb made on this host, from its ledger, then exits.
    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove everything lb created on this host (from the ledger), then exit.",
            discussion: """
            Addresses lb added are deleted, sysctls lb changed go back to the values they had before, IPVS \
            services and sync daemons lb started are removed, and VIPs of the document's VRRP instances are \
            taken off their interfaces. Nothing lb did not make is touched. Refused while the agent runs \
            (it would put everything back): stop it first.
            """
        )

        @OptionGroup var options: ConfigOptions

        func run() async throws {
            let config = try options.load()
            let lock: Int32
            do { lock = try StateDirectory.lock(config.stateDirectory, file: "agent.lock", holder: "lb-agent", stop: "systemctl stop lb-agent") } catch { throw AgentFailure("\(error)") }
            defer { close(lock) }
            let host = LinuxHost()
            let reconciler = try Reconciler(host: host, ledgerPath: LedgerFile.path(in: config.stateDirectory),
                                            logger: Logger(label: "lb-agent", factory: { _ in SwiftLogNoOpLogHandler() }))
            // Desiring nothing, with the ledger, is exactly "remove what lb owns": the daemon's own pass does it.
            await reconciler.setTarget(.init(state: DesiredHostState(), version: 0))
            let result = await reconciler.pass(.full)
            if let error = result.error { throw AgentFailure(error) }
            for (action, failure) in zip(result.actions, result.report.failures) { print(failure.map { "error: \($0.message)" } ?? "\(action)") }
            let left = await reconciler.engine.ledger
            // VRRP VIPs are the speakers' (no ledger: a master holds them, a backup never): take them off
            // wherever the last document put VRRP instances.
            var vipActions: [HostAction] = []
            if let prepared = try? AgentDaemon(config: config).prepare(),
               let held = try? HeldDocument.load(from: config.stateDirectory, policy: prepared.policy),
               let plan = HostPlanner.plan(held.verified.document.spec, node: config.node) {
                let observed = try await host.observe(sysctls: [], ipvs: .skip)
                for instance in plan.vrrpInstances {
                    for vip in instance.virtualAddresses {
                        let name = instance.interface(of: vip.address)
                        if let have = observed.interface(named: name)?.addresses.first(where: { $0.address.address == vip.address }) {
                            vipActions.append(.deleteAddress(interface: name, address: have.address))
                        }
                    }
                }
            }
            let report = await host.apply(vipActions)
            for (action, failure) in zip(vipActions, report.failures) { print(failure.map { "error: \($0.message)" } ?? "\(action)") }
            guard left == Ledger(), report.succeeded else {
                print("lb-agent reset: some of what lb made could not be removed (see above); run it again once fixed")
                throw ExitCode(1)
            }
            print("lb-agent reset: nothing lb made is left on this host")
        }
    }
}
