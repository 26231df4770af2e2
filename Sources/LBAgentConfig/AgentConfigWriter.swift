import LBDaemonConfig
import LBSpec
import LBSpecYAML

/// Writes an `AgentConfig` as commented YAML, the file `lbctl init` leaves in /etc/lb/agent.yaml.
/// Deterministic: the same configuration always gives the same bytes. Every key is written, defaults
/// too, each under a comment saying what it does, so the file documents itself; `advertise` appears
/// only when set. `AgentConfigLoader` reads the text back to an equal configuration whenever
/// `AgentConfigValidator` finds no error in it and its seeds are already `usefulSeeds`. The writer
/// writes what it is given, so a value the validator refuses is refused again on reading.
public enum AgentConfigWriter {
    public static func yaml(_ config: AgentConfig) -> String {
        var out = DaemonConfigText()
        out.comment("lb-agent configuration; docs/agent.md explains every key and its default.")
        out.blank()
        out.comment("This host's name among the spec's nodes.")
        out.line("node", DaemonConfigText.string(config.node))
        out.comment("Documents signed for any other cluster are refused.")
        out.line("cluster", DaemonConfigText.string(config.cluster))
        out.blank()
        out.gossip(config.gossip)
        out.keys(keyring: config.keyring, trust: config.trust)
        out.blank()
        out.comment("What must survive a restart: the newest verified document.")
        out.line("state_dir", DaemonConfigText.string(config.stateDirectory))
        out.blank()
        out.status(config.status.listen)
        out.blank()
        out.logLevel(config.logLevel)
        out.blank()
        out.line("drift", "")
        out.comment("The longest the agent goes without checking sysctls and addresses (\(AgentConfig.Drift.sysctlIntervalRange.configText)),", indent: 2)
        out.line("sysctl_interval", config.drift.sysctlInterval.configText, indent: 2)
        out.comment("without checking IPVS (\(AgentConfig.Drift.ipvsIntervalRange.configText)),", indent: 2)
        out.line("ipvs_interval", config.drift.ipvsInterval.configText, indent: 2)
        out.comment("and between retries of a failing action (\(AgentConfig.Drift.retryMaxRange.configText)).", indent: 2)
        out.line("retry_max", config.drift.retryMax.configText, indent: 2)
        return out.text
    }
}
