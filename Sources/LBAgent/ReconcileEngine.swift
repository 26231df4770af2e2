import LBHost
import LBNetlink
import LBSpec

/// The reconciler's decisions as a value, fed the desired state, observations, apply results and the
/// time; it returns what to apply and what to tell the operator. No I/O: `Reconciler` is its shell.
///
/// One pass is `decide` (observed → actions) then `record` (the outcome). The diff itself is HostDiff's,
/// the same one `lbctl plan` and `lb-agent apply` use; this adds what a daemon needs around it:
/// ownership kept in the ledger, failing actions retried with exponential backoff instead of every pass,
/// actions on interfaces that do not exist yet held until they appear, and drift told from change.
public struct ReconcileEngine: Sendable {
    /// What the engine wants, and for which document.
    public struct Target: Sendable, Equatable {
        public var state: DesiredHostState
        public var version: UInt64
        /// Counts new desired states within one version (health and drain change them): what a new
        /// revision asks for is a change, not a repair of drift.
        public var revision: UInt64

        public init(state: DesiredHostState, version: UInt64, revision: UInt64 = 0) {
            self.state = state
            self.version = version
            self.revision = revision
        }
    }

    /// The actions of one pass.
    public struct Pass: Sendable, Equatable {
        /// To apply now, in order.
        public var actions: [HostAction]
        /// The drift each action repairs, when the pass is a repair of a converged state.
        public var repairs: [Repair?]
        /// Held until something exists (an interface, a sysctl), with why.
        public var waiting: [Waiting]
        /// Failed before and not due for another try yet.
        public var deferred: [HostAction]
    }

    /// An action that cannot be tried until the host has what it needs.
    public struct Waiting: Sendable, Equatable, CustomStringConvertible {
        public var action: HostAction
        public var reason: String
        public var description: String { "\(action): \(reason)" }
    }

    /// What a pass's outcome means for the operator: one log line each.
    public enum Event: Sendable, Equatable {
        case repaired(Repair)
        case applied(version: UInt64, actions: Int)
        case failed(HostAction, message: String, retryIn: Duration)
        case converged(version: UInt64)
    }

    struct Backoff: Sendable, Equatable {
        var failures: Int
        var retryAt: Duration
    }

    public private(set) var target: Target?
    public private(set) var ledger: Ledger
    /// The version whose state was last seen in the kernel entirely; actions for it afterwards are drift.
    public private(set) var convergedVersion: UInt64?
    private var convergedRevision: UInt64?
    /// Whether the last pass left nothing to do.
    public private(set) var isConverged = false
    /// Whether the last pass that looked at IPVS left nothing to do for this target. A light pass does
    /// not look at IPVS, so it can confirm convergence only on top of this verdict: otherwise a light
    /// pass right after a new target (or after a full pass that failed) would call a director converged
    /// whose IPVS part nobody has seen, and the full pass that then applies it would report drift.
    public private(set) var ipvsConverged = false
    public private(set) var repairs: [DriftKind: Int] = [:]
    public private(set) var lastError: String?
    /// Why the last pass could not do everything it wanted without failing (IPVS missing on a director).
    public private(set) var blocked: String?
    public private(set) var waiting: [Waiting] = []
    var backoff: [String: Backoff] = [:]
    let retryBase: Duration
    let retryMax: Duration

    public init(ledger: Ledger = Ledger(), retryBase: Duration = .seconds(1), retryMax: Duration = .seconds(30)) {
        self.ledger = ledger
        self.retryBase = retryBase
        self.retryMax = retryMax
    }

    /// A new desired state: the next pass applies the difference. Retries start afresh, since the
    /// actions that failed may no longer be wanted.
    public mutating func setTarget(_ target: Target) {
        guard target != self.target else { return }
        self.target = target
        backoff = [:]
        isConverged = false
        ipvsConverged = false
    }

    /// The sysctls a pass must read: the desired ones and those lb changed before.
    public var sysctlKeys: [String] {
        (target?.state ?? DesiredHostState()).sysctlKeys(ledger: ledger)
    }

    /// When the earliest deferred action is due again.
    public var nextRetry: Duration? { backoff.values.map(\.retryAt).min() }

    /// What to do about `observed`. With no target yet, nothing: lb changes nothing before it has a
    /// verified document, and then only what the ledger or that document names. `lastSeen`, the IPVS
    /// table as an earlier pass saw it, orders re-adds the way the kernel finds them cheapest
    /// (`HostDiff.trashOrder`).
    public func decide(observed: HostState, now: Duration, lastSeen: IPVSTable? = nil) -> Pass {
        guard let target else { return Pass(actions: [], repairs: [], waiting: [], deferred: []) }
        var all = HostDiff.actions(desired: target.state, observed: observed, ledger: ledger)
        if let lastSeen, let order = HostDiff.trashOrder(all, lastSeen: lastSeen) { all = order.map { all[$0] } }
        var pass = Pass(actions: [], repairs: [], waiting: [], deferred: [])
        let isRepair = convergedVersion == target.version && convergedRevision == target.revision
        // A service whose add or edit waits out its backoff holds back its destinations too: they would
        // only fail for want of it. (Descriptions are keys only when something failed: a pass over
        // 10,000 services should not format 50,000 strings to find nothing.)
        var heldServices = Set<IPVSServiceKey>()
        for action in all {
            if let reason = Self.missingPrerequisite(action, observed) {
                pass.waiting.append(Waiting(action: action, reason: reason))
            } else if !backoff.isEmpty, backoff[action.description].map({ $0.retryAt > now }) ?? false {
                pass.deferred.append(action)
                if let key = action.serviceKey { heldServices.insert(key) }
            } else if let key = action.serviceKey, heldServices.contains(key) {
                pass.deferred.append(action)
            } else {
                pass.actions.append(action)
                pass.repairs.append(isRepair ? Repair(action, observed: observed) : nil)
            }
        }
        return pass
    }

    /// Records what became of `pass` (applied against a host whose state before was `before`).
    /// `remaining` is what a fresh observation after the apply still differs in (nil if not observed).
    public mutating func record(_ pass: Pass, _ report: ApplyReport, before: HostState, remaining: Pass?, now: Duration) -> [Event] {
        var events: [Event] = []
        ledger = ledger.recording(pass.actions, report, before: before)
        waiting = pass.waiting
        for (i, action) in pass.actions.enumerated() {
            if let failure = report.failures[i] {
                let key = action.description
                let failures = (backoff[key]?.failures ?? 0) + 1
                let delay = Self.delay(failures: failures, base: retryBase, max: retryMax)
                backoff[key] = Backoff(failures: failures, retryAt: now + delay)
                lastError = failure.message
                events.append(.failed(action, message: failure.message, retryIn: delay))
            } else {
                if !backoff.isEmpty { backoff[action.description] = nil }
                if let repair = pass.repairs[i] {
                    repairs[repair.kind, default: 0] += 1
                    events.append(.repaired(repair))
                }
            }
        }
        if let target, !pass.actions.isEmpty, pass.repairs.allSatisfy({ $0 == nil }) {
            events.append(.applied(version: target.version, actions: report.failures.filter { $0 == nil }.count))
        }
        let left = remaining ?? pass
        var done = left.actions.isEmpty && left.deferred.isEmpty && left.waiting.isEmpty && blocked == nil
        if before.ipvs.wasSkipped {
            done = done && ipvsConverged
        } else {
            ipvsConverged = done
        }
        if let target, done {
            if convergedVersion != target.version || !isConverged { events.append(.converged(version: target.version)) }
            convergedVersion = target.version
            convergedRevision = target.revision
            lastError = nil
        }
        isConverged = done && target != nil
        return events
    }

    /// Notes why IPVS work cannot happen at all (a director on a kernel without IPVS), or clears it; call
    /// it before `record` with every observation that looked at IPVS. While blocked, nothing converges.
    public mutating func note(ipvs: IPVSState) {
        guard target?.state.ipvs != nil, case .unavailable(let reason) = ipvs else {
            blocked = nil
            return
        }
        blocked = "this node is a director, but \(reason)"
        lastError = blocked
        isConverged = false
    }

    /// Exponential from `base`, doubling per consecutive failure, capped at `max`.
    static func delay(failures: Int, base: Duration, max: Duration) -> Duration {
        var d = base
        for _ in 1..<Swift.max(1, failures) {
            d = d * 2
            if d >= max { return max }
        }
        return Swift.min(d, max)
    }

    /// What the host lacks for `action` to be tried at all; such actions wait without counting as errors,
    /// so an interface that appears later gets its part when it appears.
    static func missingPrerequisite(_ action: HostAction, _ observed: HostState) -> String? {
        switch action {
        case .addAddress(let i, _, _), .deleteAddress(let i, _):
            return observed.interface(named: i) == nil ? "waiting for interface \(i)" : nil
        case .startSyncDaemon(let d):
            return observed.interface(named: d.interface) == nil ? "waiting for interface \(d.interface)" : nil
        case .setSysctl(let key, _):
            guard observed.sysctls[key] == nil else { return nil }
            let parts = key.split(separator: ".")
            if parts.count == 5, parts[0] == "net", parts[2] == "conf", observed.interface(named: String(parts[3])) == nil {
                return "waiting for interface \(parts[3])"
            }
            return "no sysctl \(key) on this host"
        default:
            return nil
        }
    }
}

extension HostAction {
    /// The IPVS service an action is about, if any.
    var serviceKey: IPVSServiceKey? {
        switch self {
        case .addService(let s), .editService(let s): return s.key
        case .deleteService(let k), .addDestination(let k, _), .editDestination(let k, _), .deleteDestination(let k, _): return k
        default: return nil
        }
    }
}
