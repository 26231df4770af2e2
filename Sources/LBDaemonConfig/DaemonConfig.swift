import LBSpec

/// The sections lb-agent's and lb-controller's configuration files share: `gossip`, `keyring`, `trust`
/// and `log_level` mean the same in both, so they are one set of types, read, checked and written once.
public enum DaemonConfig {
    /// Default of `keyring`.
    public static let defaultKeyring = "/etc/lb/cluster.keyring"

    /// `gossip`: the member this daemon runs (LBGossipService), one port for UDP and TCP.
    public struct Gossip: Sendable, Equatable {
        /// `gossip.listen`, required: the ADDRESS:PORT gossip binds for UDP and TCP. A wildcard
        /// (`0.0.0.0`, `[::]`) needs `advertise`.
        public var listen: Endpoint
        /// `gossip.advertise`, default: `listen`. The ADDRESS:PORT peers are told to use (behind NAT, or
        /// when `listen` is a wildcard). Never a wildcard.
        public var advertise: Endpoint?
        /// `gossip.seeds`, default empty (the first member): members to join through. The loader drops
        /// this member's own address and repeats, with a warning each.
        public var seeds: [Endpoint]
        /// `gossip.profile`, default `lan`.
        public var profile: Profile

        public init(listen: Endpoint, advertise: Endpoint? = nil, seeds: [Endpoint] = [], profile: Profile = .lan) {
            self.listen = listen
            self.advertise = advertise
            self.seeds = seeds
            self.profile = profile
        }

        /// The address peers reach this member at: `advertise`, or `listen` without one.
        public var advertised: Endpoint { advertise ?? listen }

        /// The seeds worth contacting: without this member's own address (`listen` or `advertised`) and
        /// without repeats, in the order written.
        public var usefulSeeds: [Endpoint] {
            var seen: Set<Endpoint> = []
            return seeds.filter { seed in seed != listen && seed != advertised && seen.insert(seed).inserted }
        }

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

    /// `log_level`: the least severe message logged. The names are swift-log's `Logger.Level` raw values.
    public enum LogLevel: String, Sendable, CaseIterable {
        case trace, debug, info, notice, warning, error, critical
    }
}
