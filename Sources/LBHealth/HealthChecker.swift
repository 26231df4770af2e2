import HeapModule
import LBSpec

/// What the health checks say of one real server, as a director sees it.
public enum DestinationHealth: String, Sendable, Equatable, Codable {
    /// No result yet: the destination is left as the kernel has it, so a restart never flaps it.
    case unknown
    case up
    case down
}

/// The health checks' decisions as a value, fed the planned checks, probe results and the time: when
/// each check is due, what a run of results means (keepalived's rise and fall: `retries` consecutive
/// failures, `retry_delay` apart, mark a real server down; one success marks it up), and which
/// transitions to announce. No I/O and no clock of its own; `HealthService` runs the probes.
///
/// Checks are spread over their interval by a fixed phase each (a hash of the check's identity), so
/// 10,000 checks every 5 s are 2,000 a second, not 10,000 at once; the first round runs within the
/// first second (or the interval, if shorter), so a new director admits its real servers quickly.
public struct HealthChecker: Sendable {
    /// One check: a destination of a service (a real server behind two services is checked twice).
    public struct ID: Hashable, Sendable, Comparable, CustomStringConvertible {
        public var service: String
        /// The IPVS destination (the probe may go to another port of it).
        public var destination: Endpoint

        public init(service: String, destination: Endpoint) {
            self.service = service
            self.destination = destination
        }

        public var description: String { "\(destination) of \(service)" }
        public static func < (a: ID, b: ID) -> Bool { (a.service, a.destination.description) < (b.service, b.destination.description) }
    }

    /// A check to run now.
    public struct Run: Sendable {
        public var id: ID
        public var check: HealthCheck
        /// Where the probe connects.
        public var target: Endpoint
    }

    /// Where one check stands.
    public struct Status: Sendable, Equatable {
        public var health: DestinationHealth = .unknown
        public var consecutiveFailures = 0
        public var last: ProbeResult?
        public var lastResultAt: Duration?
        /// When `health` last changed from up to down or back (a first result is not a change).
        public var lastChange: Duration?
        public var transitions = 0
        /// The weight the last passing probe asked for (exec's `dynamic_weight`); nil: the planned weight.
        public var weight: Int?
    }

    /// A change of health, for a log line, a metric and a notify hook.
    public struct Transition: Sendable, Equatable {
        public var id: ID
        public var from: DestinationHealth
        public var to: DestinationHealth
        /// Consecutive failures that made it down; 0 for up.
        public var failures: Int
        /// The last probe's failure text, for down.
        public var reason: String?
        public var latency: Duration

        public init(id: ID, from: DestinationHealth, to: DestinationHealth, failures: Int, reason: String?, latency: Duration) {
            self.id = id
            self.from = from
            self.to = to
            self.failures = failures
            self.reason = reason
            self.latency = latency
        }
    }

    struct Entry: Sendable {
        var check: HealthCheck
        var target: Endpoint
        var status = Status()
        /// The start of this check's grid: it runs at `anchor + k × interval` when healthy.
        var anchor: Duration
        var nextDue: Duration
        var running = false
        /// Bumped whenever `nextDue` changes, so stale heap entries are skipped rather than removed.
        var generation: UInt64 = 0
    }

    struct Due: Comparable, Sendable {
        var at: Duration
        var generation: UInt64
        var id: ID
        static func < (a: Due, b: Due) -> Bool { (a.at, a.generation) < (b.at, b.generation) }
        static func == (a: Due, b: Due) -> Bool { a.at == b.at && a.generation == b.generation }
    }

    private(set) var entries: [ID: Entry] = [:]
    private var queue = Heap<Due>()
    private var generations: UInt64 = 0
    /// How long the first round may take at most.
    public static let firstRound: Duration = .seconds(1)

    public init() {}

    public var count: Int { entries.count }
    public var ids: some Collection<ID> { entries.keys }

    /// The planned checks. A check that stays keeps its status and its place in time; a changed check
    /// keeps its status and starts a new grid; a new one is scheduled within the first round; a removed
    /// one is forgotten.
    public mutating func setChecks(_ plans: [HealthCheckPlan], now: Duration) {
        var next: [ID: Entry] = [:]
        next.reserveCapacity(plans.count)
        for plan in plans {
            let id = ID(service: plan.service, destination: plan.destination)
            if var entry = entries[id] {
                if entry.check != plan.check || entry.target != plan.target {
                    entry.check = plan.check
                    entry.target = plan.target
                    entry.anchor = now + Self.interval(plan.check) * Self.phase(id)
                    if !entry.running { schedule(&entry, id, at: now + Self.firstDelay(id, plan.check)) }
                }
                next[id] = entry
            } else {
                var entry = Entry(check: plan.check, target: plan.target, anchor: now + Self.interval(plan.check) * Self.phase(id), nextDue: .zero)
                schedule(&entry, id, at: now + Self.firstDelay(id, plan.check))
                next[id] = entry
            }
        }
        entries = next
        // Stale queue entries of removed checks would be skipped anyway; rebuilding keeps the heap small
        // when a document drops many checks.
        if queue.count > 2 * entries.count + 64 {
            queue = Heap(entries.compactMap { id, e in e.running ? nil : Due(at: e.nextDue, generation: e.generation, id: id) })
        }
    }

    /// The checks due at `now`, marked running; each must be answered with `record`.
    public mutating func start(now: Duration) -> [Run] {
        var out: [Run] = []
        while let top = queue.min, top.at <= now {
            queue.removeMin()
            guard var entry = entries[top.id], entry.generation == top.generation, !entry.running else { continue }
            entry.running = true
            entries[top.id] = entry
            out.append(Run(id: top.id, check: entry.check, target: entry.target))
        }
        return out
    }

    /// When the next check is due (nil: none planned or all running).
    public mutating func nextDue() -> Duration? {
        while let top = queue.min {
            if let entry = entries[top.id], entry.generation == top.generation, !entry.running { return top.at }
            queue.removeMin()
        }
        return nil
    }

    /// A probe's result; returns the transition it causes, if any.
    @discardableResult
    public mutating func record(_ id: ID, _ result: ProbeResult, now: Duration) -> Transition? {
        guard var entry = entries[id] else { return nil }
        entry.running = false
        entry.status.last = result
        entry.status.lastResultAt = now
        let before = entry.status.health
        let interval = Self.interval(entry.check)
        var transition: Transition?
        switch result.outcome {
        case .success:
            entry.status.consecutiveFailures = 0
            entry.status.health = .up
            entry.status.weight = result.weight
            schedule(&entry, id, at: Self.nextOnGrid(anchor: entry.anchor, interval: interval, after: now))
        case .failure(let reason):
            entry.status.consecutiveFailures += 1
            if entry.status.consecutiveFailures >= max(1, entry.check.retries) {
                entry.status.health = .down
                schedule(&entry, id, at: Self.nextOnGrid(anchor: entry.anchor, interval: interval, after: now))
            } else {
                schedule(&entry, id, at: now + .milliseconds(entry.check.retryDelayMilliseconds))
            }
            if entry.status.health == .down, before != .down {
                transition = Transition(id: id, from: before, to: .down, failures: entry.status.consecutiveFailures, reason: reason, latency: result.latency)
            }
        }
        if entry.status.health == .up, before != .up {
            transition = Transition(id: id, from: before, to: .up, failures: 0, reason: nil, latency: result.latency)
        }
        if transition != nil, before != .unknown {
            entry.status.lastChange = now
            entry.status.transitions += 1
        }
        entries[id] = entry
        return transition
    }

    public func status(_ id: ID) -> Status? { entries[id]?.status }

    /// The check `id` runs now.
    public func check(_ id: ID) -> HealthCheck? { entries[id]?.check }

    /// Every check's health by service and destination, what `ServingState` carries.
    public var health: [String: [Endpoint: DestinationHealth]] {
        var out: [String: [Endpoint: DestinationHealth]] = [:]
        for (id, entry) in entries { out[id.service, default: [:]][id.destination] = entry.status.health }
        return out
    }

    /// The weights passing probes asked for, by service and destination: only those that asked.
    public var weights: [String: [Endpoint: Int]] {
        var out: [String: [Endpoint: Int]] = [:]
        for (id, entry) in entries {
            if let w = entry.status.weight { out[id.service, default: [:]][id.destination] = w }
        }
        return out
    }

    // MARK: -

    private mutating func schedule(_ entry: inout Entry, _ id: ID, at time: Duration) {
        generations &+= 1
        entry.generation = generations
        entry.nextDue = time
        queue.insert(Due(at: time, generation: generations, id: id))
    }

    static func interval(_ check: HealthCheck) -> Duration { .milliseconds(max(1, check.intervalMilliseconds)) }

    static func firstDelay(_ id: ID, _ check: HealthCheck) -> Duration {
        min(interval(check), firstRound) * phase(id)
    }

    /// The first point of `anchor + k × interval` (k any integer) strictly after `time`.
    static func nextOnGrid(anchor: Duration, interval: Duration, after time: Duration) -> Duration {
        let step = interval.nanoseconds
        let offset = (time - anchor).nanoseconds
        // Floor division, so a time before the anchor lands on the grid too.
        let floor = offset >= 0 ? offset / step : -((-offset + step - 1) / step)
        return anchor + .nanoseconds((floor + 1) * step)
    }

    /// A fixed fraction in [0, 1) per check: FNV-1a of its identity, so the spread is the same on every
    /// director and after every restart, and needs no coordination.
    static func phase(_ id: ID) -> Double {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in id.service.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for byte in id.destination.description.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return Double(hash >> 11) / Double(1 << 53)
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
