import LBNetlink
import LBSpec

/// One change to a host. Reconcile produces lists of these; a `HostControl` applies them in order.
public enum HostAction: Sendable, Equatable, CustomStringConvertible {
    case addAddress(interface: String, address: CIDR, label: String?)
    case deleteAddress(interface: String, address: CIDR)
    case setSysctl(key: String, value: String)
    case addService(IPVSService)
    case editService(IPVSService)
    case deleteService(IPVSServiceKey)
    case addDestination(IPVSServiceKey, IPVSDestination)
    case editDestination(IPVSServiceKey, IPVSDestination)
    case deleteDestination(IPVSServiceKey, Endpoint)
    case setTimeouts(IPVSTimeoutConfig)
    case startSyncDaemon(IPVSSyncDaemon)
    case stopSyncDaemon(IPVSSyncDaemon.State)

    public var description: String {
        switch self {
        case .addAddress(let i, let a, let l): return "add address \(a) to \(i)\(l.map { " label \($0)" } ?? "")"
        case .deleteAddress(let i, let a): return "delete address \(a) from \(i)"
        case .setSysctl(let k, let v): return "set \(k) = \(v)"
        case .addService(let s): return "add service \(s.key) \(s.scheduler)"
        case .editService(let s): return "edit service \(s.key) \(s.scheduler)"
        case .deleteService(let k): return "delete service \(k)"
        case .addDestination(let k, let d): return "add destination \(d.endpoint) to \(k) \(d.forwarding.rawValue) weight \(d.weight)"
        case .editDestination(let k, let d): return "edit destination \(d.endpoint) of \(k) \(d.forwarding.rawValue) weight \(d.weight)"
        case .deleteDestination(let k, let e): return "delete destination \(e) from \(k)"
        case .setTimeouts(let t): return "set IPVS timeouts tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)"
        case .startSyncDaemon(let d): return "start sync daemon \(d.state.rawValue) on \(d.interface) id \(d.syncID)"
        case .stopSyncDaemon(let s): return "stop sync daemon \(s.rawValue)"
        }
    }

    /// Whether the action is IPVS work (services, destinations, timeouts, sync daemons).
    public var needsIPVS: Bool {
        switch self {
        case .addAddress, .deleteAddress, .setSysctl: return false
        default: return true
        }
    }
}

/// Why an action failed, classified the same way by every `HostControl` so logic can react to it.
public struct HostError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable {
        case exists
        case notFound
        case noSuchInterface
        case noSuchService
        case noSuchDestination
        case unavailable
        case invalid
        case system
    }

    public var kind: Kind
    public var action: HostAction?
    public var message: String

    public init(_ kind: Kind, _ action: HostAction?, _ message: String) {
        self.kind = kind
        self.action = action
        self.message = message
    }

    public var description: String { message }
}

/// What became of each action of an `apply`.
public struct ApplyReport: Sendable, Equatable {
    /// One entry per action, in order: nil when it succeeded.
    public var failures: [HostError?]

    public init(failures: [HostError?]) { self.failures = failures }

    public var succeeded: Bool { failures.allSatisfy { $0 == nil } }
    public var errors: [HostError] { failures.compactMap { $0 } }
}

/// How much of IPVS an observation reads.
public enum IPVSObservation: Sendable, Equatable {
    /// None: a pass over addresses and sysctls that must stay cheap on a director with a large table.
    /// The state's `ipvs` is then `.unavailable(IPVSObservation.skippedReason)`.
    case skip
    /// Services, destinations, timeouts and sync daemons: what the diff needs.
    case configuration
    /// The same with counters and destination thresholds, at a higher cost.
    case statistics

    public static let skippedReason = "not observed in this pass"
}

/// This host's state that lb manages, as one seam: the Linux kernel by default, memory in unit tests.
public protocol HostControl: Sendable {
    /// Interfaces with addresses, the named sysctls, and as much of the IPVS table as `ipvs` asks for
    /// (or why there is none).
    func observe(sysctls: [String], ipvs: IPVSObservation) async throws -> HostState
    /// Applies actions in order. A request that cannot be valid (an unknown interface or sysctl, IPVS
    /// missing) is refused before anything changes, with every action marked failed; otherwise each
    /// action's own outcome is reported and one failure does not stop the rest.
    func apply(_ actions: [HostAction]) async -> ApplyReport
    /// How many IPv4 IPVS services there are, at O(1) cost whatever the table's size, so a cheap pass can
    /// notice an `ipvsadm -C` without reading the table; nil when the host cannot tell (no IPVS).
    func ipvsServiceCount() async -> UInt32?
}

extension HostControl {
    /// What the diff needs: no IPVS counters.
    public func observe(sysctls: [String]) async throws -> HostState {
        try await observe(sysctls: sysctls, ipvs: .configuration)
    }

    /// With `statistics`, IPVS counters and destination thresholds too, at a higher cost.
    public func observe(sysctls: [String], statistics: Bool) async throws -> HostState {
        try await observe(sysctls: sysctls, ipvs: statistics ? .statistics : .configuration)
    }
}
