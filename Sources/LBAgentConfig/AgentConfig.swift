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
    public static let defaultKeyring = "/etc/lb/cluster.keyring"
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
    /// `gossip`: the member this agent runs (LBGossipService), one port for UDP and TCP.
    public struct Gossip: Sendable, Equatable {
        /// `gossip.listen`, required: the ADDRESS:PORT gossip binds for UDP and TCP. A wildcard
        /// (`0.0.0.0`, `[::]`) needs `advertise`.
        public var listen: Endpoint
        /// `gossip.advertise`, default: `listen`. The ADDRESS:PORT peers are told to use (behind NAT, or
        /// when `listen` is a wildcard). Never a wildcard.
        public var advertise: Endpoint?
        /// `gossip.seeds`, default empty (the first member): members to join through. The loader drops
        /// this node's own address and repeats, with a warning each.
        public var seeds: [Endpoint]
        /// `gossip.profile`, default `lan`.
        public var profile: Profile

        public init(listen: Endpoint, advertise: Endpoint? = nil, seeds: [Endpoint] = [], profile: Profile = .lan) {
            self.listen = listen
            self.advertise = advertise
            self.seeds = seeds
            self.profile = profile
        }

        /// The address peers reach this node at: `advertise`, or `listen` without one.
        public var advertised: Endpoint { advertise ?? listen }

        /// Gossip timing, as LBGossip's `GossipConfig` presets of the same names.
        public enum Profile: String, Sendable, CaseIterable {
            /// memberlist's LAN defaults (`GossipConfig.lan`): a probe every second with a 500 ms timeout.
            case lan
            /// One rack or a lab (`GossipConfig.fast`): a probe every 500 ms with a 200 ms timeout; about
            /// half the LAN detection time at twice the probe traffic.
            case fast
        }
    }

    /// `trust`: the operator keys a document must be signed with.
    public struct Trust: Sendable, Equatable {
        /// Default of `keys`.
        public static let defaultKeys = "/etc/lb/operators.pub"

        /// `trust.keys`, default `/etc/lb/operators.pub`: the trusted operator public keys, one
        /// `lb-public-key` line each (docs/keys.md). An absolute path.
        public var keys: String
        /// `trust.threshold`, default 1, at least 1: how many distinct trusted keys must have signed a
        /// document. A threshold above the number of distinct keys in `keys` is refused when the daemon
        /// builds its trust policy (the file is not read here).
        public var threshold: Int

        public init(keys: String = Trust.defaultKeys, threshold: Int = 1) {
            self.keys = keys
            self.threshold = threshold
        }
    }

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

    /// `log_level`: the least severe message logged. The names are swift-log's `Logger.Level` raw values.
    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }

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
