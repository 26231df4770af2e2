#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The whole cluster, as the operator declares it: nodes, VIPs with their VRRP groups and services.
public struct ClusterSpec: Codable, Sendable, Equatable {
    /// Cluster name; documents for another cluster are refused by agents.
    public var cluster: String
    public var nodes: [Node]
    public var vips: [VIP]
    public var ipvs: IPVSSettings
    public var notifications: Notifications

    public init(cluster: String, nodes: [Node] = [], vips: [VIP] = [],
                ipvs: IPVSSettings = .init(), notifications: Notifications = .init()) {
        self.cluster = cluster
        self.nodes = nodes
        self.vips = vips
        self.ipvs = ipvs
        self.notifications = notifications
    }

    public func node(named name: String) -> Node? { nodes.first { $0.name == name } }
}

/// A host running lb-agent: a director, a real server, or both (for different VIPs).
public struct Node: Codable, Sendable, Equatable {
    public var name: String
    /// The node's own address; with a prefix ("192.168.1.100/24") it also states the node's subnet.
    public var address: CIDR
    /// The interface that faces clients (VRRP, gratuitous ARP, arp_ignore/arp_announce).
    public var interface: String

    public init(name: String, address: CIDR, interface: String = Node.defaultInterface) {
        self.name = name
        self.address = address
        self.interface = interface
    }

    public static let defaultInterface = "eth0"

    /// True when the address was written with a prefix shorter than a host route.
    public var hasSubnet: Bool { address.prefixLength < address.address.bitWidth }
}

/// A virtual IP: the address clients use, the VRRP group that moves it, and the services behind it.
public struct VIP: Codable, Sendable, Equatable {
    public var name: String
    /// The VIP with the prefix it gets on the directors (on real servers it is always a host route).
    public var address: CIDR
    /// The directors' interface the VIP is added to when it is not the one the group's adverts use
    /// (keepalived's `virtual_ipaddress { … dev IF }`); nil = that one.
    public var interface: String?
    public var vrrp: VRRPGroup
    public var services: [VirtualService]

    public init(name: String, address: CIDR, interface: String? = nil, vrrp: VRRPGroup, services: [VirtualService] = []) {
        self.name = name
        self.address = address
        self.interface = interface
        self.vrrp = vrrp
        self.services = services
    }
}

/// One VRRP virtual router; VIPs naming the same router id with identical settings share one instance.
public struct VRRPGroup: Codable, Sendable, Equatable {
    public var routerID: Int
    public var version: Int
    /// Advertisement interval in centiseconds (v2 allows whole seconds only).
    public var advertIntervalCentiseconds: Int
    /// Simple text password (VRRPv2 only, at most 8 bytes); nil means no authentication.
    public var authPassword: String?
    public var preempt: Bool
    public var preemptDelaySeconds: Int
    /// Unicast to the other directors' addresses instead of multicast to 224.0.0.18.
    public var unicast: Bool
    public var gratuitousARP: GratuitousARP
    /// Commands every director of the group runs, whose results move its priority or put it in FAULT.
    public var trackScripts: [TrackScript]
    /// Interfaces every director of the group tracks, whose links move its priority or put it in FAULT.
    public var trackInterfaces: [TrackInterface]
    /// Commands each director runs when its instance enters a state.
    public var notify: StateScripts
    /// The sync group (keepalived's vrrp_sync_group) whose VRRP groups change state together on each
    /// director: master together, backup together, in FAULT together.
    public var syncGroup: String?
    /// Whether the spec's e-mail notifications include this group's VRRP transitions (keepalived's
    /// smtp_alert of the instance); the other channels always do.
    public var email: Bool
    public var directors: [Director]

    // SpecJSON's snake_case round trip turns "router_id" back into "routerId", so acronyms are spelled so.
    enum CodingKeys: String, CodingKey {
        case routerID = "routerId", version, advertIntervalCentiseconds, authPassword, preempt, preemptDelaySeconds
        case unicast, gratuitousARP = "gratuitousArp", trackScripts, trackInterfaces, notify, syncGroup, email, directors
    }

    public init(routerID: Int, version: Int = 2, advertIntervalCentiseconds: Int = 100,
                authPassword: String? = nil, preempt: Bool = true, preemptDelaySeconds: Int = 0,
                unicast: Bool = false, gratuitousARP: GratuitousARP = .init(), trackScripts: [TrackScript] = [],
                trackInterfaces: [TrackInterface] = [], notify: StateScripts = .init(), syncGroup: String? = nil, email: Bool = true, directors: [Director] = []) {
        self.routerID = routerID
        self.version = version
        self.advertIntervalCentiseconds = advertIntervalCentiseconds
        self.authPassword = authPassword
        self.preempt = preempt
        self.preemptDelaySeconds = preemptDelaySeconds
        self.unicast = unicast
        self.gratuitousARP = gratuitousARP
        self.trackScripts = trackScripts
        self.trackInterfaces = trackInterfaces
        self.notify = notify
        self.syncGroup = syncGroup
        self.email = email
        self.directors = directors
    }

    // The track scripts, interfaces, state scripts, sync group and an e-mail opt-out are written only when there are some, and optional when read: a group without them
    // has the JSON it had before they existed, so documents signed then decode and keep their digest.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        routerID = try c.decode(Int.self, forKey: .routerID)
        version = try c.decode(Int.self, forKey: .version)
        advertIntervalCentiseconds = try c.decode(Int.self, forKey: .advertIntervalCentiseconds)
        authPassword = try c.decodeIfPresent(String.self, forKey: .authPassword)
        preempt = try c.decode(Bool.self, forKey: .preempt)
        preemptDelaySeconds = try c.decode(Int.self, forKey: .preemptDelaySeconds)
        unicast = try c.decode(Bool.self, forKey: .unicast)
        gratuitousARP = try c.decode(GratuitousARP.self, forKey: .gratuitousARP)
        trackScripts = try c.decodeIfPresent([TrackScript].self, forKey: .trackScripts) ?? []
        trackInterfaces = try c.decodeIfPresent([TrackInterface].self, forKey: .trackInterfaces) ?? []
        notify = try c.decodeIfPresent(StateScripts.self, forKey: .notify) ?? .init()
        syncGroup = try c.decodeIfPresent(String.self, forKey: .syncGroup)
        email = try c.decodeIfPresent(Bool.self, forKey: .email) ?? true
        directors = try c.decode([Director].self, forKey: .directors)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(routerID, forKey: .routerID)
        try c.encode(version, forKey: .version)
        try c.encode(advertIntervalCentiseconds, forKey: .advertIntervalCentiseconds)
        try c.encodeIfPresent(authPassword, forKey: .authPassword)
        try c.encode(preempt, forKey: .preempt)
        try c.encode(preemptDelaySeconds, forKey: .preemptDelaySeconds)
        try c.encode(unicast, forKey: .unicast)
        try c.encode(gratuitousARP, forKey: .gratuitousARP)
        if !trackScripts.isEmpty { try c.encode(trackScripts, forKey: .trackScripts) }
        if !trackInterfaces.isEmpty { try c.encode(trackInterfaces, forKey: .trackInterfaces) }
        if !notify.isEmpty { try c.encode(notify, forKey: .notify) }
        try c.encodeIfPresent(syncGroup, forKey: .syncGroup)
        if !email { try c.encode(email, forKey: .email) }
        try c.encode(directors, forKey: .directors)
    }

    /// The group without its directors list: what must agree when two VIPs share one router id.
    public var settingsIgnoringDirectors: VRRPGroup {
        var copy = self
        copy.directors = []
        return copy
    }
}

/// How a new master announces the VIP: a burst at once, a second burst later, optional refreshes.
public struct GratuitousARP: Codable, Sendable, Equatable {
    /// ARPs per burst (keepalived's garp_master_repeat).
    public var count: Int
    /// Seconds before the second burst (keepalived's garp_master_delay); 0 = no second burst.
    public var repeatDelaySeconds: Int
    /// Seconds between refresh bursts while master (keepalived's garp_master_refresh); 0 = off.
    public var refreshSeconds: Int

    public init(count: Int = 5, repeatDelaySeconds: Int = 5, refreshSeconds: Int = 0) {
        self.count = count
        self.repeatDelaySeconds = repeatDelaySeconds
        self.refreshSeconds = refreshSeconds
    }
}

/// A node's membership in a VRRP group.
public struct Director: Codable, Sendable, Equatable {
    public var node: String
    public var priority: Int
    /// Overrides the node's client-facing interface for this group.
    public var interface: String?

    public init(node: String, priority: Int, interface: String? = nil) {
        self.node = node
        self.priority = priority
        self.interface = interface
    }
}

/// Transport protocol of a virtual service.
public enum ServiceProtocol: String, Codable, Sendable, CaseIterable { case tcp, udp }

/// IPVS scheduler.
public enum Scheduler: String, Codable, Sendable, CaseIterable {
    case rr, wrr, lc, wlc, sh, mh
    /// Only the hashing schedulers take flags.
    public var acceptsFlags: Bool { self == .sh || self == .mh }
}

/// Flags of the sh and mh schedulers (sh-fallback/mh-fallback, sh-port/mh-port).
public enum SchedulerFlag: String, Codable, Sendable, CaseIterable {
    /// Pick another real server when the hashed one is unavailable (weight 0 or overloaded).
    case fallback
    /// Include the source port in the hash.
    case port
}

/// IPVS packet forwarding method.
public enum Forwarding: String, Codable, Sendable, CaseIterable {
    /// Direct routing (gatewaying): real servers answer clients directly; they need the VIP on lo.
    case dr
    /// Masquerading: the director rewrites addresses; real servers route replies through it.
    case nat
    /// IP-in-IP tunnelling.
    case tun
}

/// Per-client persistence ("sticky" connections).
public struct Persistence: Codable, Sendable, Equatable {
    public var timeoutSeconds: Int
    /// Netmask grouping clients; 255.255.255.255 means per client address.
    public var netmask: IPAddress

    public init(timeoutSeconds: Int, netmask: IPAddress = .v4(.max)) {
        self.timeoutSeconds = timeoutSeconds
        self.netmask = netmask
    }
}

/// A TCP/UDP endpoint.
public struct Endpoint: Codable, Sendable, Equatable, Hashable, CustomStringConvertible {
    public var address: IPAddress
    public var port: Int

    public init(address: IPAddress, port: Int) {
        self.address = address
        self.port = port
    }

    /// Parses `192.168.1.50:8080` or `[2001:db8::50]:8080`, the form `description` writes. The port must be
    /// a number but is not range-checked here, so a caller can say "port 0 is out of range" rather than
    /// "not address:port". A bare address, brackets without a port, unbracketed IPv6 with a port, or a
    /// host name is nil.
    public init?(_ text: String) {
        let host: Substring
        let port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[close...].dropFirst()
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            port = text[text.index(after: colon)...]
            // Without brackets an IPv6 address cannot be told apart from its port.
            guard !host.contains(":") else { return nil }
        } else {
            return nil
        }
        guard let address = IPAddress(String(host)), let p = Int(port) else { return nil }
        self.init(address: address, port: p)
    }

    public var description: String {
        address.family == .ipv6 ? "[\(address)]:\(port)" : "\(address):\(port)"
    }
}

/// keepalived's `virtual_server fwmark N`: one IPVS service for every packet that carries firewall mark
/// `mark`, so the ports listed share real servers and one persistence table (a client's port 80 and 443
/// reach the same real server).
public struct FirewallMark: Codable, Sendable, Equatable {
    public var mark: Int
    /// The VIP's ports whose packets lb marks, with the service's protocol, in its own nftables table.
    /// Empty: lb marks nothing, and whatever rules the operator keeps mark the packets (keepalived's way).
    public var ports: [Int]

    public init(mark: Int, ports: [Int] = []) {
        self.mark = mark
        self.ports = ports
    }

    /// How a firewall-mark service is named wherever services are keyed by text (plans, health reports,
    /// the kernel's table): "fwmark 1/ipv4".
    public static func serviceKey(_ mark: some BinaryInteger, family: IPAddress.Family) -> String {
        "fwmark \(mark)/\(family.rawValue)"
    }
}

/// A virtual service: VIP:port/protocol balanced over real servers by IPVS.
public struct VirtualService: Sendable, Equatable {
    /// The service's port; for an fwmark service, the port real servers and health checks default to.
    public var port: Int
    public var `protocol`: ServiceProtocol
    public var scheduler: Scheduler
    public var schedulerFlags: [SchedulerFlag]
    public var forwarding: Forwarding
    public var persistence: Persistence?
    /// Minimum number of healthy real servers for the service to count as up.
    public var quorum: Int
    /// Served (weight 1) only while fewer than `quorum` real servers are healthy.
    public var sorryServer: Endpoint?
    /// How packets reach the sorry server (keepalived's sorry_server_lvs_method); nil is the service's way.
    public var sorryServerForwarding: Forwarding?
    /// keepalived's sorry_server_inhibit: while not needed the sorry server stays an IPVS destination at
    /// weight 0 (its connections continue) instead of being removed.
    public var sorryServerInhibit: Bool
    public var healthCheck: HealthCheck?
    /// keepalived's inhibit_on_failure: a real server that fails its health check stays an IPVS destination
    /// with weight 0 (its connections continue) instead of being removed. Real servers may override it.
    public var inhibitOnFailure: Bool
    /// keepalived's ops (IPVS one-packet scheduling): every UDP datagram is scheduled on its own and no
    /// connection entry outlives it. UDP services only.
    public var ops: Bool
    /// keepalived's quorum_up: a shell command each director runs when the service gains quorum.
    public var quorumUp: String?
    /// keepalived's quorum_down: a shell command each director runs when the service loses quorum.
    public var quorumDown: String?
    /// keepalived's hysteresis: quorum is gained at `quorum + hysteresis` healthy real servers and lost
    /// below `quorum - hysteresis` (or at none), so a server flapping at the edge does not flap the service.
    public var hysteresis: Int
    /// keepalived's alpha: a real server counts as failed until its first check passes, instead of being
    /// left as the kernel has it and counted as up.
    public var alpha: Bool
    /// keepalived's omega: `quorumDown` also runs when the agent stops.
    public var omega: Bool
    /// Set: the service is IPVS's firewall-mark service of this mark instead of VIP:port/protocol.
    public var fwmark: FirewallMark?
    public var realServers: [RealServer]

    public init(port: Int, protocol: ServiceProtocol = .tcp, scheduler: Scheduler = .wrr,
                schedulerFlags: [SchedulerFlag] = [], forwarding: Forwarding = .dr,
                persistence: Persistence? = nil, quorum: Int = 1, sorryServer: Endpoint? = nil,
                healthCheck: HealthCheck? = nil, realServers: [RealServer] = [], inhibitOnFailure: Bool = false,
                sorryServerForwarding: Forwarding? = nil, sorryServerInhibit: Bool = false, ops: Bool = false,
                quorumUp: String? = nil, quorumDown: String? = nil, hysteresis: Int = 0, alpha: Bool = false, omega: Bool = false, fwmark: FirewallMark? = nil) {
        self.port = port
        self.protocol = `protocol`
        self.scheduler = scheduler
        self.schedulerFlags = schedulerFlags
        self.forwarding = forwarding
        self.persistence = persistence
        self.quorum = quorum
        self.sorryServer = sorryServer
        self.sorryServerForwarding = sorryServerForwarding
        self.sorryServerInhibit = sorryServerInhibit
        self.healthCheck = healthCheck
        self.inhibitOnFailure = inhibitOnFailure
        self.ops = ops
        self.quorumUp = quorumUp
        self.quorumDown = quorumDown
        self.hysteresis = hysteresis
        self.alpha = alpha
        self.omega = omega
        self.fwmark = fwmark
        self.realServers = realServers
    }

    /// Whether a failed health check sets `server`'s weight to 0 rather than removing it: the server's own
    /// setting, else the service's.
    public func inhibitsOnFailure(_ server: RealServer) -> Bool {
        server.inhibitOnFailure ?? inhibitOnFailure
    }

    /// How IPVS forwards to `server`: its own method (keepalived's lvs_method on a real_server), else the service's.
    public func forwarding(of server: RealServer) -> Forwarding {
        server.forwarding ?? forwarding
    }

    /// How IPVS forwards to the sorry server.
    public var sorryForwarding: Forwarding { sorryServerForwarding ?? forwarding }
}

/// A backend of a virtual service: a node of the cluster (which then gets the VIP on lo) or a bare address.
public struct RealServer: Sendable, Equatable {
    public var node: String?
    public var address: IPAddress?
    /// Defaults to the service port; DR cannot remap it.
    public var port: Int?
    public var weight: Int
    /// Taken out of rotation gracefully: the agent holds the destination at weight 0, so its connections
    /// continue and new ones go elsewhere, and removes it once it has none or `drainDeadline` has passed.
    public var drain: Bool
    /// Seconds since 1970-01-01T00:00:00Z after which a draining server is removed with whatever
    /// connections it still has; only with `drain`. Nil waits for the connections however long they last.
    public var drainDeadline: Int64?
    /// Overrides the service's `inhibitOnFailure` for this server; nil takes the service's.
    public var inhibitOnFailure: Bool?
    /// Overrides the service's forwarding for this server (keepalived's lvs_method in a real_server); nil
    /// takes the service's.
    public var forwarding: Forwarding?

    public init(node: String? = nil, address: IPAddress? = nil, port: Int? = nil, weight: Int = 1,
                drain: Bool = false, drainDeadline: Int64? = nil, inhibitOnFailure: Bool? = nil, forwarding: Forwarding? = nil) {
        self.node = node
        self.address = address
        self.port = port
        self.weight = weight
        self.drain = drain
        self.drainDeadline = drainDeadline
        self.inhibitOnFailure = inhibitOnFailure
        self.forwarding = forwarding
    }
}

// The drain and inhibit keys are written only when set, and optional when read: a spec that does not use
// them has the JSON it had before they existed, so documents signed then decode and keep their digest.
extension VirtualService: Codable {
    enum CodingKeys: String, CodingKey {
        case port, `protocol`, scheduler, schedulerFlags, forwarding, persistence, quorum, sorryServer, healthCheck
        case inhibitOnFailure, realServers, sorryServerForwarding, sorryServerInhibit, ops
        case quorumUp, quorumDown, hysteresis, alpha, omega, fwmark
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        port = try c.decode(Int.self, forKey: .port)
        `protocol` = try c.decode(ServiceProtocol.self, forKey: .protocol)
        scheduler = try c.decode(Scheduler.self, forKey: .scheduler)
        schedulerFlags = try c.decode([SchedulerFlag].self, forKey: .schedulerFlags)
        forwarding = try c.decode(Forwarding.self, forKey: .forwarding)
        persistence = try c.decodeIfPresent(Persistence.self, forKey: .persistence)
        quorum = try c.decode(Int.self, forKey: .quorum)
        sorryServer = try c.decodeIfPresent(Endpoint.self, forKey: .sorryServer)
        sorryServerForwarding = try c.decodeIfPresent(Forwarding.self, forKey: .sorryServerForwarding)
        sorryServerInhibit = try c.decodeIfPresent(Bool.self, forKey: .sorryServerInhibit) ?? false
        healthCheck = try c.decodeIfPresent(HealthCheck.self, forKey: .healthCheck)
        inhibitOnFailure = try c.decodeIfPresent(Bool.self, forKey: .inhibitOnFailure) ?? false
        ops = try c.decodeIfPresent(Bool.self, forKey: .ops) ?? false
        quorumUp = try c.decodeIfPresent(String.self, forKey: .quorumUp)
        quorumDown = try c.decodeIfPresent(String.self, forKey: .quorumDown)
        hysteresis = try c.decodeIfPresent(Int.self, forKey: .hysteresis) ?? 0
        alpha = try c.decodeIfPresent(Bool.self, forKey: .alpha) ?? false
        omega = try c.decodeIfPresent(Bool.self, forKey: .omega) ?? false
        fwmark = try c.decodeIfPresent(FirewallMark.self, forKey: .fwmark)
        realServers = try c.decode([RealServer].self, forKey: .realServers)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(port, forKey: .port)
        try c.encode(`protocol`, forKey: .protocol)
        try c.encode(scheduler, forKey: .scheduler)
        try c.encode(schedulerFlags, forKey: .schedulerFlags)
        try c.encode(forwarding, forKey: .forwarding)
        try c.encodeIfPresent(persistence, forKey: .persistence)
        try c.encode(quorum, forKey: .quorum)
        try c.encodeIfPresent(sorryServer, forKey: .sorryServer)
        try c.encodeIfPresent(sorryServerForwarding, forKey: .sorryServerForwarding)
        if sorryServerInhibit { try c.encode(true, forKey: .sorryServerInhibit) }
        try c.encodeIfPresent(healthCheck, forKey: .healthCheck)
        if inhibitOnFailure { try c.encode(true, forKey: .inhibitOnFailure) }
        if ops { try c.encode(true, forKey: .ops) }
        try c.encodeIfPresent(quorumUp, forKey: .quorumUp)
        try c.encodeIfPresent(quorumDown, forKey: .quorumDown)
        if hysteresis != 0 { try c.encode(hysteresis, forKey: .hysteresis) }
        if alpha { try c.encode(true, forKey: .alpha) }
        if omega { try c.encode(true, forKey: .omega) }
        try c.encodeIfPresent(fwmark, forKey: .fwmark)
        try c.encode(realServers, forKey: .realServers)
    }
}

extension RealServer: Codable {
    enum CodingKeys: String, CodingKey { case node, address, port, weight, drain, drainDeadline, inhibitOnFailure, forwarding }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        address = try c.decodeIfPresent(IPAddress.self, forKey: .address)
        port = try c.decodeIfPresent(Int.self, forKey: .port)
        weight = try c.decode(Int.self, forKey: .weight)
        drain = try c.decodeIfPresent(Bool.self, forKey: .drain) ?? false
        drainDeadline = try c.decodeIfPresent(Int64.self, forKey: .drainDeadline)
        inhibitOnFailure = try c.decodeIfPresent(Bool.self, forKey: .inhibitOnFailure)
        forwarding = try c.decodeIfPresent(Forwarding.self, forKey: .forwarding)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(node, forKey: .node)
        try c.encodeIfPresent(address, forKey: .address)
        try c.encodeIfPresent(port, forKey: .port)
        try c.encode(weight, forKey: .weight)
        if drain { try c.encode(true, forKey: .drain) }
        try c.encodeIfPresent(drainDeadline, forKey: .drainDeadline)
        try c.encodeIfPresent(inhibitOnFailure, forKey: .inhibitOnFailure)
        try c.encodeIfPresent(forwarding, forKey: .forwarding)
    }
}

/// How directors decide that a real server is healthy.
public struct HealthCheck: Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// A TCP connect succeeds.
        case tcp
        /// An HTTP GET of every URL (`urls`, else `path`) answers an accepted status (and digest).
        case http
        /// The same over TLS (keepalived's SSL_GET).
        case https
        /// An HTTP/1.1 WebSocket upgrade of `path` answers 101 with a valid Sec-WebSocket-Accept.
        case websocket
        /// `command` exits 0 (run with the real server's address and port as arguments).
        case exec
        /// A UDP datagram (`payload`) draws no ICMP port unreachable, or with `requireReply` a matching reply
        /// (keepalived's UDP_CHECK).
        case udp
        /// A DNS query over UDP (`queryType`, `queryName`) is answered NOERROR (keepalived's DNS_CHECK).
        case dns
        /// An SMTP server greets with 220 and answers HELO with 250 (keepalived's SMTP_CHECK).
        case smtp
        /// An ICMP (ICMPv6) echo request is answered (keepalived's PING_CHECK).
        case ping
    }

    public var kind: Kind
    /// Port to probe; defaults to the real server's port.
    public var port: Int?
    public var path: String
    public var expectStatus: Int
    /// Host header for http, https and websocket checks; defaults to the real server's address.
    public var host: String?
    public var command: String?
    public var intervalMilliseconds: Int
    public var connectTimeoutMilliseconds: Int
    /// Consecutive failures before a real server is marked down.
    public var retries: Int
    public var retryDelayMilliseconds: Int
    /// http and https: the URLs fetched, every one of which must pass; empty means `path` and `expectStatus`.
    public var urls: [HTTPURLCheck]
    /// https: the host name (`host`, or a URL's own) is sent as TLS server name (keepalived's enable_sni).
    public var sni: Bool
    /// https: the server's certificate must chain to `caFile` (else the system's roots) and name the server
    /// name sent or the address.
    public var verifyCertificate: Bool
    /// https with `verifyCertificate`: a PEM file of the certificate authorities trusted.
    public var caFile: String?
    /// exec: exit statuses 2–255 pass and set the server's weight to the status minus 2 (misc_dynamic).
    public var dynamicWeight: Bool
    /// udp: the datagram sent, in keepalived's hex notation; nil sends keepalived's 32-byte filler.
    public var payload: String?
    /// udp: no reply within `connectTimeoutMilliseconds` fails the check instead of passing it.
    public var requireReply: Bool
    /// udp with `requireReply`: hex the reply must begin with, `x` a nibble that matches anything.
    public var reply: String?
    /// udp with `reply`: the shortest reply accepted, in bytes (keepalived's default 0).
    public var minReplyLength: Int?
    /// udp with `reply`: the longest reply accepted, in bytes (keepalived's default 255).
    public var maxReplyLength: Int?
    /// dns: the query's type, one of `DNSQueryType`'s names; nil asks for SOA, keepalived's default.
    public var queryType: String?
    /// dns: the name asked about; nil asks about the root, ".".
    public var queryName: String?
    /// smtp: the name sent in HELO; nil sends keepalived's `smtpchecker.keepalived.org`.
    public var heloName: String?

    public init(kind: Kind, port: Int? = nil, path: String = "/", expectStatus: Int? = nil, host: String? = nil,
                command: String? = nil, intervalMilliseconds: Int = 5000, connectTimeoutMilliseconds: Int = 3000,
                retries: Int = 3, retryDelayMilliseconds: Int = 1000, urls: [HTTPURLCheck] = [], sni: Bool = false,
                verifyCertificate: Bool = false, caFile: String? = nil, dynamicWeight: Bool = false,
                payload: String? = nil, requireReply: Bool = false, reply: String? = nil, minReplyLength: Int? = nil,
                maxReplyLength: Int? = nil, queryType: String? = nil, queryName: String? = nil, heloName: String? = nil) {
        self.kind = kind
        self.port = port
        self.path = path
        self.expectStatus = expectStatus ?? (kind == .websocket ? 101 : 200)
        self.host = host
        self.command = command
        self.intervalMilliseconds = intervalMilliseconds
        self.connectTimeoutMilliseconds = connectTimeoutMilliseconds
        self.retries = retries
        self.retryDelayMilliseconds = retryDelayMilliseconds
        self.urls = urls
        self.sni = sni
        self.verifyCertificate = verifyCertificate
        self.caFile = caFile
        self.dynamicWeight = dynamicWeight
        self.payload = payload
        self.requireReply = requireReply
        self.reply = reply
        self.minReplyLength = minReplyLength
        self.maxReplyLength = maxReplyLength
        self.queryType = queryType
        self.queryName = queryName
        self.heloName = heloName
    }
}

/// Cluster-wide IPVS settings that every director applies.
public struct IPVSSettings: Codable, Sendable, Equatable {
    public var timeouts: IPVSTimeouts
    public var sync: ConnectionSync

    public init(timeouts: IPVSTimeouts = .init(), sync: ConnectionSync = .init()) {
        self.timeouts = timeouts
        self.sync = sync
    }
}

/// IPVS connection-table timeouts in seconds.
public struct IPVSTimeouts: Codable, Sendable, Equatable {
    /// Idle established TCP. The kernel's 900 s drops idle WebSockets; 7260 s outlives Linux's default
    /// 7200 s TCP keepalive, so a connection kept alive only by keepalive probes keeps its entry.
    public var tcp: Int
    public var tcpFin: Int
    public var udp: Int

    public init(tcp: Int = 7260, tcpFin: Int = 120, udp: Int = 300) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

/// IPVS connection synchronisation, so a new master director keeps established connections.
public struct ConnectionSync: Codable, Sendable, Equatable {
    public var enabled: Bool
    public var syncID: Int
    /// Interface for the sync multicast; defaults to each director's client-facing interface.
    public var interface: String?

    enum CodingKeys: String, CodingKey { case enabled, syncID = "syncId", interface }

    public init(enabled: Bool = true, syncID: Int = 0, interface: String? = nil) {
        self.enabled = enabled
        self.syncID = syncID
        self.interface = interface
    }
}

/// Where state changes (VRRP transitions, real servers up/down) are announced.
public struct Notifications: Codable, Sendable, Equatable {
    public var email: EmailNotification?
    public var webhook: String?
    /// Run with keepalived's notify arguments: TYPE NAME STATE PRIORITY.
    public var script: String?

    public init(email: EmailNotification? = nil, webhook: String? = nil, script: String? = nil) {
        self.email = email
        self.webhook = webhook
        self.script = script
    }
}

/// E-mail notification settings (keepalived's notification_email and smtp_* settings).
public struct EmailNotification: Codable, Sendable, Equatable {
    public var to: [String]
    public var from: String
    public var smtpServer: String
    public var smtpPort: Int
    public var timeoutSeconds: Int

    public init(to: [String], from: String, smtpServer: String, smtpPort: Int = 25, timeoutSeconds: Int = 30) {
        self.to = to
        self.from = from
        self.smtpServer = smtpServer
        self.smtpPort = smtpPort
        self.timeoutSeconds = timeoutSeconds
    }
}

/// The one JSON form of specs and plans: snake_case keys, sorted, so equal values give equal bytes.
public enum SpecJSON {
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return e
    }
    public static func decoder() -> JSONDecoder {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return d
    }
}
