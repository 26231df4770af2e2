/// A command whose exit status moves a director's VRRP priority or puts its instance in FAULT
/// (keepalived's `vrrp_script` with a `track_script` naming it). Every director of the group runs it.
public struct TrackScript: Codable, Sendable, Equatable {
    /// Names the script in logs and in keepalived's `vrrp_script`; unique within the group.
    public var name: String
    /// Run with `/bin/sh -c` on the director; exit status 0 is success.
    public var command: String
    /// Seconds from one run to the next (keepalived's `interval`, whole seconds).
    public var intervalSeconds: Int
    /// A run still going after this many seconds is killed and counts as a failure; nil = the interval.
    public var timeoutSeconds: Int?
    /// Consecutive successes that bring a failed script back.
    public var rise: Int
    /// Consecutive failures that fail a succeeding script.
    public var fall: Int
    /// Positive: added to the priority while the script succeeds; negative: subtracted while it fails;
    /// 0: a failure puts the instance in FAULT (it gives up the VIP and takes no part in elections).
    public var weight: Int
    /// keepalived's `weight … reverse`: the effect is turned round (success lowers the priority, or with
    /// weight 0 is the fault).
    public var reverse: Bool

    public init(name: String, command: String, intervalSeconds: Int = 1, timeoutSeconds: Int? = nil,
                rise: Int = 1, fall: Int = 1, weight: Int = 0, reverse: Bool = false) {
        self.name = name
        self.command = command
        self.intervalSeconds = intervalSeconds
        self.timeoutSeconds = timeoutSeconds
        self.rise = rise
        self.fall = fall
        self.weight = weight
        self.reverse = reverse
    }

    // `reverse` is written only when set, like the other keys added after documents were first signed.
    enum CodingKeys: String, CodingKey { case name, command, intervalSeconds, timeoutSeconds, rise, fall, weight, reverse }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = try c.decode(String.self, forKey: .name)
        command = try c.decode(String.self, forKey: .command)
        intervalSeconds = try c.decode(Int.self, forKey: .intervalSeconds)
        timeoutSeconds = try c.decodeIfPresent(Int.self, forKey: .timeoutSeconds)
        rise = try c.decode(Int.self, forKey: .rise)
        fall = try c.decode(Int.self, forKey: .fall)
        weight = try c.decode(Int.self, forKey: .weight)
        reverse = try c.decodeIfPresent(Bool.self, forKey: .reverse) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(name, forKey: .name)
        try c.encode(command, forKey: .command)
        try c.encode(intervalSeconds, forKey: .intervalSeconds)
        try c.encodeIfPresent(timeoutSeconds, forKey: .timeoutSeconds)
        try c.encode(rise, forKey: .rise)
        try c.encode(fall, forKey: .fall)
        try c.encode(weight, forKey: .weight)
        if reverse { try c.encode(true, forKey: .reverse) }
    }
}

/// An interface whose link moves a director's VRRP priority or puts its instance in FAULT (keepalived's
/// `track_interface`). Every director of the group tracks an interface of that name.
public struct TrackInterface: Codable, Sendable, Equatable {
    public var interface: String
    /// Positive: added to the priority while the link is up; negative: subtracted while it is down; 0: the
    /// instance is in FAULT while it is down (or missing).
    public var weight: Int
    /// keepalived's `weight … reverse`: the effect is turned round.
    public var reverse: Bool

    public init(interface: String, weight: Int = 0, reverse: Bool = false) {
        self.interface = interface
        self.weight = weight
        self.reverse = reverse
    }

    enum CodingKeys: String, CodingKey { case interface, weight, reverse }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        interface = try c.decode(String.self, forKey: .interface)
        weight = try c.decode(Int.self, forKey: .weight)
        reverse = try c.decodeIfPresent(Bool.self, forKey: .reverse) ?? false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(interface, forKey: .interface)
        try c.encode(weight, forKey: .weight)
        if reverse { try c.encode(true, forKey: .reverse) }
    }
}
