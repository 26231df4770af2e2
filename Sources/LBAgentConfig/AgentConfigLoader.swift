import LBDaemonConfig
import LBSpec
import LBSpecYAML
import Yams

/// The outcome of reading one agent configuration file.
public struct LoadedAgentConfig: Sendable {
    /// The configuration, present only when it has no errors (warnings allowed). Seeds the loader
    /// warned about (this node's own address, repeats) are already dropped.
    public var config: AgentConfig?
    /// Every problem found, in file order, as `FILE:LINE:COLUMN: error|warning: message`.
    public var diagnostics: [LocatedDiagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.diagnostic.severity == .error } }
}

extension YAMLFormat {
    /// An agent configuration: at most 1 MiB and 10,000 values.
    public static let agentConfig = YAMLFormat(name: "agent configuration", article: "an", maxBytes: 1 << 20, maxNodes: 10_000,
                                               missingFileHint: "docs/agent.md shows an example")
}

/// Reads an `AgentConfig` from YAML with every problem at once, each at its FILE:LINE:COLUMN, then runs
/// `AgentConfigValidator`. The keys, with their defaults (docs/agent.md has the full table):
///
/// ```yaml
/// node: rs1                          # required
/// cluster: web                       # required
/// gossip:
///   listen: 192.168.1.102:7946       # required
///   advertise: 192.168.1.102:7946    # default: listen; required when listen is a wildcard
///   seeds: []                        # default: none
///   profile: lan                     # lan | fast
/// keyring: /etc/lb/cluster.keyring
/// trust:
///   keys: /etc/lb/operators.pub
///   threshold: 1                     # at least 1
/// state_dir: /var/lib/lb
/// status:
///   listen: 127.0.0.1:9110           # not loopback: a warning
/// log_level: info                    # trace | debug | info | notice | warning | error | critical
/// drift:
///   sysctl_interval: 250ms           # 50ms–1m
///   ipvs_interval: 1s                # 100ms–10m
///   retry_max: 30s                   # 1s–10m
/// ```
///
/// Scalars, durations, unknown keys (with "did you mean"), duplicate keys and aliases follow the
/// spec's rules (docs/spec.md, "Value syntax"), through the same `YAMLReader`.
public enum AgentConfigLoader {
    /// An agent configuration is a page of YAML; anything larger is a mistake.
    public static let maxBytes = YAMLFormat.agentConfig.maxBytes

    public static func load(file: String) -> LoadedAgentConfig {
        do {
            return load(yaml: try YAMLFile.read(file: file, format: .agentConfig), file: file)
        } catch {
            return LoadedAgentConfig(config: nil, diagnostics: [error])
        }
    }

    public static func load(yaml: String, file: String = "<agent.yaml>") -> LoadedAgentConfig {
        let (config, diagnostics) = DaemonConfigLoading.load(
            yaml: yaml, file: file, format: .agentConfig,
            emptyMessage: "the agent configuration is empty; it needs at least node, cluster and gossip.listen (docs/agent.md shows an example)",
            read: { $0.readAgentConfig($1) }, validate: AgentConfigValidator.validate(_:broken:),
            finish: { $0.gossip.seeds = $0.gossip.usefulSeeds })
        return LoadedAgentConfig(config: config, diagnostics: diagnostics)
    }
}

/// The agent configuration's schema. A value that cannot be read is reported here and replaced by a
/// placeholder; the validator is told which paths those are and checks nothing that depends on them.
extension YAMLReader {
    static let agentKeys = ["node", "cluster", "gossip", "keyring", "trust", "state_dir", "status", "log_level", "drift"]

    mutating func readAgentConfig(_ root: YAMLNode) -> AgentConfig? {
        guard var m = mapping(root, at: .root, keys: Self.agentKeys) else { return nil }
        let node = required(&m, "node", "this host's name among the spec's nodes, e.g. node: rs1") { $0.string($1, $2) } ?? ""
        let cluster = required(&m, "cluster", "the cluster's name as the spec's cluster key gives it, e.g. cluster: web") { $0.string($1, $2) } ?? ""
        let gossip = required(&m, "gossip", "at least the gossip listener, e.g. gossip: { listen: 192.168.1.102:7946 }") { $0.readGossip($1, $2) }
        var c = AgentConfig(node: node, cluster: cluster, gossip: gossip ?? AgentConfig.Gossip(listen: Self.placeholderEndpoint))
        c.keyring = optional(&m, "keyring") { $0.string($1, $2) } ?? c.keyring
        c.trust = optional(&m, "trust") { $0.readTrust($1, $2) } ?? c.trust
        c.stateDirectory = optional(&m, "state_dir") { $0.string($1, $2) } ?? c.stateDirectory
        c.status = optional(&m, "status") { $0.readStatus($1, $2) } ?? c.status
        c.logLevel = optional(&m, "log_level") { $0.logLevel($1, $2) } ?? c.logLevel
        c.drift = optional(&m, "drift") { $0.readDrift($1, $2) } ?? c.drift
        finish(m)
        return c
    }

    mutating func readStatus(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Status? {
        guard var m = mapping(node, at: path, keys: ["listen"]) else { return nil }
        var s = AgentConfig.Status()
        s.listen = optional(&m, "listen") { $0.endpoint($1, $2, example: "127.0.0.1:9110") } ?? s.listen
        finish(m)
        return s
    }

    mutating func readDrift(_ node: YAMLNode, _ path: SpecPath) -> AgentConfig.Drift? {
        guard var m = mapping(node, at: path, keys: ["sysctl_interval", "ipvs_interval", "retry_max"]) else { return nil }
        var d = AgentConfig.Drift()
        d.sysctlInterval = optional(&m, "sysctl_interval") { $0.configDuration($1, $2) } ?? d.sysctlInterval
        d.ipvsInterval = optional(&m, "ipvs_interval") { $0.configDuration($1, $2) } ?? d.ipvsInterval
        d.retryMax = optional(&m, "retry_max") { $0.configDuration($1, $2) } ?? d.retryMax
        finish(m)
        return d
    }
}
