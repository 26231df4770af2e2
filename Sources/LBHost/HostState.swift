import LBNetlink
import LBSpec

/// What lb manages on a host, as observed: interfaces with addresses, sysctls, the IPVS table.
public struct HostState: Sendable, Equatable, Codable {
    public var interfaces: [Interface]
    /// Values of the sysctls asked for; a key absent here does not exist on this host.
    public var sysctls: [String: String]
    public var ipvs: IPVSState

    public init(interfaces: [Interface] = [], sysctls: [String: String] = [:], ipvs: IPVSState = .unavailable("not observed")) {
        self.interfaces = interfaces
        self.sysctls = sysctls
        self.ipvs = ipvs
    }

    public func interface(named name: String) -> Interface? { interfaces.first { $0.name == name } }

    /// An interface with its addresses.
    public struct Interface: Sendable, Equatable, Codable {
        public var index: Int32
        public var name: String
        public var isUp: Bool
        public var isLoopback: Bool
        public var addresses: [Address]

        public init(index: Int32, name: String, isUp: Bool, isLoopback: Bool = false, addresses: [Address] = []) {
            self.index = index
            self.name = name
            self.isUp = isUp
            self.isLoopback = isLoopback
            self.addresses = addresses
        }
    }

    /// An address with its label (IPv4; `lo:0`) and scope (RT_SCOPE_*).
    public struct Address: Sendable, Equatable, Hashable, Codable {
        public var address: CIDR
        public var label: String?
        public var scope: UInt8

        public init(address: CIDR, label: String? = nil, scope: UInt8 = 0) {
            self.address = address
            self.label = label
            self.scope = scope
        }
    }
}

/// The IPVS part of a host: absent (with the reason), or the whole table.
public enum IPVSState: Sendable, Equatable {
    case unavailable(String)
    case available(IPVSTable)

    public var table: IPVSTable? {
        if case .available(let t) = self { return t }
        return nil
    }

    /// The observation did not look at IPVS (`IPVSObservation.skip`): nothing is known of it either way.
    public var wasSkipped: Bool { self == .unavailable(IPVSObservation.skippedReason) }
}

/// Every IPVS service with its destinations, the timeouts and the sync daemons.
public struct IPVSTable: Sendable, Equatable, Codable {
    public var version: String
    public var services: [Entry]
    public var timeouts: IPVSTimeoutConfig
    public var syncDaemons: [IPVSSyncDaemon]

    public init(version: String = "", services: [Entry] = [], timeouts: IPVSTimeoutConfig = .init(tcp: 900, tcpFin: 120, udp: 300), syncDaemons: [IPVSSyncDaemon] = []) {
        self.version = version
        self.services = services
        self.timeouts = timeouts
        self.syncDaemons = syncDaemons
    }

    /// A service and its destinations.
    public struct Entry: Sendable, Equatable, Codable {
        public var service: IPVSService
        public var destinations: [IPVSDestination]

        public init(service: IPVSService, destinations: [IPVSDestination] = []) {
            self.service = service
            self.destinations = destinations
        }
    }

    public func entry(_ key: IPVSServiceKey) -> Entry? { services.first { $0.service.key == key } }
}

// JSON as scripts want it: {"available": false, "reason": "..."} or {"available": true, "table": {...}}.
extension IPVSState: Codable {
    enum CodingKeys: String, CodingKey { case available, reason, table }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if try c.decode(Bool.self, forKey: .available) {
            self = .available(try c.decode(IPVSTable.self, forKey: .table))
        } else {
            self = .unavailable(try c.decode(String.self, forKey: .reason))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .available(let t):
            try c.encode(true, forKey: .available)
            try c.encode(t, forKey: .table)
        case .unavailable(let reason):
            try c.encode(false, forKey: .available)
            try c.encode(reason, forKey: .reason)
        }
    }
}
