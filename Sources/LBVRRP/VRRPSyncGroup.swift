/// keepalived's vrrp_sync_group on one router, as a value: the instances named in it change state
/// together. Fed what each member does, it returns what the others must do (vrrp_sync.c):
/// - a member leaving MASTER for BACKUP takes every other master of the group to BACKUP;
/// - a member in FAULT of its own (tracking) puts every other one in FAULT, until no member has one;
/// - no member becomes master until every member would, by its own election or by being master already
///   ("prefer backup state to avoid thrashing"); then every waiting one is promoted.
/// No sockets and no clock: the shell (the agent's VRRP supervisor) routes the commands to the speakers.
public struct VRRPSyncGroup: Sendable, Equatable {
    /// What one member must do because of another.
    public enum Command: Sendable, Equatable {
        /// Become master (it wants to, and so does the rest of the group).
        case promote(String, because: String)
        /// Leave MASTER for BACKUP.
        case demote(String, because: String)
        /// Be in FAULT for this reason (nil: no longer because of the group).
        case fault(String, String?)
    }

    public let name: String
    /// The member instances, by name, in configuration order.
    public private(set) var members: [String]
    private var states: [String: VRRPState] = [:]
    private var wanting: Set<String> = []
    private var ownFaults: [String: String] = [:]
    /// The group fault last given to each member, so each change is given once.
    private var givenFaults: [String: String] = [:]

    public init(name: String, members: [String]) {
        self.name = name
        self.members = members
    }

    /// The members change (a new document): those gone are forgotten, new ones start in INIT.
    public mutating func setMembers(_ new: [String]) -> [Command] {
        members = new
        let kept = Set(new)
        states = states.filter { kept.contains($0.key) }
        wanting = wanting.filter(kept.contains)
        ownFaults = ownFaults.filter { kept.contains($0.key) }
        givenFaults = givenFaults.filter { kept.contains($0.key) }
        return faults() + promotions(because: "the group changed")
    }

    /// A member's state changed.
    public mutating func transitioned(_ member: String, from: VRRPState, to: VRRPState) -> [Command] {
        guard members.contains(member) else { return [] }
        states[member] = to
        if to != .backup { wanting.remove(member) }
        var out: [Command] = []
        if from == .master && to == .backup {
            for other in members where other != member && states[other] == .master {
                out.append(.demote(other, because: "\(member) left MASTER"))
            }
        }
        if to == .master { out += promotions(because: "\(member) is MASTER") }
        return out
    }

    /// Whether a member in BACKUP would become master by its own election.
    public mutating func wantsMaster(_ member: String, _ wants: Bool) -> [Command] {
        guard members.contains(member) else { return [] }
        if wants && states[member] == .backup { wanting.insert(member) } else { wanting.remove(member) }
        return wants ? promotions(because: "every member would be MASTER") : []
    }

    /// A member's own tracking puts it in FAULT (the reason) or no longer (nil).
    public mutating func ownFault(_ member: String, _ reason: String?) -> [Command] {
        guard members.contains(member), ownFaults[member] != reason else { return [] }
        ownFaults[member] = reason
        return faults()
    }

    /// The group fault each member should have now: the first other member's own fault.
    private mutating func faults() -> [Command] {
        var out: [Command] = []
        for member in members {
            let cause = members.first { $0 != member && ownFaults[$0] != nil }
            let reason = cause.map { "sync group \(name): \($0) is in FAULT (\(ownFaults[$0]!))" }
            guard givenFaults[member] != reason else { continue }
            givenFaults[member] = reason
            out.append(.fault(member, reason))
        }
        return out
    }

    /// Promotes every waiting member once every member is master or waiting.
    private mutating func promotions(because why: String) -> [Command] {
        guard !wanting.isEmpty, members.allSatisfy({ states[$0] == .master || wanting.contains($0) }) else { return [] }
        let promoted = members.filter(wanting.contains)
        wanting = []
        return promoted.map { .promote($0, because: why) }
    }
}
