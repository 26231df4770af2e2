import LBNetlink
import LBSpec

/// A host in memory, for unit tests of logic. It follows the kernel's rules as the conformance suite
/// (LBHostConformance) pins them down: the same actions succeed and fail the same way.
public actor InMemoryHost: HostControl {
    public private(set) var state: HostState
    /// Every sysctl key that exists on this host, with its value.
    public private(set) var sysctlValues: [String: String]
    public let schedulers: Set<String>
    private var ipvsAvailable: Bool

    public init(interfaces: [HostState.Interface] = InMemoryHost.defaultInterfaces,
                sysctls: [String: String] = InMemoryHost.defaultSysctls(["lo", "eth0"]),
                ipvs: Bool = true, schedulers: Set<String> = ["rr", "wrr", "lc", "wlc", "sh", "mh"]) {
        state = HostState(interfaces: interfaces, sysctls: [:], ipvs: ipvs ? .available(IPVSTable(version: "1.2.1")) : .unavailable(NetlinkError.familyNotFound("IPVS").description))
        sysctlValues = sysctls
        self.schedulers = schedulers
        ipvsAvailable = ipvs
    }

    public static let defaultInterfaces = [
        HostState.Interface(index: 1, name: "lo", isUp: true, isLoopback: true,
                            addresses: [.init(address: CIDR("127.0.0.1/8")!, label: "lo", scope: 254)]),
        HostState.Interface(index: 2, name: "eth0", isUp: true),
    ]

    /// The per-interface and global sysctls lb touches, at the kernel's defaults.
    public static func defaultSysctls(_ interfaces: [String]) -> [String: String] {
        var s = ["net.ipv4.ip_forward": "0", "net.ipv6.conf.all.forwarding": "0"]
        // IPVS's own (they exist once ip_vs is loaded, as the default in-memory host has it).
        for key in ["sloppy_tcp", "expire_nodest_conn", "conntrack", "expire_quiescent_template"] { s["net.ipv4.vs.\(key)"] = "0" }
        for scope in ["all", "default"] + interfaces {
            s["net.ipv4.conf.\(scope).arp_ignore"] = "0"
            s["net.ipv4.conf.\(scope).arp_announce"] = "0"
            s["net.ipv4.conf.\(scope).rp_filter"] = "0"
        }
        return s
    }

    public func observe(sysctls keys: [String], ipvs: IPVSObservation) async throws -> HostState {
        var s = state
        s.sysctls = sysctlValues.filter { keys.contains($0.key) }
        if ipvs == .skip { s.ipvs = .unavailable(IPVSObservation.skippedReason) }
        return s
    }

    public func apply(_ actions: [HostAction]) async -> ApplyReport {
        if let refusal = preflight(actions) {
            return ApplyReport(failures: actions.map { action in
                refusal.action == action ? refusal : HostError(refusal.kind, action, "not applied: \(refusal.message)")
            })
        }
        return ApplyReport(failures: actions.map(apply))
    }

    public func ipvsServiceCount() async -> UInt32? {
        // As the kernel's IP_VS_SO_GET_INFO: IPv4 services only.
        state.ipvs.table.map { UInt32($0.services.filter { $0.service.key.address.family == .ipv4 }.count) }
    }

    /// Test hook: make a change behind lb's back, as an operator or another tool would.
    public func tamper(_ change: (inout HostState, inout [String: String]) -> Void) {
        change(&state, &sysctlValues)
    }

    private func preflight(_ actions: [HostAction]) -> HostError? {
        for action in actions {
            switch action {
            case .addAddress(let iface, _, _), .deleteAddress(let iface, _):
                if state.interface(named: iface) == nil { return HostError(.noSuchInterface, action, "\(action): no interface \(iface)") }
            case .startSyncDaemon(let d):
                if state.interface(named: d.interface) == nil { return HostError(.noSuchInterface, action, "\(action): no interface \(d.interface)") }
            case .setSysctl(let key, _):
                if sysctlValues[key] == nil { return HostError(.notFound, action, "\(action): no sysctl \(key) on this host") }
            default:
                if action.needsIPVS && !ipvsAvailable { return HostError(.unavailable, action, "\(action): \(NetlinkError.familyNotFound("IPVS"))") }
            }
        }
        return nil
    }

    private func apply(_ action: HostAction) -> HostError? {
        switch action {
        case .addAddress(let iface, let cidr, let label):
            let i = state.interfaces.firstIndex { $0.name == iface }!
            if state.interfaces[i].addresses.contains(where: { $0.address.address == cidr.address }) {
                return HostError(.exists, action, "\(action): already exists")
            }
            let scope: UInt8 = iface == "lo" && cidr.address.isLoopback ? 254 : 0
            // The kernel labels every IPv4 address; without a label it is the interface name.
            state.interfaces[i].addresses.append(.init(address: cidr, label: cidr.address.family == .ipv4 ? (label ?? iface) : nil, scope: scope))
        case .deleteAddress(let iface, let cidr):
            let i = state.interfaces.firstIndex { $0.name == iface }!
            guard let a = state.interfaces[i].addresses.firstIndex(where: { $0.address.address == cidr.address && $0.address.prefixLength == cidr.prefixLength }) else {
                return HostError(.notFound, action, "\(action): no such address")
            }
            state.interfaces[i].addresses.remove(at: a)
        case .setSysctl(let key, let value):
            guard Int(value) != nil else { return HostError(.invalid, action, "\(action): the kernel refused the value") }
            sysctlValues[key] = value
        default:
            return applyIPVS(action)
        }
        return nil
    }

    private func applyIPVS(_ action: HostAction) -> HostError? {
        guard var table = state.ipvs.table else { return HostError(.unavailable, action, "IPVS is not available") }
        defer { state.ipvs = .available(table) }
        func index(_ key: IPVSServiceKey) -> Int? { table.services.firstIndex { $0.service.key == key } }
        switch action {
        case .addService(let s):
            guard schedulers.contains(s.scheduler) else { return HostError(.invalid, action, "\(action): the kernel has no scheduler '\(s.scheduler)'") }
            guard index(s.key) == nil else { return HostError(.exists, action, "\(action): already exists") }
            table.services.append(.init(service: s.configuration))
        case .editService(let s):
            guard let i = index(s.key) else { return HostError(.noSuchService, action, "no such service \(s.key)") }
            guard schedulers.contains(s.scheduler) else { return HostError(.invalid, action, "\(action): the kernel has no scheduler '\(s.scheduler)'") }
            table.services[i].service = s.configuration
        case .deleteService(let key):
            guard let i = index(key) else { return HostError(.noSuchService, action, "no such service \(key)") }
            table.services.remove(at: i)
        case .addDestination(let key, let d):
            guard let i = index(key) else { return HostError(.noSuchService, action, "no such service \(key)") }
            guard !table.services[i].destinations.contains(where: { $0.endpoint == d.endpoint }) else { return HostError(.exists, action, "\(action): already exists") }
            table.services[i].destinations.append(d.configuration)
        case .editDestination(let key, let d):
            guard let i = index(key) else { return HostError(.noSuchService, action, "no such service \(key)") }
            guard let j = table.services[i].destinations.firstIndex(where: { $0.endpoint == d.endpoint }) else {
                return HostError(.noSuchDestination, action, "no such destination \(d.endpoint) in \(key)")
            }
            // As the kernel: an edit changes settings; the connections stay the destination's.
            var edited = d.configuration
            edited.activeConnections = table.services[i].destinations[j].activeConnections
            edited.inactiveConnections = table.services[i].destinations[j].inactiveConnections
            edited.persistentConnections = table.services[i].destinations[j].persistentConnections
            table.services[i].destinations[j] = edited
        case .deleteDestination(let key, let e):
            guard let i = index(key) else { return HostError(.noSuchService, action, "no such service \(key)") }
            guard let j = table.services[i].destinations.firstIndex(where: { $0.endpoint == e }) else {
                return HostError(.noSuchDestination, action, "no such destination \(e) in \(key)")
            }
            table.services[i].destinations.remove(at: j)
        case .setTimeouts(let t):
            // 0 leaves a timeout unchanged, as in the kernel.
            if t.tcp != 0 { table.timeouts.tcp = t.tcp }
            if t.tcpFin != 0 { table.timeouts.tcpFin = t.tcpFin }
            if t.udp != 0 { table.timeouts.udp = t.udp }
        case .startSyncDaemon(let d):
            guard !table.syncDaemons.contains(where: { $0.state == d.state }) else { return HostError(.exists, action, "\(action): already exists") }
            table.syncDaemons.append(d)
        case .stopSyncDaemon(let s):
            guard let i = table.syncDaemons.firstIndex(where: { $0.state == s }) else { return HostError(.notFound, action, "\(action): not running") }
            table.syncDaemons.remove(at: i)
        default:
            break
        }
        return nil
    }
}
