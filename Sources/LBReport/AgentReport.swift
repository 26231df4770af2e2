import Foundation

/// What a node tells the cluster about itself over gossip: versioned JSON of at most 1,024 bytes
/// (docs/agent.md). Keys are short because every byte is gossiped to every member; when a director's
/// report would not fit, per-destination detail goes first, then per-service counts, so the summary
/// (version, convergence, VRRP, repairs, errors) always arrives.
public struct AgentReport: Codable, Sendable, Equatable {
    /// The format version of this report: readers skip reports of a version they do not know.
    public static let formatVersion = 1
    public static let maximumBytes = 1024

    public var format: Int = AgentReport.formatVersion
    public var node: String
    /// Unix time of the report, in seconds.
    public var at: Int
    /// The document version applied (nil before any).
    public var version: UInt64?
    /// Its digest, first 16 hex digits.
    public var digest: String?
    /// The kernel holds everything the document asks of this node.
    public var converged: Bool
    public var roles: [String]
    public var vrrp: [VRRP]
    public var services: [ServiceCounts]?
    /// Drift repairs since start, by kind.
    public var repairs: [String: Int]
    public var error: String?
    public var refused: Refusal?
    /// Drains that finished, and how many connections were still open then.
    public var drained: [Drained]?
    /// The connection-table handover between directors (docs/connection-sync.md); kept to the last
    /// shedding step, since a returning director waits for it before it takes its VIPs back.
    public var handover: Handover?

    public init(node: String, at: Int, version: UInt64?, digest: String?, converged: Bool, roles: [String], vrrp: [VRRP],
                services: [ServiceCounts]?, repairs: [String: Int], error: String?, refused: Refusal?, drained: [Drained]? = nil,
                handover: Handover? = nil) {
        self.node = node
        self.at = at
        self.version = version
        self.digest = digest
        self.converged = converged
        self.roles = roles
        self.vrrp = vrrp
        self.services = services
        self.repairs = repairs
        self.error = error
        self.refused = refused
        self.drained = drained
        self.handover = handover
    }

    /// One VRRP instance as this director runs it.
    public struct VRRP: Codable, Sendable, Equatable {
        public var name: String
        public var vrid: Int
        public var state: String
        public var priority: Int

        public init(name: String, vrid: Int, state: String, priority: Int) {
            self.name = name
            self.vrid = vrid
            self.state = state
            self.priority = priority
        }
    }

    /// Connection counts of one IPVS service, with its destinations when they fit.
    public struct ServiceCounts: Codable, Sendable, Equatable {
        public var key: String
        public var active: UInt32
        public var inactive: UInt32
        public var destinations: [Destination]?

        public init(key: String, active: UInt32, inactive: UInt32, destinations: [Destination]?) {
            self.key = key
            self.active = active
            self.inactive = inactive
            self.destinations = destinations
        }
    }

    /// One real server as this director sees it.
    public struct Destination: Codable, Sendable, Equatable {
        public var endpoint: String
        public var weight: Int32
        public var active: UInt32
        public var inactive: UInt32
        public var health: String

        public init(endpoint: String, weight: Int32, active: UInt32, inactive: UInt32, health: String) {
            self.endpoint = endpoint
            self.weight = weight
            self.active = active
            self.inactive = inactive
            self.health = health
        }
    }

    /// A drained real server, removed when idle or at its deadline.
    public struct Drained: Codable, Sendable, Equatable {
        public var service: String
        public var endpoint: String
        public var open: Int
        public var deadline: Bool

        public init(service: String, endpoint: String, open: Int, deadline: Bool) {
            self.service = service
            self.endpoint = endpoint
            self.open = open
            self.deadline = deadline
        }

        enum CodingKeys: String, CodingKey { case service = "s", endpoint = "e", open = "o", deadline = "dl" }
    }

    /// A director's side of the handover: the table it asks for, and the tables it gave.
    public struct Handover: Codable, Sendable, Equatable {
        /// The token of this director's open request for the master's table.
        public var want: String?
        /// The requests this director answered as master.
        public var gave: [Gave]?

        public init(want: String? = nil, gave: [Gave]? = nil) {
            self.want = want
            self.gave = gave
        }

        /// One answered request: to whom, its token, and how many entries were sent.
        public struct Gave: Codable, Sendable, Equatable {
            public var to: String
            public var token: String
            public var entries: Int

            public init(to: String, token: String, entries: Int) {
                self.to = to
                self.token = token
                self.entries = entries
            }

            enum CodingKeys: String, CodingKey { case to, token = "tk", entries = "e" }
        }

        enum CodingKeys: String, CodingKey { case want = "w", gave = "g" }
    }

    /// The last document this node refused.
    public struct Refusal: Codable, Sendable, Equatable {
        public var version: UInt64
        public var reason: String
        public var from: String?

        public init(version: UInt64, reason: String, from: String?) {
            self.version = version
            self.reason = reason
            self.from = from
        }
    }

    enum CodingKeys: String, CodingKey {
        case format = "v", node = "n", at = "t", version = "ver", digest = "dig", converged = "ok", roles = "r"
        case vrrp = "vrrp", services = "svc", repairs = "fix", error = "err", refused = "ref", drained = "drn"
        case handover = "ho"
    }

    /// The report's bytes, at most `maximumBytes`: detail is shed until it fits.
    public func encoded() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var r = self
        let steps: [(inout AgentReport) -> Void] = [
            { _ in },
            { r in r.services = r.services?.map { var s = $0; s.destinations = nil; return s } },
            { r in r.services = nil },
            { r in r.drained = r.drained.map { Array($0.prefix(4)) } },
            { r in r.error = r.error.map { String($0.prefix(160)) } },
            { r in r.refused?.from = nil; r.vrrp = Array(r.vrrp.prefix(8)) },
            { r in r.error = r.error.map { String($0.prefix(40)) }; r.vrrp = [] },
        ]
        // A service entry takes at least 40 bytes and a destination 60: skip the encodings that cannot
        // fit, since a director with thousands of services would otherwise encode megabytes per report.
        let services = r.services?.count ?? 0, destinations = r.services?.reduce(0) { $0 + ($1.destinations?.count ?? 0) } ?? 0
        for (i, step) in steps.enumerated() {
            step(&r)
            if i == 0 && destinations * 60 + services * 40 > Self.maximumBytes { continue }
            if i == 1 && services * 40 > Self.maximumBytes { continue }
            if let bytes = try? encoder.encode(r), bytes.count <= Self.maximumBytes { return Array(bytes) }
        }
        return Array(#"{"v":1,"n":"?","t":0,"ok":false,"r":[],"vrrp":[],"fix":{},"err":"report too large"}"#.utf8)
    }

    public static func decode(_ bytes: [UInt8]) -> AgentReport? {
        guard let r = try? JSONDecoder().decode(AgentReport.self, from: Data(bytes)), r.format == formatVersion else { return nil }
        return r
    }
}
