import LBNetlink
import LBSpec

/// The kernel-level state a host plan asks for, in the host layer's terms.
public struct DesiredHostState: Sendable, Equatable {
    /// Addresses held permanently (VIPs on a real server's lo); VRRP adds and removes the moving ones.
    public var addresses: [OwnedAddress]
    public var sysctls: [String: String]
    /// nil on a host that is not a director: lb then leaves IPVS alone entirely.
    public var ipvs: DesiredIPVS?

    public init(addresses: [OwnedAddress] = [], sysctls: [String: String] = [:], ipvs: DesiredIPVS? = nil) {
        self.addresses = addresses
        self.sysctls = sysctls
        self.ipvs = ipvs
    }

    /// What the agent applies for `plan`.
    public init(plan: HostPlan) {
        addresses = plan.addresses.map { OwnedAddress(interface: $0.interface, address: $0.address, label: $0.label) }
        sysctls = Dictionary(plan.sysctls.map { ($0.key, $0.value) }, uniquingKeysWith: { a, _ in a })
        guard let timeouts = plan.ipvsTimeouts else { ipvs = nil; return }
        ipvs = DesiredIPVS(
            services: plan.ipvsServices.map { s in
                IPVSTable.Entry(service: Self.service(s), destinations: s.destinations.map {
                    IPVSDestination(address: $0.address, port: UInt16($0.port), forwarding: $0.forwarding, weight: Int32($0.weight))
                })
            },
            timeouts: IPVSTimeoutConfig(tcp: UInt32(timeouts.tcp), tcpFin: UInt32(timeouts.tcpFin), udp: UInt32(timeouts.udp)),
            syncDaemons: plan.syncDaemons.map {
                IPVSSyncDaemon(state: $0.state == .master ? .master : .backup, interface: $0.interface, syncID: UInt32($0.syncID))
            })
    }

    static func service(_ s: IPVSServicePlan) -> IPVSService {
        var flags: UInt32 = 0
        if s.persistence != nil { flags |= IPVSService.persistentFlag }
        if s.schedulerFlags.contains(.fallback) { flags |= IPVSService.schedulerFlag1 }
        if s.schedulerFlags.contains(.port) { flags |= IPVSService.schedulerFlag2 }
        if s.ops == true { flags |= IPVSService.onePacketFlag }
        var netmask: UInt32 = s.address.family == .ipv4 ? .max : 128
        if let mask = s.persistence?.netmask, case .v4(let v) = mask, s.address.family == .ipv4 { netmask = v }
        return IPVSService(key: IPVSServiceKey(s),
                           scheduler: s.scheduler.rawValue, flags: flags,
                           timeout: UInt32(s.persistence?.timeoutSeconds ?? 0), netmask: netmask)
    }

    /// The sysctl keys to observe: the desired ones plus those lb owned before.
    public func sysctlKeys(ledger: Ledger) -> [String] {
        Array(Set(sysctls.keys).union(ledger.sysctlOriginals.keys)).sorted()
    }
}

/// The IPVS part of a director's desired state.
public struct DesiredIPVS: Sendable, Equatable {
    public var services: [IPVSTable.Entry]
    public var timeouts: IPVSTimeoutConfig
    public var syncDaemons: [IPVSSyncDaemon]
    /// Per service, destinations lb keeps only while the kernel has them: never added, never removed as
    /// strays. Health and drain need this: a destination whose health is not yet known stays as the
    /// kernel has it (a restarted agent must not flap it), and a draining one stays at weight 0 until it
    /// is idle, but is never put back once gone.
    public var conditional: [IPVSServiceKey: [ConditionalDestination]]

    public init(services: [IPVSTable.Entry], timeouts: IPVSTimeoutConfig, syncDaemons: [IPVSSyncDaemon] = [],
                conditional: [IPVSServiceKey: [ConditionalDestination]] = [:]) {
        self.services = services
        self.timeouts = timeouts
        self.syncDaemons = syncDaemons
        self.conditional = conditional
    }
}

/// A destination lb holds only while it exists (see `DesiredIPVS.conditional`).
public struct ConditionalDestination: Sendable, Equatable {
    public var address: IPAddress
    public var port: UInt16
    /// The settings to hold it at while it is there; nil leaves it exactly as it is.
    public var configuration: IPVSDestination?

    public init(address: IPAddress, port: UInt16, configuration: IPVSDestination? = nil) {
        self.address = address
        self.port = port
        self.configuration = configuration
    }
}

/// An address lb holds, identified by interface and address.
public struct OwnedAddress: Sendable, Equatable, Hashable, Codable {
    public var interface: String
    public var address: CIDR
    public var label: String?

    public init(interface: String, address: CIDR, label: String? = nil) {
        self.interface = interface
        self.address = address
        self.label = label
    }
}

/// What lb created on this host, so it removes only its own things and restores sysctls it changed.
/// Persisted by the agent; anything not in here and not desired is foreign and never touched.
public struct Ledger: Sendable, Equatable, Codable {
    public var addresses: Set<OwnedAddress>
    public var services: Set<IPVSServiceKey>
    public var syncDaemons: Set<IPVSSyncDaemon>
    /// The value each sysctl had before lb first changed it.
    public var sysctlOriginals: [String: String]

    public init(addresses: Set<OwnedAddress> = [], services: Set<IPVSServiceKey> = [], syncDaemons: Set<IPVSSyncDaemon> = [],
                sysctlOriginals: [String: String] = [:]) {
        self.addresses = addresses
        self.services = services
        self.syncDaemons = syncDaemons
        self.sysctlOriginals = sysctlOriginals
    }

    /// The ledger after `actions` ran with `report`'s outcomes; `before` supplies original sysctl values.
    public func recording(_ actions: [HostAction], _ report: ApplyReport, before: HostState) -> Ledger {
        var l = self
        for (action, failure) in zip(actions, report.failures) where failure == nil {
            switch action {
            case .addAddress(let i, let a, let label): l.addresses.insert(OwnedAddress(interface: i, address: a, label: label))
            case .deleteAddress(let i, let a): l.addresses = l.addresses.filter { !($0.interface == i && $0.address == a) }
            case .addService(let s): l.services.insert(s.key)
            case .editService(let s): l.services.insert(s.key)
            case .deleteService(let k): l.services.remove(k)
            case .startSyncDaemon(let d): l.syncDaemons.insert(d)
            case .stopSyncDaemon(let s): l.syncDaemons = l.syncDaemons.filter { $0.state != s }
            case .setSysctl(let k, let v):
                if l.sysctlOriginals[k] == nil, let old = before.sysctls[k] { l.sysctlOriginals[k] = old }
                // Only the restore writes the original value back, and it ends lb's ownership of the key.
                if l.sysctlOriginals[k] == v { l.sysctlOriginals[k] = nil }
            default: break
            }
        }
        return l
    }
}
