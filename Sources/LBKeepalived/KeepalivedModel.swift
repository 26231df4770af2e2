import LBSpec

/// A value and the place it was written (or, for a default, the block it was missing from).
public struct Located<Value: Sendable>: Sendable {
    public var value: Value
    public var position: SourcePosition

    public init(_ value: Value, at position: SourcePosition) {
        self.value = value
        self.position = position
    }
}

extension Located: Equatable where Value: Equatable {}

/// What one director's keepalived.conf says, already in lb's terms: keepalived's defaults applied,
/// its quirks resolved (each with a diagnostic), every value with its position for later messages.
public struct KeepalivedFile: Sendable {
    /// The file as named on the command line.
    public var path: String
    /// The director name it was read for (`--name`); one file may be read for several directors.
    public var name: String?
    /// global_defs router_id: the default node name.
    public var routerID: Located<String>?
    public var email: Located<EmailNotification>?
    /// Where each e-mail setting was written, by spec key (to, from, smtp_server, smtp_port, timeout).
    public var emailPositions: [String: SourcePosition] = [:]
    /// The first notify script of any instance (notify, else notify_master, …).
    public var notifyScript: Located<String>?
    /// lvs_timeouts, with lb's default for any protocol it leaves out.
    public var timeouts: Located<IPVSTimeouts>?
    public var sync: Located<ImportedSync>?
    public var instances: [ImportedInstance] = []
    /// vrrp_instance blocks written, including those that could not be imported.
    public var declaredInstances = 0
    public var services: [ImportedService] = []

    public init(path: String) { self.path = path }
}

/// One vrrp_instance: the VRRP group settings this director holds and its own part in the group.
public struct ImportedInstance: Sendable {
    public var name: String
    public var position: SourcePosition
    public var routerID: Int
    /// MASTER or BACKUP as written; informational.
    public var state: Located<String>?
    public var priority: Located<Int>
    /// The interface adverts and VIPs use (the instance's, else the VIPs' dev).
    public var interface: Located<String>?
    /// Version, advert interval, password, preemption, unicast and gratuitous ARP; no directors.
    public var settings: VRRPGroup
    /// Where each setting was written, by spec key (advert_interval, auth, preempt, …).
    public var settingPositions: [String: SourcePosition]
    public var vips: [Located<CIDR>]
    /// The `dev` of each VIP written on another interface than `interface`.
    public var vipDevices: [IPAddress: Located<String>] = [:]
    /// The interface `address` goes on in this file.
    public func device(of address: IPAddress) -> String? { vipDevices[address]?.value ?? interface?.value }
    /// unicast_src_ip, else mcast_src_ip: this director's own address.
    public var sourceAddress: Located<IPAddress>?
    public var unicastPeers: [Located<IPAddress>]
}

/// One virtual_server, as an lb service whose real servers are still bare addresses.
public struct ImportedService: Sendable {
    public var position: SourcePosition
    public var address: IPAddress
    public var service: VirtualService
    /// Where each setting was written, by spec key (scheduler, forwarding, persistence, health_check, …).
    public var settingPositions: [String: SourcePosition]
    /// The real_server lines, in the order of `service.realServers`.
    public var realServerPositions: [SourcePosition]

    public var key: String { "\(Endpoint(address: address, port: service.port))/\(service.protocol.rawValue)" }
}

/// lvs_sync_daemon: connection sync on an interface with a sync id.
public struct ImportedSync: Sendable, Equatable {
    public var interface: String
    public var syncID: Int
}
