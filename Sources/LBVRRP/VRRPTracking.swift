import LBSpec

/// A command whose exit status moves an instance's priority or puts it in FAULT: keepalived's
/// `vrrp_script` as one instance's `track_script` names it (the track_script's weight, if it gives one,
/// already applied).
public struct VRRPTrackScript: Sendable, Equatable {
    /// The name logs use (keepalived's vrrp_script name).
    public var name: String
    /// Run with `/bin/sh -c`; exit status 0 is success.
    public var command: String
    /// From one start to the next.
    public var interval: Duration
    /// A run still going at this point is killed (its whole process group) and counts as a failure.
    public var timeout: Duration
    /// Consecutive successes that bring a failed script back.
    public var rise: Int
    /// Consecutive failures that fail a succeeding script.
    public var fall: Int
    /// Positive: added to the priority while the script succeeds; negative: added (so subtracted) while it
    /// fails; 0: a failure puts the instance in FAULT.
    public var weight: Int
    /// keepalived's `weight … reverse`: the sign of the effect is turned round (a positive weight is
    /// subtracted while the script succeeds; with weight 0, success is the fault).
    public var reverse: Bool

    public init(name: String, command: String, interval: Duration = .seconds(1), timeout: Duration? = nil,
                rise: Int = 1, fall: Int = 1, weight: Int = 0, reverse: Bool = false) {
        self.name = name
        self.command = command
        self.interval = interval
        self.timeout = timeout ?? interval
        self.rise = rise
        self.fall = fall
        self.weight = weight
        self.reverse = reverse
    }

    /// Every reason this script cannot run, worded for the operator.
    public var problems: [String] {
        var out: [String] = []
        if name.isEmpty { out.append("a track script needs a name") }
        if command.isEmpty { out.append("track script \(name) has no command") }
        if interval <= .zero { out.append("track script \(name): the interval must be positive") }
        if timeout <= .zero { out.append("track script \(name): the timeout must be positive") }
        if rise < 1 { out.append("track script \(name): rise must be at least 1, not \(rise)") }
        if fall < 1 { out.append("track script \(name): fall must be at least 1, not \(fall)") }
        if !(-253...253).contains(weight) { out.append("track script \(name): the weight must be -253...253, not \(weight)") }
        return out
    }
}

/// An interface whose link moves an instance's priority or puts it in FAULT: keepalived's
/// `track_interface` line.
public struct VRRPTrackInterface: Sendable, Equatable {
    public var name: String
    /// Positive: added while the link is up; negative: added (so subtracted) while it is down; 0: FAULT
    /// while it is down.
    public var weight: Int
    /// keepalived's `weight … reverse`: the effect is turned round.
    public var reverse: Bool

    public init(name: String, weight: Int = 0, reverse: Bool = false) {
        self.name = name
        self.weight = weight
        self.reverse = reverse
    }
}

/// What tracking asks of the state machine: a priority offset and, while something it tracks without a
/// weight is down, FAULT with the reason.
public struct VRRPTrackingStatus: Sendable, Equatable {
    /// Added to the configured priority; the result is held to 1...254 (an owner's 255 never moves).
    public var priorityOffset: Int
    /// Why the instance must be in FAULT; nil when it may run.
    public var fault: String?

    public init(priorityOffset: Int = 0, fault: String? = nil) {
        self.priorityOffset = priorityOffset
        self.fault = fault
    }

    /// keepalived's vrrp_set_effective_priority: base + offset held to 1...254; the owner (255) keeps 255.
    public func effectivePriority(base: Int) -> Int {
        base == 255 ? 255 : min(max(base + priorityOffset, 1), 254)
    }
}

/// The rise/fall state of an instance's track scripts, as a value fed results: keepalived's
/// vrrp_script_child_thread counter and update_script_priorities (vrrp_scheduler.c, vrrp_track.c in 2.2.7).
///
/// A script starts unknown and the first result decides either way ("one success is enough", and one
/// failure fails it). Once known, a succeeding script fails after `fall` failures in a row and a failed
/// one comes back after `rise` successes in a row. An unknown script adds nothing to the priority; an
/// unknown script of weight 0 holds the instance back (`ready` is false) as keepalived keeps the instance
/// in INIT until it has reported.
public struct VRRPTracker: Sendable, Equatable {
    /// One script's counter: keepalived's `result`, 0...rise+fall-1; `rise` and above is succeeding.
    struct Counter: Sendable, Equatable {
        var script: VRRPTrackScript
        var result: Int
        var known = false
        var succeeding: Bool { result >= script.rise }
    }

    private var counters: [Counter]
    public private(set) var interfaces: [VRRPTrackInterface]
    /// The last link state seen of each tracked interface (a missing interface is down).
    private var links: [String: Bool] = [:]

    public init(scripts: [VRRPTrackScript], interfaces: [VRRPTrackInterface] = []) {
        counters = scripts.map { Counter(script: $0, result: $0.rise - 1) }
        self.interfaces = interfaces
    }

    /// Takes a new list of tracked interfaces; the link states seen stay.
    public mutating func reconfigure(interfaces new: [VRRPTrackInterface]) {
        interfaces = new
    }

    /// Records the links of the tracked interfaces (up or not, by name; a name missing is down); returns
    /// the names whose state changed.
    @discardableResult
    public mutating func record(links up: [String: Bool]) -> [String] {
        var changed: [String] = []
        for i in interfaces {
            let now = up[i.name] ?? false
            if links[i.name] != now { changed.append(i.name) }
            links[i.name] = now
        }
        return changed
    }

    public var scripts: [VRRPTrackScript] { counters.map(\.script) }

    /// Takes a new list, keeping the state of every script whose settings stay the same.
    public mutating func reconfigure(_ scripts: [VRRPTrackScript]) {
        let old = counters
        counters = scripts.map { s in old.first { $0.script == s } ?? Counter(script: s, result: s.rise - 1) }
    }

    /// False while a weight-0 script has not reported: the instance is not to start yet.
    public var ready: Bool { !counters.contains { $0.script.weight == 0 && !$0.known } }

    /// Whether `name` currently counts as succeeding; nil before its first result.
    public func succeeding(_ name: String) -> Bool? {
        counters.first { $0.script.name == name }.flatMap { $0.known ? $0.succeeding : nil }
    }

    /// Records one run of `name`; returns true when the script's standing (succeeding or failing) changed.
    @discardableResult
    public mutating func record(_ name: String, success: Bool) -> Bool {
        guard let i = counters.firstIndex(where: { $0.script.name == name }) else { return false }
        let before = counters[i].known ? counters[i].succeeding : nil
        let rise = counters[i].script.rise, fall = counters[i].script.fall
        if success {
            counters[i].result = counters[i].result < rise - 1 ? counters[i].result + 1 : rise + fall - 1
        } else {
            counters[i].result = counters[i].result > rise ? counters[i].result - 1 : 0
        }
        // An unknown script starts at rise - 1, so its first run decides either way.
        counters[i].known = true
        return before != counters[i].succeeding
    }

    /// The offset and fault the scripts' standing asks for now.
    public var status: VRRPTrackingStatus {
        var offset = 0
        var faults: [String] = []
        for c in counters where c.known {
            let s = c.script
            if s.weight == 0 {
                // reverse: success is the fault (keepalived: script_ok != (multiplier == 1)).
                if c.succeeding == s.reverse { faults.append("track script \(s.name) \(c.succeeding ? "succeeds (reverse)" : "fails")") }
                continue
            }
            offset += Self.contribution(weight: s.weight, reverse: s.reverse, good: c.succeeding)
        }
        // initialise_interface_tracking_priorities and process_if_status_change in vrrp_track.c/vrrp_if.c.
        for i in interfaces {
            guard let up = links[i.name] else { continue }
            if i.weight == 0 {
                if up == i.reverse { faults.append("interface \(i.name) is \(up ? "up (reverse)" : "down")") }
                continue
            }
            offset += Self.contribution(weight: i.weight, reverse: i.reverse, good: up)
        }
        return VRRPTrackingStatus(priorityOffset: offset, fault: faults.isEmpty ? nil : faults.joined(separator: ", "))
    }

    /// A positive weight counts while the tracked object is good, a negative one while it is not; reverse
    /// turns the sign round (keepalived's weight_multiplier of -1).
    static func contribution(weight: Int, reverse: Bool, good: Bool) -> Int {
        let multiplier = reverse ? -1 : 1
        if weight > 0 && good { return weight * multiplier }
        if weight < 0 && !good { return weight * multiplier }
        return 0
    }
}

extension VRRPTrackInterface {
    /// The interface a director tracks for one of its VRRP group's `track_interfaces`.
    public init(spec t: TrackInterface) {
        self.init(name: t.interface, weight: t.weight, reverse: t.reverse)
    }
}

extension VRRPTrackScript {
    /// The script a director runs for one of its VRRP group's `track_scripts`.
    public init(spec t: TrackScript) {
        self.init(name: t.name, command: t.command, interval: .seconds(t.intervalSeconds),
                  timeout: .seconds(t.timeoutSeconds ?? t.intervalSeconds), rise: t.rise, fall: t.fall,
                  weight: t.weight, reverse: t.reverse)
    }
}
