import LBDaemonConfig
import LBSpec

/// What one lb-agent needs to know before any signed document arrives: who it is, which cluster it
/// belongs to, where it gossips, which keys it trusts, and how often it looks for drift.
///
/// Build one in code with the defaults below, read one from `/etc/lb/agent.yaml` with
/// `AgentConfigLoader`, check one with `AgentConfigValidator`, and write one with `AgentConfigWriter`.
/// docs/agent.md lists every key.
public struct AgentConfig: Sendable, Equatable {
    /// Where the daemon reads its configuration unless told otherwise.
    public static let defaultPath = "/etc/lb/agent.yaml"
    /// Default of `keyring`.
    public static let defaultKeyring = DaemonConfig.defaultKeyring
    /// Default of `stateDirectory`.
    public static let defaultStateDirectory = "/var/lib/lb"

    /// `node`, required: this host's node name, as `nodes[].name` in the signed document. The agent
    /// applies what the document assigns to this name. 1–63 letters, digits, `-`, `_`, `.`.
    public var node: String
    /// `cluster`, required: the cluster name; documents signed for any other cluster are refused.
    public var cluster: String
    /// `gossip`, required (for `gossip.listen`): where this node gossips and whom it joins through.
    public var gossip: Gossip
    /// `keyring`, default `/etc/lb/cluster.keyring`: the cluster keyring file that seals gossip (lbctl
    /// init writes `cluster.keyring`). An absolute path.
    public var keyring: String
    /// `trust`: whose signatures a document needs.
    public var trust: Trust
    /// `state_dir`, default `/var/lib/lb`: where the agent keeps what must survive a restart (the newest
    /// document it verified). An absolute path.
    public var stateDirectory: String
    /// `status`: the local status and /metrics HTTP listener.
    public var status: Status
    /// `log_level`, default `info`.
    public var logLevel: LogLevel
    /// `drift`: how often the host is compared with the document, and how long failing repairs wait.
    public var drift: Drift

    public init(node: String, cluster: String, gossip: Gossip,
                keyring: String = AgentConfig.defaultKeyring, trust: Trust = Trust(),
                stateDirectory: String = AgentConfig.defaultStateDirectory, status: Status = Status(),
                logLevel: LogLevel = .info, drift: Drift = Drift()) {
        self.node = node
        self.cluster = cluster
        self.gossip = gossip
        self.keyring = keyring
        self.trust = trust
        self.stateDirectory = stateDirectory
        self.status = status
        self.logLevel = logLevel
        self.drift = drift
    }
}

extension AgentConfig {
    /// `gossip`: the member this agent runs, as the controller's (`DaemonConfig.Gossip`).
    public typealias Gossip = DaemonConfig.Gossip

    /// `trust`: the operator keys a document must be signed with, as the controller's.
    public typealias Trust = DaemonConfig.Trust

    /// `status`: local status and Prometheus /metrics over plain HTTP, without authentication.
    public struct Status: Sendable, Equatable {
        /// Default of `listen`: loopback only.
        public static let defaultListen = Endpoint(address: .v4(0x7F00_0001), port: 9110)

        /// `status.listen`, default `127.0.0.1:9110`. Any other address is allowed with a warning: it
        /// serves status to whoever can reach it.
        public var listen: Endpoint

        public init(listen: Endpoint = Status.defaultListen) {
            self.listen = listen
        }
    }

    /// `log_level`: the least severe message logged, as the controller's.
    public typealias LogLevel = DaemonConfig.LogLevel

    /// `drift`: the periodic passes that find and repair what changed behind the agent's back (a deleted
    /// address, a sysctl reset, an IPVS service edited with ipvsadm): the longest the agent goes without
    /// looking, and the longest it waits before retrying what failed.
    public struct Drift: Sendable, Equatable {
        public static let sysctlIntervalRange: ClosedRange<Duration> = .milliseconds(50) ... .seconds(60)
        public static let ipvsIntervalRange: ClosedRange<Duration> = .milliseconds(100) ... .seconds(600)
        public static let retryMaxRange: ClosedRange<Duration> = .seconds(1) ... .seconds(600)

        /// `drift.sysctl_interval`, default 250 ms, 50 ms–60 s: the pass over sysctls and addresses.
        public var sysctlInterval: Duration
        /// `drift.ipvs_interval`, default 1 s, 100 ms–10 m: the pass over IPVS services and
        /// destinations, a dump that grows with the table, hence the longer default.
        public var ipvsInterval: Duration
        /// `drift.retry_max`, default 30 s, 1 s–10 m: the longest backoff between retries of an action
        /// that keeps failing.
        public var retryMax: Duration

        public init(sysctlInterval: Duration = .milliseconds(250), ipvsInterval: Duration = .seconds(1),
                    retryMax: Duration = .seconds(30)) {
            self.sysctlInterval = sysctlInterval
            self.ipvsInterval = ipvsInterval
            self.retryMax = retryMax
        }
    }
}
