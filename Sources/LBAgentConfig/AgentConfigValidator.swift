import LBDaemonConfig
import LBSpec

/// Checks an `AgentConfig`'s values: names, addresses, paths and ranges. Every problem is reported,
/// none stops the others; each diagnostic's path is the YAML key (`gossip.listen`, `gossip.seeds[2]`),
/// so the loader can show it at its position. Use it on a configuration built in code before writing it.
public enum AgentConfigValidator {
    public static func validate(_ config: AgentConfig) -> [Diagnostic] {
        validate(config, broken: [])
    }

    /// The seeds worth contacting: without this node's own address (`listen` or `advertised`) and without
    /// repeats, in the order written.
    public static func usefulSeeds(_ gossip: AgentConfig.Gossip) -> [Endpoint] {
        gossip.usefulSeeds
    }

    /// `broken`: paths the reader could not read (their values are placeholders); nothing at, inside or
    /// depending on them is checked.
    static func validate(_ config: AgentConfig, broken: [SpecPath]) -> [Diagnostic] {
        var checks = DaemonConfigChecks(broken: broken)
        let root = checks.root
        checks.checkName(config.node, at: root["node"], what: "node name")
        checks.checkShared(cluster: config.cluster, gossip: config.gossip, keyring: config.keyring, trust: config.trust)
        checks.checkPath(config.stateDirectory, at: root["state_dir"], what: "state directory", example: AgentConfig.defaultStateDirectory)
        checks.checkStatusListen(config.status.listen)
        checks.checkDuration(config.drift.sysctlInterval, AgentConfig.Drift.sysctlIntervalRange, at: root["drift"]["sysctl_interval"])
        checks.checkDuration(config.drift.ipvsInterval, AgentConfig.Drift.ipvsIntervalRange, at: root["drift"]["ipvs_interval"])
        checks.checkDuration(config.drift.retryMax, AgentConfig.Drift.retryMaxRange, at: root["drift"]["retry_max"])
        return checks.diagnostics
    }
}
