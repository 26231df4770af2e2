/// What one node must hold locally: exactly what its agent applies and keeps in place.
public struct HostPlan: Codable, Sendable, Equatable {
    /// The parts a node can play; a node may be a director of one VIP and a real server of another.
    public enum Role: String, Codable, Sendable, Comparable {
        case director
        case realServer = "real-server"
        public static func < (a: Role, b: Role) -> Bool { a.rawValue < b.rawValue }
    }

    public var node: String
    public var roles: [Role]
    /// Addresses the agent keeps on interfaces at all times (VIPs on a real server's lo). VIPs that
    /// move with VRRP are in `vrrpInstances`, not here.
    public var addresses: [PlannedAddress]
    public var sysctls: [Sysctl]
    public var vrrpInstances: [VRRPInstancePlan]
    public var ipvsServices: [IPVSServicePlan]
    /// Set on directors only.
    public var ipvsTimeouts: IPVSTimeouts?
    public var syncDaemons: [SyncDaemonPlan]
    public var healthChecks: [HealthCheckPlan]

    public init(node: String) {
        self.node = node
        roles = []
        addresses = []
        sysctls = []
        vrrpInstances = []
        ipvsServices = []
        ipvsTimeouts = nil
        syncDaemons = []
        healthChecks = []
    }
}

/// An address on an interface, with the label `ip addr` shows (`lo:0`).
public struct PlannedAddress: Codable, Sendable, Equatable, Hashable {
    public var interface: String
    public var address: CIDR
    public var label: String?
    /// Why lb holds it, for humans reading a plan.
    public var purpose: String
}

/// A sysctl under /proc/sys, by its dotted name.
public struct Sysctl: Codable, Sendable, Equatable, Hashable {
    public var key: String
    public var value: String
    public var purpose: String
}

/// One VRRP instance a director runs.
public struct VRRPInstancePlan: Codable, Sendable, Equatable {
    public var name: String
    public var interface: String
    public var routerID: Int
    public var version: Int
    public var priority: Int
    public var advertIntervalCentiseconds: Int
    public var authPassword: String?
    public var preempt: Bool
    public var preemptDelaySeconds: Int
    /// This director's address, the source of its adverts.
    public var sourceAddress: IPAddress
    /// Other directors' addresses when unicast; empty for multicast.
    public var unicastPeers: [IPAddress]
    public var virtualAddresses: [CIDR]
    /// The interface a virtual address goes on when it is not `interface`, by address.
    public var vipInterfaces: [IPAddress: String] = [:]
    public var gratuitousARP: GratuitousARP
    /// The group's track scripts, which this director runs to move its own priority.
    public var trackScripts: [TrackScript] = []
    /// The group's tracked interfaces, whose links this director reads to move its own priority.
    public var trackInterfaces: [TrackInterface] = []
    /// The group's state scripts, which this director runs on its own instance's transitions.
    public var notify = StateScripts()
    /// The sync group this instance changes state with, on this director.
    public var syncGroup: String?
    /// MASTER if this director has the highest priority of its group, else BACKUP (informational:
    /// the election decides).
    public var expectedState: String

    /// The interface `address` goes on.
    public func interface(of address: IPAddress) -> String { vipInterfaces[address] ?? interface }

    /// A virtual address as plans show it: with its own interface when it has one (`… on eth1`).
    public func describe(_ vip: CIDR) -> String { vipInterfaces[vip.address].map { "\(vip) on \($0)" } ?? "\(vip)" }

    enum CodingKeys: String, CodingKey {
        case name, interface, routerID = "routerId", version, priority, advertIntervalCentiseconds, authPassword
        case preempt, preemptDelaySeconds, sourceAddress, unicastPeers, virtualAddresses, vipInterfaces
        case gratuitousARP = "gratuitousArp", trackScripts, trackInterfaces, notify, syncGroup, expectedState
    }
}

// The VIP interfaces, track scripts, interfaces and state scripts are written only when there are some and optional when read, so plans without them keep
// the JSON they had before (`lbctl plan -o json` output, `lb-agent apply --plan` input).
extension VRRPInstancePlan {
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        interface = try c.decode(String.self, forKey: .interface)
        routerID = try c.decode(Int.self, forKey: .routerID)
        version = try c.decode(Int.self, forKey: .version)
        priority = try c.decode(Int.self, forKey: .priority)
        advertIntervalCentiseconds = try c.decode(Int.self, forKey: .advertIntervalCentiseconds)
        authPassword = try c.decodeIfPresent(String.self, forKey: .authPassword)
        preempt = try c.decode(Bool.self, forKey: .preempt)
        preemptDelaySeconds = try c.decode(Int.self, forKey: .preemptDelaySeconds)
        sourceAddress = try c.decode(IPAddress.self, forKey: .sourceAddress)
        unicastPeers = try c.decode([IPAddress].self, forKey: .unicastPeers)
        virtualAddresses = try c.decode([CIDR].self, forKey: .virtualAddresses)
        var interfaces: [IPAddress: String] = [:]
        for (key, name) in try c.decodeIfPresent([String: String].self, forKey: .vipInterfaces) ?? [:] {
            guard let address = IPAddress(key) else {
                throw DecodingError.dataCorruptedError(forKey: .vipInterfaces, in: c, debugDescription: "'\(key)' is not an IP address")
            }
            interfaces[address] = name
        }
        vipInterfaces = interfaces
        gratuitousARP = try c.decode(GratuitousARP.self, forKey: .gratuitousARP)
        trackScripts = try c.decodeIfPresent([TrackScript].self, forKey: .trackScripts) ?? []
        trackInterfaces = try c.decodeIfPresent([TrackInterface].self, forKey: .trackInterfaces) ?? []
        notify = try c.decodeIfPresent(StateScripts.self, forKey: .notify) ?? StateScripts()
        syncGroup = try c.decodeIfPresent(String.self, forKey: .syncGroup)
        expectedState = try c.decode(String.self, forKey: .expectedState)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(interface, forKey: .interface)
        try c.encode(routerID, forKey: .routerID)
        try c.encode(version, forKey: .version)
        try c.encode(priority, forKey: .priority)
        try c.encode(advertIntervalCentiseconds, forKey: .advertIntervalCentiseconds)
        try c.encodeIfPresent(authPassword, forKey: .authPassword)
        try c.encode(preempt, forKey: .preempt)
        try c.encode(preemptDelaySeconds, forKey: .preemptDelaySeconds)
        try c.encode(sourceAddress, forKey: .sourceAddress)
        try c.encode(unicastPeers, forKey: .unicastPeers)
        try c.encode(virtualAddresses, forKey: .virtualAddresses)
        if !vipInterfaces.isEmpty {
            try c.encode(Dictionary(uniqueKeysWithValues: vipInterfaces.map { ($0.key.description, $0.value) }), forKey: .vipInterfaces)
        }
        try c.encode(gratuitousARP, forKey: .gratuitousARP)
        if !trackScripts.isEmpty { try c.encode(trackScripts, forKey: .trackScripts) }
        if !trackInterfaces.isEmpty { try c.encode(trackInterfaces, forKey: .trackInterfaces) }
        if !notify.isEmpty { try c.encode(notify, forKey: .notify) }
        try c.encodeIfPresent(syncGroup, forKey: .syncGroup)
        try c.encode(expectedState, forKey: .expectedState)
    }
}

/// An IPVS virtual service with its destinations as the director should hold them when all are healthy.
public struct IPVSServicePlan: Codable, Sendable, Equatable {
    public var vip: String
    public var address: IPAddress
    public var port: Int
    public var `protocol`: ServiceProtocol
    public var scheduler: Scheduler
    public var schedulerFlags: [SchedulerFlag]
    public var persistence: Persistence?
    public var quorum: Int
    public var sorryServer: Endpoint?
    /// How IPVS forwards to the sorry server; nil (plans from before it was planned) is the first
    /// destination's way.
    public var sorryServerForwarding: Forwarding?
    /// true: the sorry server stays a destination at weight 0 while it is not needed (keepalived's
    /// sorry_server_inhibit); nil, as plans without it have it, is false.
    public var sorryServerInhibit: Bool?
    /// true: one-packet scheduling (IP_VS_SVC_F_ONEPACKET, keepalived's ops); nil, as plans without it
    /// have it, is false.
    public var ops: Bool?
    /// The band around `quorum` (keepalived's hysteresis); nil is 0.
    public var hysteresis: Int?
    /// Shell commands run when the service gains and loses quorum (keepalived's quorum_up, quorum_down).
    public var quorumUp: String?
    public var quorumDown: String?
    /// true: an unchecked real server counts as failed (keepalived's alpha); nil is false.
    public var alpha: Bool?
    /// true: `quorumDown` also runs when the agent stops (keepalived's omega); nil is false.
    public var omega: Bool?
    /// Set: IPVS's firewall-mark service of this mark, not address:port/protocol.
    public var fwmark: Int?
    /// The VIP's ports (with `protocol`) that this director marks with `fwmark`; nil is none.
    public var markedPorts: [Int]?
    public var destinations: [IPVSDestinationPlan]

    public var key: String {
        if let fwmark { return FirewallMark.serviceKey(fwmark, family: address.family) }
        return "\(Endpoint(address: address, port: port))/\(`protocol`.rawValue)"
    }

    /// The packet-marking rules this service needs on its directors.
    public var packetMarks: [PacketMark] {
        guard let fwmark else { return [] }
        return (markedPorts ?? []).map { PacketMark(address: address, protocol: `protocol`, port: UInt16($0), mark: UInt32(fwmark)) }
    }
}

/// A real server as an IPVS destination.
public struct IPVSDestinationPlan: Sendable, Equatable {
    public var address: IPAddress
    public var port: Int
    /// The spec's weight, also while draining: the agent applies weight 0 for a drain itself, so the plan
    /// says what the server returns to when the drain is lifted.
    public var weight: Int
    public var forwarding: Forwarding
    /// The node behind the address, when it is one of the cluster's.
    public var node: String?
    /// Hold the destination at weight 0 (existing connections continue, new ones go elsewhere) and remove
    /// it once it has no connections or `drainDeadline` has passed.
    public var drain: Bool = false
    /// Seconds since 1970-01-01T00:00:00Z; set only with `drain`.
    public var drainDeadline: Int64? = nil
    /// A failed health check sets the weight to 0 instead of removing the destination: the real server's
    /// `inhibit_on_failure`, else its service's.
    public var inhibitOnFailure: Bool = false
}

// The drain and inhibit fields are written only when set and optional when read, so plans that do not use
// them keep the JSON they had before (`lbctl plan -o json` output, `lb-agent apply --plan` input).
extension IPVSDestinationPlan: Codable {
    enum CodingKeys: String, CodingKey { case address, port, weight, forwarding, node, drain, drainDeadline, inhibitOnFailure }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        address = try c.decode(IPAddress.self, forKey: .address)
        port = try c.decode(Int.self, forKey: .port)
        weight = try c.decode(Int.self, forKey: .weight)
        forwarding = try c.decode(Forwarding.self, forKey: .forwarding)
        node = try c.decodeIfPresent(String.self, forKey: .node)
        drain = try c.decodeIfPresent(Bool.self, forKey: .drain) ?? false
        drainDeadline = try c.decodeIfPresent(Int64.self, forKey: .drainDeadline)
        inhibitOnFailure = try c.decodeIfPresent(Bool.self, forKey: .inhibitOnFailure) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(address, forKey: .address)
        try c.encode(port, forKey: .port)
        try c.encode(weight, forKey: .weight)
        try c.encode(forwarding, forKey: .forwarding)
        try c.encodeIfPresent(node, forKey: .node)
        if drain { try c.encode(true, forKey: .drain) }
        try c.encodeIfPresent(drainDeadline, forKey: .drainDeadline)
        if inhibitOnFailure { try c.encode(true, forKey: .inhibitOnFailure) }
    }
}

/// An IPVS connection sync daemon (master sends, backup receives; a director runs both).
public struct SyncDaemonPlan: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable { case master, backup }
    public var state: State
    public var interface: String
    public var syncID: Int

    enum CodingKeys: String, CodingKey { case state, interface, syncID = "syncId" }
}

/// A health check a director runs against one destination of one service.
public struct HealthCheckPlan: Codable, Sendable, Equatable {
    public var service: String
    /// Where the probe goes: the destination's address at the check's port.
    public var target: Endpoint
    public var check: HealthCheck
    /// The IPVS destination the result speaks for (its port is the service's, not the check's).
    public var destination: Endpoint

    public init(service: String, target: Endpoint, check: HealthCheck, destination: Endpoint? = nil) {
        self.service = service
        self.target = target
        self.check = check
        self.destination = destination ?? target
    }
}

/// Works out each node's part of a validated spec. Pure: the same spec and node give the same plan.
public enum HostPlanner {
    /// The plan for `nodeName`, or nil when the spec has no such node.
    public static func plan(_ spec: ClusterSpec, node nodeName: String) -> HostPlan? {
        guard let node = spec.node(named: nodeName) else { return nil }
        var plan = HostPlan(node: nodeName)
        var roles = Set<HostPlan.Role>()
        var sysctls: [Sysctl] = []
        var seenGroups = Set<Int>()

        for vip in spec.vips {
            if let me = vip.vrrp.directors.first(where: { $0.node == nodeName }) {
                roles.insert(.director)
                let interface = me.interface ?? node.interface
                if !seenGroups.contains(vip.vrrp.routerID) {
                    seenGroups.insert(vip.vrrp.routerID)
                    plan.vrrpInstances.append(vrrpInstance(spec, group: vip.vrrp, director: me, node: node, interface: interface))
                }
                for service in vip.services {
                    let s = ipvsService(spec, vip: vip, service: service)
                    plan.ipvsServices.append(s)
                    if let hc = service.healthCheck {
                        plan.healthChecks += s.destinations.map { d in
                            HealthCheckPlan(service: s.key, target: Endpoint(address: d.address, port: hc.port ?? d.port), check: hc,
                                    destination: Endpoint(address: d.address, port: d.port))
                        }
                    }
                    if s.destinations.contains(where: { $0.forwarding == .nat }) || (service.sorryServer != nil && service.sorryForwarding == .nat) {
                        let key = vip.address.address.family == .ipv4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding"
                        sysctls.append(Sysctl(key: key, value: "1", purpose: "NAT forwarding routes real servers' replies through the director"))
                    }
                    if service.persistence != nil {
                        sysctls.append(Sysctl(key: "net.ipv4.vs.expire_quiescent_template", value: "1", purpose: "a real server at weight 0 gets no new connections from clients whose persistence template names it"))
                    }
                    if service.scheduler == .mh {
                        sysctls.append(Sysctl(key: "net.ipv4.vs.sloppy_tcp", value: "1", purpose: "after a failover the new director accepts mid-stream packets of connections it did not see start"))
                    }
                }
            }
            // A real server written by address is still this node when the address is the node's.
            let isThisNode = { (rs: RealServer) in rs.node == nodeName || (rs.node == nil && rs.address == node.address.address) }
            let modes = Set(vip.services.flatMap { s in s.realServers.filter(isThisNode).map { s.forwarding(of: $0) } })
            if !modes.isEmpty {
                roles.insert(.realServer)
                realServerPart(vip: vip, modes: modes, node: node, plan: &plan, sysctls: &sysctls)
            }
        }

        if roles.contains(.director) {
            // A real server taken out of IPVS (down, or at a drain's deadline) leaves entries behind; the
            // kernel's default drops their packets silently until the entry times out (hours, with
            // WebSocket timeouts). Expired at once, the client's next packet draws a reset and it reconnects.
            sysctls.append(Sysctl(key: "net.ipv4.vs.expire_nodest_conn", value: "1", purpose: "clients of a real server removed from IPVS get a reset and reconnect, instead of hanging until the entry times out"))
            plan.ipvsTimeouts = spec.ipvs.timeouts
            if spec.ipvs.sync.enabled {
                let iface = spec.ipvs.sync.interface ?? node.interface
                plan.syncDaemons = [.master, .backup].map { SyncDaemonPlan(state: $0, interface: iface, syncID: spec.ipvs.sync.syncID) }
            }
        }
        plan.roles = roles.sorted()
        plan.sysctls = dedupe(sysctls)
        return plan
    }

    /// Plans for every node, in spec order.
    public static func plans(_ spec: ClusterSpec) -> [HostPlan] {
        spec.nodes.compactMap { plan(spec, node: $0.name) }
    }

    static func vrrpInstance(_ spec: ClusterSpec, group: VRRPGroup, director me: Director, node: Node, interface: String) -> VRRPInstancePlan {
        let vips = spec.vips.filter { $0.vrrp.routerID == group.routerID }
        let addresses = vips.map(\.address)
        var vipInterfaces: [IPAddress: String] = [:]
        for vip in vips { if let own = vip.interface, own != interface { vipInterfaces[vip.address.address] = own } }
        let peers = group.unicast
            ? group.directors.filter { $0.node != me.node }.compactMap { spec.node(named: $0.node)?.address.address }
            : []
        let top = group.directors.map(\.priority).max() ?? 0
        return VRRPInstancePlan(
            name: "VI_\(group.routerID)", interface: interface, routerID: group.routerID, version: group.version,
            priority: me.priority, advertIntervalCentiseconds: group.advertIntervalCentiseconds,
            authPassword: group.authPassword, preempt: group.preempt, preemptDelaySeconds: group.preemptDelaySeconds,
            sourceAddress: node.address.address, unicastPeers: peers, virtualAddresses: addresses, vipInterfaces: vipInterfaces,
            gratuitousARP: group.gratuitousARP, trackScripts: group.trackScripts, trackInterfaces: group.trackInterfaces,
            notify: group.notify, syncGroup: group.syncGroup, expectedState: me.priority == top ? "MASTER" : "BACKUP")
    }

    static func ipvsService(_ spec: ClusterSpec, vip: VIP, service s: VirtualService) -> IPVSServicePlan {
        let destinations = s.realServers.compactMap { rs -> IPVSDestinationPlan? in
            guard let address = rs.address ?? rs.node.flatMap({ spec.node(named: $0)?.address.address }) else { return nil }
            return IPVSDestinationPlan(address: address, port: rs.port ?? s.port, weight: rs.weight, forwarding: s.forwarding(of: rs), node: rs.node,
                                       drain: rs.drain, drainDeadline: rs.drain ? rs.drainDeadline : nil,
                                       inhibitOnFailure: s.inhibitsOnFailure(rs))
        }
        return IPVSServicePlan(vip: vip.name, address: vip.address.address, port: s.port, protocol: s.protocol,
                               scheduler: s.scheduler, schedulerFlags: s.schedulerFlags, persistence: s.persistence,
                               quorum: s.quorum, sorryServer: s.sorryServer,
                               sorryServerForwarding: s.sorryServer == nil ? nil : s.sorryForwarding,
                               sorryServerInhibit: s.sorryServer != nil && s.sorryServerInhibit ? true : nil,
                               ops: s.ops ? true : nil, hysteresis: s.hysteresis == 0 ? nil : s.hysteresis,
                               quorumUp: s.quorumUp, quorumDown: s.quorumDown, alpha: s.alpha ? true : nil,
                               omega: s.omega ? true : nil, fwmark: s.fwmark?.mark,
                               markedPorts: s.fwmark.flatMap { $0.ports.isEmpty ? nil : $0.ports.sorted() }, destinations: destinations)
    }

    /// What a node needs to be a real server of `vip` reached by `modes` (each service may reach it its own way).
    static func realServerPart(vip: VIP, modes: Set<Forwarding>, node: Node, plan: inout HostPlan, sysctls: inout [Sysctl]) {
        let host = CIDR(address: vip.address.address, prefixLength: vip.address.address.bitWidth)
        if modes.contains(.dr) {
            let label = vip.address.address.family == .ipv4 ? "lo:\(plan.addresses.filter { $0.interface == "lo" }.count)" : nil
            plan.addresses.append(PlannedAddress(interface: "lo", address: host, label: label,
                                                 purpose: "accept packets for VIP '\(vip.name)' forwarded by direct routing; a host route so lo claims no subnet"))
        }
        if modes.contains(.tun) {
            plan.addresses.append(PlannedAddress(interface: "tunl0", address: host, label: nil,
                                                 purpose: "decapsulated IP-in-IP packets for VIP '\(vip.name)' arrive on tunl0"))
            sysctls.append(Sysctl(key: "net.ipv4.conf.tunl0.rp_filter", value: "0", purpose: "decapsulated packets come from clients that tunl0 has no route to"))
            sysctls.append(Sysctl(key: "net.ipv4.conf.all.rp_filter", value: "0", purpose: "the kernel uses the larger of all and tunl0, so all must allow it too"))
        }
        guard vip.address.address.family == .ipv4, !modes.isDisjoint(with: [.dr, .tun]) else { return }
        // The kernel applies the larger of conf/all and conf/<interface> for both settings.
        for scope in ["all", node.interface] {
            sysctls.append(Sysctl(key: "net.ipv4.conf.\(scope).arp_ignore", value: "1",
                                  purpose: "answer ARP only for addresses on the receiving interface, so the VIP on lo stays silent"))
            sysctls.append(Sysctl(key: "net.ipv4.conf.\(scope).arp_announce", value: "2",
                                  purpose: "never use the VIP as the source of ARP requests"))
        }
    }

    static func dedupe(_ sysctls: [Sysctl]) -> [Sysctl] {
        var seen = Set<String>()
        return sysctls.filter { seen.insert($0.key).inserted }
    }
}
