import LBHost
import LBNetlink
import LBSpec

/// What kind of thing drifted: the label of the repair counters in reports and metrics.
public enum DriftKind: String, Sendable, Codable, CaseIterable, Comparable {
    case address
    case sysctl
    case ipvsService = "ipvs_service"
    case ipvsDestination = "ipvs_destination"
    case ipvsTimeouts = "ipvs_timeouts"
    case syncDaemon = "sync_daemon"
    case vrrpAddress = "vrrp_address"

    public static func < (a: DriftKind, b: DriftKind) -> Bool { a.rawValue < b.rawValue }

    /// The kind an action repairs.
    public init(_ action: HostAction) {
        switch action {
        case .addAddress, .deleteAddress: self = .address
        case .setSysctl: self = .sysctl
        case .addService, .editService, .deleteService: self = .ipvsService
        case .addDestination, .editDestination, .deleteDestination: self = .ipvsDestination
        case .setTimeouts: self = .ipvsTimeouts
        case .startSyncDaemon, .stopSyncDaemon: self = .syncDaemon
        }
    }
}

/// One repair, in the operator's words: what was wrong and what was done.
public struct Repair: Sendable, Equatable, CustomStringConvertible {
    public var kind: DriftKind
    private let text: Text

    private enum Text: Sendable {
        case written(String)
        /// Formatted only when read: a pass that repairs 50,000 things logs a few of them.
        case deferred(HostAction, HostState)
    }

    /// `action` as the repair of what `observed` shows.
    public init(_ action: HostAction, observed: HostState) {
        kind = DriftKind(action)
        text = .deferred(action, observed)
    }

    public init(kind: DriftKind, description: String) {
        self.kind = kind
        text = .written(description)
    }

    public var description: String {
        switch text {
        case .written(let s): return s
        case .deferred(let action, let observed): return Self.describe(action, observed)
        }
    }

    public static func == (a: Repair, b: Repair) -> Bool { a.kind == b.kind && a.description == b.description }

    static func describe(_ action: HostAction, _ observed: HostState) -> String {
        let description: String
        switch action {
        case .addAddress(let i, let a, _):
            if let have = observed.interface(named: i)?.addresses.first(where: { $0.address.address == a.address }) {
                description = "\(have.address) on \(i) (label \(have.label ?? "none")) differs from \(a): replaced"
            } else if observed.interface(named: i) == nil {
                description = "\(a): interface \(i) appeared: added"
            } else {
                description = "\(a) missing on \(i): re-added"
            }
        case .deleteAddress(let i, let a):
            description = "\(a) on \(i) no longer wanted: removed"
        case .setSysctl(let k, let v):
            description = "\(k) was \(observed.sysctls[k] ?? "unset"), want \(v): set"
        case .addService(let s):
            description = "IPVS service \(s.key) missing: re-added"
        case .editService(let s):
            let have = observed.ipvs.table?.entry(s.key)?.service
            description = "IPVS service \(s.key) was \(have.map { "\($0.scheduler)\($0.isPersistent ? " persistent \($0.timeout)" : "")" } ?? "changed"), "
                + "want \(s.scheduler)\(s.isPersistent ? " persistent \(s.timeout)" : ""): restored"
        case .deleteService(let k):
            description = "IPVS service \(k) no longer wanted: removed"
        case .addDestination(let k, let d):
            description = "destination \(d.endpoint) of \(k) missing: re-added"
        case .editDestination(let k, let d):
            let have = observed.ipvs.table?.entry(k)?.destinations.first { $0.endpoint == d.endpoint }
            description = "destination \(d.endpoint) of \(k) had weight \(have.map { "\($0.weight)" } ?? "?") "
                + "\(have.map { $0.forwarding.rawValue } ?? ""), want weight \(d.weight) \(d.forwarding.rawValue): restored"
        case .deleteDestination(let k, let e):
            description = "stray destination \(e) in \(k): removed"
        case .setTimeouts(let t):
            let have = observed.ipvs.table?.timeouts
            description = "IPVS timeouts were \(have.map { "\($0.tcp) \($0.tcpFin) \($0.udp)" } ?? "?"), want \(t.tcp) \(t.tcpFin) \(t.udp): set"
        case .startSyncDaemon(let d):
            description = "sync daemon \(d.state.rawValue) on \(d.interface) id \(d.syncID) not running: started"
        case .stopSyncDaemon(let s):
            description = "sync daemon \(s.rawValue) no longer wanted: stopped"
        }
        return description
    }
}
