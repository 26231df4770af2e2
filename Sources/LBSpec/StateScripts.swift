/// Commands a director runs when its instance of a VRRP group enters a state (keepalived's notify_master,
/// notify_backup, notify_fault and notify_stop), each with `/bin/sh -c` on that director alone.
public struct StateScripts: Codable, Sendable, Equatable {
    public var master: String?
    public var backup: String?
    public var fault: String?
    /// Run when the instance stops (the agent shuts down or the group leaves the plan).
    public var stop: String?

    public init(master: String? = nil, backup: String? = nil, fault: String? = nil, stop: String? = nil) {
        self.master = master
        self.backup = backup
        self.fault = fault
        self.stop = stop
    }

    public var isEmpty: Bool { master == nil && backup == nil && fault == nil && stop == nil }

    /// The commands by state name as the spec writes them, in keepalived's order.
    public var named: [(state: String, command: String)] {
        [("master", master), ("backup", backup), ("fault", fault), ("stop", stop)].compactMap { s, c in c.map { (s, $0) } }
    }
}
