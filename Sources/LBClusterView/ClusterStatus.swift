import Foundation

/// The cluster as one controller sees it at one moment: what `GET /v1/status` answers, what `lbctl status`
/// prints and what the status page draws. Plain Codable values; `ClusterView` makes them.
public struct ClusterStatus: Codable, Sendable, Equatable {
    public var cluster: String
    /// The controller that answered (its gossip name).
    public var controller: String
    public var generatedAt: Date
    /// The newest accepted version (nil before the first apply).
    public var head: VersionSummary?
    /// Every node the head's spec names, then every other member gossip knows, by name.
    public var nodes: [NodeStatus]
    /// Every VIP of the head's spec with the director that is master of it.
    public var vips: [VIPStatus]
    /// Per version that some node still reports or that is not converged yet, newest first.
    public var convergence: [Convergence]
    /// Alarms open now, oldest first.
    public var alarms: [Alarm]

    public init(cluster: String, controller: String, generatedAt: Date, head: VersionSummary? = nil, nodes: [NodeStatus] = [],
                vips: [VIPStatus] = [], convergence: [Convergence] = [], alarms: [Alarm] = []) {
        self.cluster = cluster
        self.controller = controller
        self.generatedAt = generatedAt
        self.head = head
        self.nodes = nodes
        self.vips = vips
        self.convergence = convergence
        self.alarms = alarms
    }
}

/// One accepted version, as history lists it.
public struct VersionSummary: Codable, Sendable, Equatable {
    public var version: UInt64
    /// `sha256:…` of the signed payload.
    public var digest: String
    /// The digest of the version it extends (nil for the first).
    public var previous: String?
    public var acceptedAt: Date
    /// Key ids of the signers.
    public var signers: [String]
    /// One line of what changed.
    public var summary: String

    public init(version: UInt64, digest: String, previous: String?, acceptedAt: Date, signers: [String], summary: String) {
        self.version = version
        self.digest = digest
        self.previous = previous
        self.acceptedAt = acceptedAt
        self.signers = signers
        self.summary = summary
    }
}

/// One node: its gossip membership and its latest report.
public struct NodeStatus: Codable, Sendable, Equatable {
    public var name: String
    /// Gossip's view: `alive`, `suspect`, `dead`, `left`, or `unknown` (named by the spec, never seen).
    public var member: String
    /// Its gossip address, when known.
    public var address: String?
    /// Whether the head's spec names this node (controllers and strangers are not expected to converge).
    public var expected: Bool
    /// `director`, `real-server`, `controller`…
    public var roles: [String]
    /// The version it applied and whether its kernel holds all of it.
    public var version: UInt64?
    public var converged: Bool
    /// When its latest report was made.
    public var reportedAt: Date?
    public var vrrp: [VRRPState]
    /// Active and inactive connections over every IPVS service it runs.
    public var activeConnections: Int
    public var inactiveConnections: Int
    /// Real servers as this director's checks see them.
    public var destinations: [DestinationHealth]
    /// Drift repairs since the agent started, by kind, and in total.
    public var repairs: [String: Int]
    public var repairsTotal: Int
    /// The agent's last error, or the last document it refused.
    public var lastError: String?

    public init(name: String, member: String, address: String? = nil, expected: Bool, roles: [String] = [], version: UInt64? = nil,
                converged: Bool = false, reportedAt: Date? = nil, vrrp: [VRRPState] = [], activeConnections: Int = 0,
                inactiveConnections: Int = 0, destinations: [DestinationHealth] = [], repairs: [String: Int] = [:], lastError: String? = nil) {
        self.name = name
        self.member = member
        self.address = address
        self.expected = expected
        self.roles = roles
        self.version = version
        self.converged = converged
        self.reportedAt = reportedAt
        self.vrrp = vrrp
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
        self.destinations = destinations
        self.repairs = repairs
        self.repairsTotal = repairs.values.reduce(0, +)
        self.lastError = lastError
    }
}

/// One VRRP instance on one director.
public struct VRRPState: Codable, Sendable, Equatable {
    /// The VIP's name.
    public var name: String
    public var routerID: Int
    /// `MASTER`, `BACKUP`, `FAULT`, `INIT`.
    public var state: String
    public var priority: Int

    // `routerId` so that the API's snake_case JSON (`router_id`) reads back.
    enum CodingKeys: String, CodingKey { case name, routerID = "routerId", state, priority }

    public init(name: String, routerID: Int, state: String, priority: Int) {
        self.name = name
        self.routerID = routerID
        self.state = state
        self.priority = priority
    }
}

/// One real server behind one service, as one director checks it.
public struct DestinationHealth: Codable, Sendable, Equatable {
    /// The service, `tcp 192.168.1.200:443`.
    public var service: String
    /// The real server, `10.0.0.11:443`.
    public var endpoint: String
    /// `up`, `down`, `unknown`, `drain`…, as the agent reports it.
    public var health: String
    public var weight: Int
    public var active: Int

    public init(service: String, endpoint: String, health: String, weight: Int, active: Int) {
        self.service = service
        self.endpoint = endpoint
        self.health = health
        self.weight = weight
        self.active = active
    }
}

/// One VIP and who holds it.
public struct VIPStatus: Codable, Sendable, Equatable {
    public var name: String
    public var address: String
    public var routerID: Int
    /// The director reporting MASTER (the first, when there are several: then `masters` has them all).
    public var master: String?
    /// Every director reporting MASTER now: more than one is a split brain.
    public var masters: [String]
    /// The spec's directors of this VIP, by priority.
    public var directors: [String]

    enum CodingKeys: String, CodingKey { case name, address, routerID = "routerId", master, masters, directors }

    public init(name: String, address: String, routerID: Int, master: String?, masters: [String], directors: [String]) {
        self.name = name
        self.address = address
        self.routerID = routerID
        self.master = master
        self.masters = masters
        self.directors = directors
    }
}

/// How far one version has spread.
public struct Convergence: Codable, Sendable, Equatable {
    public var version: UInt64
    /// Nodes of the spec that report this version with their kernel converged.
    public var converged: [String]
    /// Nodes that report this version but are not converged yet.
    public var applying: [String]
    /// Nodes of the spec not on this version yet (older, refused, silent), with why when known.
    public var pending: [Laggard]
    /// Every node of the spec is converged on it.
    public var complete: Bool

    public init(version: UInt64, converged: [String], applying: [String], pending: [Laggard], complete: Bool) {
        self.version = version
        self.converged = converged
        self.applying = applying
        self.pending = pending
        self.complete = complete
    }
}

/// A node not yet on a version, and what it says.
public struct Laggard: Codable, Sendable, Equatable {
    public var node: String
    /// The version it reports (nil: none yet).
    public var version: UInt64?
    /// Its error or refusal, or its membership when it is not alive.
    public var reason: String?

    public init(node: String, version: UInt64?, reason: String?) {
        self.node = node
        self.version = version
        self.reason = reason
    }
}

/// Something wrong now that an operator must see, open until the condition clears.
public struct Alarm: Codable, Sendable, Equatable {
    /// Stable identity, e.g. `split-brain/vip-ws` (one alarm per subject).
    public var id: String
    /// `split-brain`.
    public var kind: String
    public var since: Date
    public var message: String
    /// The nodes involved.
    public var nodes: [String]

    public init(id: String, kind: String, since: Date, message: String, nodes: [String]) {
        self.id = id
        self.kind = kind
        self.since = since
        self.message = message
        self.nodes = nodes
    }
}

/// One entry of the cluster's timeline, as the API streams it and notifications carry it.
public struct ClusterEvent: Codable, Sendable, Equatable {
    /// The history's id (0 before it is stored).
    public var id: Int64
    public var at: Date
    /// One of `Kind`'s raw values.
    public var kind: String
    public var node: String?
    public var version: UInt64?
    public var message: String
    /// The VRRP router id of a `vrrp-transition`, so a group's transitions can be left out of e-mail.
    /// In-process only (not in the history, the API or notification bodies, which carry the message).
    public var routerID: Int? = nil

    enum CodingKeys: String, CodingKey { case id, at, kind, node, version, message }

    /// Every kind of event, with its stable name.
    public enum Kind: String, Sendable, CaseIterable {
        case applied = "version-accepted"
        case converged = "apply-converged"
        case timedOut = "apply-timed-out"
        case vrrp = "vrrp-transition"
        case serverDown = "real-server-down"
        case serverUp = "real-server-up"
        case driftRepaired = "drift-repaired"
        case refused = "document-refused"
        case nodeJoined = "node-joined"
        case nodeLost = "node-lost"
        case nodeLeft = "node-left"
        case splitBrain = "split-brain"
        case splitBrainCleared = "split-brain-cleared"
        case nodeProgress = "node-progress"
    }

    public init(id: Int64 = 0, at: Date, kind: Kind, node: String? = nil, version: UInt64? = nil, message: String, routerID: Int? = nil) {
        self.id = id
        self.at = at
        self.kind = kind.rawValue
        self.node = node
        self.version = version
        self.message = message
        self.routerID = routerID
    }
}

/// The one JSON form of the API's bodies: ISO-8601 times, sorted keys, so equal values give equal bytes.
public enum APIJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .iso8601
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }

    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .iso8601
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
