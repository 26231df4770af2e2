import LBSpec

/// Identifies an IPVS virtual service: address, port and protocol, or a firewall mark and address family.
public struct IPVSServiceKey: Hashable, Sendable, Codable, Comparable, CustomStringConvertible {
    /// For a firewall-mark service, the family's unspecified address (0.0.0.0 or ::), which the kernel ignores.
    public var address: IPAddress
    /// 0 for a firewall-mark service.
    public var port: UInt16
    /// TCP for a firewall-mark service, as the kernel records it whatever the packets carry.
    public var `protocol`: ServiceProtocol
    /// The firewall mark packets of the service carry; nil for an address:port service.
    public var fwmark: UInt32?

    public init(address: IPAddress, port: UInt16, protocol: ServiceProtocol) {
        self.address = address
        self.port = port
        self.protocol = `protocol`
        fwmark = nil
    }

    /// The key of the firewall-mark service `mark` of one address family (IPVS keeps IPv4 and IPv6 apart).
    public init(fwmark mark: UInt32, family: IPAddress.Family) {
        address = family == .ipv4 ? .v4(0) : IPAddress("::")!
        port = 0
        self.protocol = .tcp
        fwmark = mark
    }

    public var description: String {
        if let fwmark { return FirewallMark.serviceKey(fwmark, family: address.family) }
        return "\(Endpoint(address: address, port: Int(port)))/\(`protocol`.rawValue)"
    }

    public static func < (a: Self, b: Self) -> Bool {
        (a.fwmark ?? 0, a.address, a.port, a.protocol.rawValue) < (b.fwmark ?? 0, b.address, b.port, b.protocol.rawValue)
    }
}

/// Packet and byte counters of a service or destination (64-bit when the kernel offers them).
public struct IPVSStats: Sendable, Equatable, Codable {
    public var connections: UInt64 = 0
    public var inPackets: UInt64 = 0
    public var outPackets: UInt64 = 0
    public var inBytes: UInt64 = 0
    public var outBytes: UInt64 = 0
    public var connectionsPerSecond: UInt64 = 0
    public var inPacketsPerSecond: UInt64 = 0
    public var outPacketsPerSecond: UInt64 = 0
    public var inBytesPerSecond: UInt64 = 0
    public var outBytesPerSecond: UInt64 = 0

    public init() {}
}

/// An IPVS virtual service as the kernel holds it.
public struct IPVSService: Sendable, Equatable, Codable {
    public var key: IPVSServiceKey
    /// Scheduler name; a string because foreign services may use schedulers lb does not manage.
    public var scheduler: String
    /// IP_VS_SVC_F_* bits: persistent, and the scheduler's flag 1 (fallback) and 2 (port).
    public var flags: UInt32
    /// Persistence timeout in seconds (meaningful with the persistent flag).
    public var timeout: UInt32
    /// IPv4: the persistence netmask as a host-order integer (0xFFFFFFFF); IPv6: a prefix length.
    public var netmask: UInt32
    public var stats: IPVSStats?

    public init(key: IPVSServiceKey, scheduler: String, flags: UInt32 = 0, timeout: UInt32 = 0, netmask: UInt32 = 0xFFFF_FFFF, stats: IPVSStats? = nil) {
        self.key = key
        self.scheduler = scheduler
        self.flags = flags
        self.timeout = timeout
        self.netmask = netmask
        self.stats = stats
    }

    public var isPersistent: Bool { flags & IPVSABI.svcFPersistent != 0 }

    /// The settings lb manages, without the kernel's bookkeeping (hashed flag, stats).
    public var configuration: IPVSService {
        var c = self
        c.flags &= IPVSService.managedFlags
        c.stats = nil
        if !c.isPersistent { c.timeout = 0 }
        return c
    }

    public static let persistentFlag = IPVSABI.svcFPersistent
    public static let schedulerFlag1 = IPVSABI.svcFSched1
    public static let schedulerFlag2 = IPVSABI.svcFSched2
    /// One-packet scheduling (keepalived's ops): UDP datagrams scheduled one by one, no connection entry kept.
    public static let onePacketFlag = IPVSABI.svcFOnePacket
    static let managedFlags = IPVSABI.svcFPersistent | IPVSABI.svcFSched1 | IPVSABI.svcFSched2 | IPVSABI.svcFOnePacket
    /// The flag bits lb sets and compares; the kernel's own (hashed) are ignored.
    public static let managedFlagMask = managedFlags
}

/// A real server behind a service.
public struct IPVSDestination: Sendable, Equatable, Codable {
    public var address: IPAddress
    public var port: UInt16
    public var forwarding: Forwarding
    public var weight: Int32
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32
    public var activeConnections: UInt32
    public var inactiveConnections: UInt32
    public var persistentConnections: UInt32
    public var stats: IPVSStats?

    public init(address: IPAddress, port: UInt16, forwarding: Forwarding, weight: Int32,
                upperThreshold: UInt32 = 0, lowerThreshold: UInt32 = 0) {
        self.address = address
        self.port = port
        self.forwarding = forwarding
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        activeConnections = 0
        inactiveConnections = 0
        persistentConnections = 0
        stats = nil
    }

    public var endpoint: Endpoint { Endpoint(address: address, port: Int(port)) }

    /// The settings lb manages, without counters.
    public var configuration: IPVSDestination {
        IPVSDestination(address: address, port: port, forwarding: forwarding, weight: weight,
                        upperThreshold: upperThreshold, lowerThreshold: lowerThreshold)
    }
}

/// IPVS connection timeouts in seconds; 0 in a request means "leave unchanged".
public struct IPVSTimeoutConfig: Sendable, Equatable, Codable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32

    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

/// A running connection-sync daemon.
public struct IPVSSyncDaemon: Sendable, Equatable, Hashable, Codable {
    public enum State: String, Sendable, Codable { case master, backup }
    public var state: State
    public var interface: String
    public var syncID: UInt32

    public init(state: State, interface: String, syncID: UInt32) {
        self.state = state
        self.interface = interface
        self.syncID = syncID
    }
}

extension IPVSServiceKey {
    /// The key of the service `plan` describes.
    public init(_ plan: IPVSServicePlan) {
        if let mark = plan.fwmark {
            self.init(fwmark: UInt32(mark), family: plan.address.family)
        } else {
            self.init(address: plan.address, port: UInt16(plan.port), protocol: plan.protocol)
        }
    }
}
