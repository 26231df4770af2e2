import LBHost
import LBNetlink
import LBSpec

/// When a draining real server is done, as a value: fed the plan, the last IPVS observation and the
/// wall-clock time. A draining destination sits at weight 0 (existing connections go on, new ones go
/// elsewhere); it is done when its active and inactive connection counts are both 0, or at its
/// deadline, whichever comes first, and then removed. Once done it stays done while the document keeps
/// it drained; a document that stops draining it brings it back.
public struct DrainTracker: Sendable, Equatable {
    /// One finished drain, for the log line and the report.
    public struct Done: Sendable, Equatable {
        public var service: String
        public var destination: Endpoint
        public var node: String?
        /// Connections still open when it was removed (0 unless the deadline ended it).
        public var openConnections: Int
        public var byDeadline: Bool
        /// Seconds since the Unix epoch.
        public var at: Int64
    }

    public private(set) var done: [String: [Endpoint: Done]] = [:]

    public init() {}

    /// What `ServingState.drained` carries.
    public var drained: [String: Set<Endpoint>] { done.mapValues { Set($0.keys) } }

    /// Looks at every draining destination of `plan` in `observed`; returns the drains that finished now.
    /// Only a `fresh` observation (taken after the drain began) can show a server idle: an older one may
    /// show no connections on a server that has some now. Any observation gives the count a deadline
    /// reports; without one nothing finishes but by deadline.
    public mutating func update(plan: HostPlan, observed: IPVSTable?, fresh: Bool, now: Int64) -> [Done] {
        var finished: [Done] = []
        var next: [String: [Endpoint: Done]] = [:]
        for s in plan.ipvsServices {
            let key = s.key
            let draining = s.destinations.filter(\.drain)
            guard !draining.isEmpty else { continue }
            let entry = observed?.entry(IPVSServiceKey(s))
            for d in draining {
                let endpoint = Endpoint(address: d.address, port: d.port)
                if let was = done[key]?[endpoint] {
                    next[key, default: [:]][endpoint] = was
                    continue
                }
                let pastDeadline = d.drainDeadline.map { now >= $0 } ?? false
                var open: Int?
                if observed != nil {
                    // Not there (removed before a restart, or never added): nothing is left to drain.
                    open = entry?.destinations.first { $0.address == d.address && Int($0.port) == d.port }
                        .map { Int($0.activeConnections) + Int($0.inactiveConnections) } ?? 0
                }
                guard (fresh && open == 0) || pastDeadline else { continue }
                let idle = fresh && open == 0
                let result = Done(service: key, destination: endpoint, node: d.node, openConnections: open ?? 0,
                                  byDeadline: !idle, at: now)
                next[key, default: [:]][endpoint] = result
                finished.append(result)
            }
        }
        done = next
        return finished
    }
}
