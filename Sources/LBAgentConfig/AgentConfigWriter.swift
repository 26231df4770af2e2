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
        var out = ""
        func comment(_ text: String, indent: Int = 0) { out += String(repeating: " ", count: indent) + "# \(text)\n" }
        func line(_ key: String, _ value: String, indent: Int = 0) {
            out += String(repeating: " ", count: indent) + key + ":" + (value.isEmpty ? "" : " \(value)") + "\n"
        }
        let g = config.gossip

        comment("lb-agent configuration; docs/agent.md explains every key and its default.")
        out += "\n"
        comment("This host's name among the spec's nodes.")
        line("node", SpecYAMLWriter.scalar(config.node))
        comment("Documents signed for any other cluster are refused.")
        line("cluster", SpecYAMLWriter.scalar(config.cluster))
        out += "\n"
        line("gossip", "")
        comment("UDP and TCP on one port. A wildcard (0.0.0.0, \"[::]\") needs advertise.", indent: 2)
        line("listen", endpoint(g.listen), indent: 2)
        if let advertise = g.advertise {
            comment("The address peers are told to use.", indent: 2)
            line("advertise", endpoint(advertise), indent: 2)
        } else {
            comment("advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", indent: 2)
        }
        comment("Members to join through; none for the first member.", indent: 2)
        line("seeds", g.seeds.isEmpty ? "[]" : "", indent: 2)
        for seed in g.seeds { out += "    - \(endpoint(seed))\n" }
        comment("lan (memberlist's LAN timing) or fast (one rack or a lab).", indent: 2)
        line("profile", g.profile.rawValue, indent: 2)
        out += "\n"
        comment("The cluster keyring that seals gossip (secret, mode 0600).")
        line("keyring", SpecYAMLWriter.scalar(config.keyring))
        out += "\n"
        line("trust", "")
        comment("Trusted operator public keys, one lb-public-key line each.", indent: 2)
        line("keys", SpecYAMLWriter.scalar(config.trust.keys), indent: 2)
        comment("How many of them must have signed a document.", indent: 2)
        line("threshold", "\(config.trust.threshold)", indent: 2)
        out += "\n"
        comment("What must survive a restart: the newest verified document.")
        line("state_dir", SpecYAMLWriter.scalar(config.stateDirectory))
        out += "\n"
        line("status", "")
        comment("Status and /metrics over HTTP without authentication: keep it on loopback.", indent: 2)
        line("listen", endpoint(config.status.listen), indent: 2)
        out += "\n"
        comment("trace, debug, info, notice, warning, error or critical.")
        line("log_level", config.logLevel.rawValue)
        out += "\n"
        line("drift", "")
        comment("The longest the agent goes without checking sysctls and addresses (\(AgentConfig.Drift.sysctlIntervalRange.configText)),", indent: 2)
        line("sysctl_interval", config.drift.sysctlInterval.configText, indent: 2)
        comment("without checking IPVS (\(AgentConfig.Drift.ipvsIntervalRange.configText)),", indent: 2)
        line("ipvs_interval", config.drift.ipvsInterval.configText, indent: 2)
        comment("and between retries of a failing action (\(AgentConfig.Drift.retryMaxRange.configText)).", indent: 2)
        line("retry_max", config.drift.retryMax.configText, indent: 2)
        return out
    }

    static func endpoint(_ e: Endpoint) -> String { SpecYAMLWriter.scalar(e.description) }
}
