import LBSpec

/// What the state machine asks its shell to do, in order. The shell performs each before the next.
public enum VRRPAction: Sendable, Equatable {
    /// Send this advertisement: to 224.0.0.18 on the interface, or to every unicast peer.
    case sendAdvertisement(VRRPAdvertisement)
    /// Put the virtual addresses on the interface (becoming master). "Already there" is success.
    case addAddresses([CIDR])
    /// Take them off (leaving master, and at startup in case a crashed run left them). "Not there" is success.
    case removeAddresses([CIDR])
    /// Broadcast `count` gratuitous ARPs for each address from the interface's MAC.
    case sendGratuitousARP([IPAddress], count: Int)
    /// Call `timerFired(now:)` at this instant; replaces any earlier request. nil = no timer.
    case scheduleTimer(at: Duration?)
    /// The instance changed state: report it (transition stream, notify script, log).
    case notify(VRRPTransition)
    /// A received packet was dropped without effect: log it and count it (already counted in `statistics`).
    case discard(VRRPDiscard)
    /// Tracking moved the effective priority without a state change: report it (log, status).
    case priorityChanged(from: Int, to: Int)
    /// A sync group member's own election would (true) or no longer would (false) make it master: tell
    /// the group, which promotes its members once every one of them would.
    case syncWantsMaster(Bool)
}

/// States of RFC 3768 / RFC 5798 section 6.4 (v3 calls Initialize "Initialize" too).
public enum VRRPState: String, Sendable, Equatable, Codable, CustomStringConvertible {
    case initialize = "INIT"
    case backup = "BACKUP"
    case master = "MASTER"
    /// keepalived's FAULT (not in the RFCs): something tracked without a weight is down; the instance
    /// holds no address, sends and hears nothing.
    case fault = "FAULT"

    public var description: String { rawValue }

    /// The state argument keepalived passes to a notify script: MASTER, BACKUP, FAULT, or STOP when the
    /// instance is shut down.
    public var notifyName: String { self == .initialize ? "STOP" : rawValue }
}

/// One state change, with why it happened.
public struct VRRPTransition: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable, CustomStringConvertible {
        /// Initialize → Backup: not the address owner, so wait for a master (Master_Down_Interval).
        case startup(masterDownInterval: Duration)
        /// Initialize → Master: priority 255, the owner of the addresses.
        case addressOwner
        /// Backup → Master: no advertisement accepted for Master_Down_Interval.
        case masterDown(silentFor: Duration, lastMaster: IPAddress?)
        /// Backup → Master: the master sent priority 0 and Skew_Time passed.
        case masterResigned(IPAddress, skew: Duration)
        /// Backup → Master: a lower-priority master was heard and preempted (preempt on).
        case preempted(IPAddress, priority: Int)
        /// Master → Backup: an advertisement with higher priority, or equal priority from a higher address.
        case higherPriority(IPAddress, priority: Int)
        /// → Initialize: the instance was shut down (a master sent priority 0 first).
        case shutdown
        /// → Fault: something tracked without a weight is down (a master sent priority 0 first).
        case fault(String)
        /// Fault → Backup (or Master for the owner): what was down is up again.
        case faultCleared
        /// Backup → Master or Master → Backup with the rest of its sync group: why the group moved.
        case syncGroup(String, because: String)

        public var description: String {
            switch self {
            case .startup(let mdi): return "started; waiting \(seconds(mdi)) s for a master"
            case .addressOwner: return "priority 255: owner of the addresses"
            case .masterDown(let silent, let last):
                return "no advertisement\(last.map { " from \($0)" } ?? "") for \(seconds(silent)) s (Master_Down_Interval)"
            case .masterResigned(let from, let skew): return "master \(from) resigned (priority 0); took over after Skew_Time \(seconds(skew)) s"
            case .preempted(let from, let p): return "preempted lower-priority master \(from) (priority \(p))"
            case .higherPriority(let from, let p): return "advertisement from \(from) with priority \(p) wins"
            case .shutdown: return "shut down"
            case .fault(let why): return why
            case .faultCleared: return "tracked objects are up again"
            case .syncGroup(let group, let why): return "sync group \(group): \(why)"
            }
        }
    }

    public var from: VRRPState
    public var to: VRRPState
    public var reason: Reason
    /// The monotonic instant of the transition (the `now` of the event that caused it).
    public var at: Duration
    /// This router's priority, the fourth argument of keepalived's notify script.
    public var priority: Int

    public init(from: VRRPState, to: VRRPState, reason: Reason, at: Duration, priority: Int) {
        self.from = from
        self.to = to
        self.reason = reason
        self.at = at
        self.priority = priority
    }

    public var description: String { "\(from) -> \(to): \(reason)" }
}

/// Why a received packet was dropped without effect. Every reason is counted in `VRRPStatistics`.
public struct VRRPDiscard: Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable, Hashable, CaseIterable, Codable {
        /// Not a well-formed VRRP datagram (IP header, length, type, checksum, version number).
        case malformed
        /// IP TTL other than 255: the packet crossed a router (RFC 3768/5798 section 7.1).
        case ttl
        /// A VRRP version other than this instance's.
        case version
        /// An advertisement for another virtual router on the same LAN (not logged one by one).
        case otherVirtualRouter = "other-vrid"
        /// This instance owns the addresses (priority 255): it never yields, so it ignores adverts.
        case addressOwner = "address-owner"
        /// v2: another authentication type than configured.
        case authType = "auth-type"
        /// v2: a wrong simple text password.
        case authentication
        /// v2: another advertisement interval than configured (v3 learns the master's instead).
        case interval
        /// The advertised addresses differ from the configured ones (and the sender is not the master this
        /// backup already follows).
        case addressList = "address-list"
        /// Unicast mode: a sender that is not a configured peer.
        case notPeer = "not-peer"
        /// Our own advertisement (same source address).
        case ownAdvertisement = "own-advertisement"
    }

    public var reason: Reason
    public var source: IPAddress?
    public var detail: String

    public init(_ reason: Reason, source: IPAddress?, _ detail: String) {
        self.reason = reason
        self.source = source
        self.detail = detail
    }

    public var description: String { "discarded advertisement\(source.map { " from \($0)" } ?? ""): \(detail)" }
}

/// Counters an operator reads to see a misconfigured peer (keepalived keeps the same ones).
public struct VRRPStatistics: Sendable, Equatable, Codable {
    /// Valid advertisements processed (whatever they led to).
    public var advertisementsReceived = 0
    public var advertisementsSent = 0
    public var priorityZeroReceived = 0
    public var priorityZeroSent = 0
    public var becameMaster = 0
    public var releasedMaster = 0
    /// Lower-priority advertisements a preempting backup discarded (a protocol action, not an error).
    public var lowerPriorityDiscarded = 0
    /// Advertisements of the master this backup follows accepted although their address list differs
    /// from this instance's: a change of the list on its way through the group, or a misconfiguration.
    public var addressListMismatchesAccepted = 0
    /// Virtual addresses a master put back after something else deleted them (`repairAddresses`).
    public var addressesRepaired = 0
    public var discarded: [VRRPDiscard.Reason: Int] = [:]

    public init() {}

    public var totalDiscarded: Int { discarded.values.reduce(0, +) }
}

func seconds(_ d: Duration) -> String {
    let (s, attos) = d.components
    let ms = Int64(s) * 1000 + attos / 1_000_000_000_000_000
    let whole = ms / 1000, frac = abs(ms % 1000)
    let f = String(frac)
    return "\(whole).\(String(repeating: "0", count: 3 - f.count))\(f)"
}
