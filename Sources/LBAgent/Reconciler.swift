import Foundation
import LBCrypto
import LBGossipService
import LBHost
import LBNetlink
import LBSpec
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The one owner of this host's desired state, the last observation and the ledger: the shell around
/// `ReconcileEngine`. Every other part only sends it events (a new target, health, a kick from the
/// drift watcher) and reads its snapshots.
///
/// A pass observes (on the host's own thread), asks the engine, applies, records the outcome, persists
/// the ledger, and observes again to tell converged from not. Passes are serial; kicks that arrive
/// during one are merged into the next.
public actor Reconciler: Service {
    /// How much a pass looks at.
    public enum Scope: Int, Sendable, Comparable {
        /// Addresses and sysctls: cheap, for address events and the short periodic pass.
        case light
        /// Everything, IPVS included.
        case full

        public static func < (a: Scope, b: Scope) -> Bool { a.rawValue < b.rawValue }
        var ipvs: IPVSObservation { self == .full ? .configuration : .skip }
    }

    /// What `status` and the report read.
    public struct Snapshot: Sendable {
        public var version: UInt64?
        public var converged: Bool
        public var repairs: [DriftKind: Int]
        public var lastError: String?
        public var waiting: [String]
        public var passes: Int
        public var lastPassAt: Date?
        public var observed: HostState?
        /// When `observed`'s IPVS part was read (the last full pass's final look).
        public var ipvsObservedAt: ContinuousClock.Instant?
    }

    let host: any HostControl
    let ledgerPath: String?
    let clock: any GossipClock
    let logger: Logger
    let metrics: AgentMetrics?
    public private(set) var engine: ReconcileEngine
    private var observed: HostState?
    private var passes = 0
    /// How long the last full pass took to look: observe and diff, without applying (what the periodic
    /// check costs on this table, whatever a repair then adds).
    public private(set) var lastFullPass: Duration = .zero
    private var lastPassAt: Date?
    private var ipvsObservedAt: ContinuousClock.Instant?
    /// The last IPVS listing of a full pass that found nothing left to do, so it held every desired
    /// service: the order an `ipvsadm -C` deletes them in, for `HostDiff.trashOrder`. A listing taken
    /// while a flush was under way would order nothing.
    private var listing: IPVSTable?
    /// The kernel's IPv4 service count when the last full pass looked; nil when unknown (no IPVS).
    private var ipvsServiceCount: UInt32?
    private var loggedWaiting: Set<String> = []
    private var retryTask: Task<Void, Never>?
    private let pending = NIOLockedValueBox<Scope?>(nil)
    private let onChange: @Sendable () -> Void
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// - Parameter ledgerPath: where the ledger is kept (read here, written after every apply); nil keeps
    ///   it in memory only (`lb-agent apply --dry-run`, tests).
    ///   - onChange: called after a pass that changed what the node reports (convergence, a repair or a
    ///     failure, the last error), so the report goes out then and not at the next periodic one.
    public init(host: any HostControl, ledgerPath: String?, clock: any GossipClock = SystemGossipClock(),
                retryMax: Duration = .seconds(30), logger: Logger, metrics: AgentMetrics? = nil,
                onChange: @escaping @Sendable () -> Void = {}) throws {
        self.onChange = onChange
        self.host = host
        self.ledgerPath = ledgerPath
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        engine = ReconcileEngine(ledger: try ledgerPath.map(LedgerFile.read) ?? Ledger(), retryMax: retryMax)
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// A new desired state; a full pass follows.
    public func setTarget(_ target: ReconcileEngine.Target) {
        let first = engine.target == nil
        engine.setTarget(target)
        if first { logger.info("desired state v\(target.version): \(target.state.addresses.count) address(es), \(target.state.sysctls.count) sysctl(s), \(target.state.ipvs.map { "\($0.services.count) IPVS service(s)" } ?? "no IPVS")") }
        kick(.full)
    }

    /// Asks for a pass of at least `scope`; returns at once. Kicks during a pass merge into the next.
    public nonisolated func kick(_ scope: Scope) {
        let wasIdle = pending.withLockedValue { current -> Bool in
            defer { current = max(current ?? scope, scope) }
            return current == nil
        }
        if wasIdle { wake.yield() }
    }

    /// Runs passes as they are asked for, until cancelled or gracefully shut down. Leaves the kernel as
    /// it is on the way out: stopping the agent must drop no connection.
    public func run() async throws {
        await withGracefulShutdownHandler {
            for await _ in wakeups.cancelOnGracefulShutdown() {
                guard let scope = pending.withLockedValue({ current -> Scope? in defer { current = nil }; return current }) else { continue }
                _ = await pass(scope)
            }
        } onGracefulShutdown: { [wake] in
            wake.finish()
        }
        retryTask?.cancel()
    }

    /// What one pass did.
    public struct PassResult: Sendable {
        public var actions: [HostAction] = []
        public var report = ApplyReport(failures: [])
        public var waiting: [ReconcileEngine.Waiting] = []
        public var events: [ReconcileEngine.Event] = []
        public var converged = false
        /// Why the pass could not even look (the host refused the observation).
        public var error: String?
    }

    /// What a pass would do now, without doing it (`lb-agent apply --dry-run`).
    public func preview(_ scope: Scope) async throws -> ReconcileEngine.Pass {
        let observed = try await host.observe(sysctls: engine.sysctlKeys, ipvs: scope.ipvs)
        if scope == .full { engine.note(ipvs: observed.ipvs) }
        return engine.decide(observed: observed, now: clock.now)
    }

    /// One pass; returns what it did. `lb-agent apply` and `lb-agent reset` run exactly one.
    @discardableResult
    public func pass(_ scope: Scope) async -> PassResult {
        guard let target = engine.target else { return PassResult() }
        var scope = scope
        // A light pass does not read the IPVS table, which on a large director costs seconds, but one
        // system call tells it whether the number of services changed since the last full pass: an
        // `ipvsadm -C` (or a deleted service) is then repaired at the light pass's pace, not the full
        // one's. Destination and settings drift still waits for the next full pass.
        if scope == .light, let known = ipvsServiceCount, await host.ipvsServiceCount() != known {
            scope = .full
        }
        let started = ContinuousClock.now
        // Counted before the observation that becomes `observed`: a change in between shows as a
        // difference next time (one full pass too many), never as none (a repair missed).
        var count = scope == .full ? await host.ipvsServiceCount() : nil
        let before: HostState
        do {
            before = try await host.observe(sysctls: engine.sysctlKeys, ipvs: scope.ipvs)
        } catch {
            logger.error("cannot observe the host: \(error)")
            scheduleRetry(after: .seconds(1))
            return PassResult(error: "cannot observe the host: \(error)")
        }
        // The actor is reentrant at every await: a new target may have come in while this pass looked.
        // Its own full pass is already asked for (setTarget kicks one), and this observation was made for
        // the old target's sysctls, so it is not judged against the new one.
        guard engine.target == target else { return PassResult() }
        if scope == .full {
            let wasBlocked = engine.blocked
            engine.note(ipvs: before.ipvs)
            // Once when it starts and once when it ends: status shows it meanwhile.
            if let blocked = engine.blocked, blocked != wasBlocked { logger.error("\(blocked); nothing converges until it is") }
            if wasBlocked != nil, engine.blocked == nil { logger.notice("IPVS is available again") }
        }
        let decided = engine.decide(observed: before, now: clock.now, lastSeen: listing)
        let looked = ContinuousClock.now - started
        logWaiting(decided.waiting)
        var report = ApplyReport(failures: [])
        var remaining: ReconcileEngine.Pass? = decided
        var after = before
        var afterAt = started
        if !decided.actions.isEmpty {
            report = await host.apply(decided.actions)
            if scope == .full { count = await host.ipvsServiceCount() }
            do {
                afterAt = .now
                after = try await host.observe(sysctls: engine.sysctlKeys, ipvs: scope.ipvs)
                // What is left is known only for the target the actions were for (nil: not converged).
                remaining = engine.target == target ? engine.decide(observed: after, now: clock.now) : nil
            } catch {
                remaining = nil
            }
        }
        let ledgerBefore = engine.ledger
        let (convergedBefore, errorBefore) = (engine.isConverged, engine.lastError)
        let events = engine.record(decided, report, before: before, remaining: remaining, now: clock.now)
        if engine.ledger != ledgerBefore { persistLedger() }
        if scope == .full || observed == nil {
            observed = after
            if scope == .full {
                ipvsObservedAt = afterAt
                // A full pass that left nothing to do saw every desired service in this listing.
                if engine.ipvsConverged, engine.target?.state.ipvs != nil, let table = after.ipvs.table { listing = table }
            }
        } else if var merged = observed {
            // A light pass saw addresses and sysctls only; keep the last IPVS view beside them.
            merged.interfaces = after.interfaces
            merged.sysctls = after.sysctls
            observed = merged
        }
        passes += 1
        lastPassAt = Date()
        if scope == .full {
            ipvsServiceCount = count
            lastFullPass = looked
            metrics?.recordFullPass(looked)
        }
        log(events)
        metrics?.recordPass(engine: engine, events: events)
        if let due = engine.nextRetry { scheduleRetry(after: max(.zero, due - clock.now)) }
        if engine.isConverged != convergedBefore || engine.lastError != errorBefore || !events.isEmpty { onChange() }
        return PassResult(actions: decided.actions, report: report, waiting: decided.waiting, events: events, converged: engine.isConverged)
    }

    public var snapshot: Snapshot {
        Snapshot(version: engine.target?.version, converged: engine.isConverged, repairs: engine.repairs,
                 lastError: engine.lastError, waiting: engine.waiting.map(\.description), passes: passes,
                 lastPassAt: lastPassAt, observed: observed, ipvsObservedAt: ipvsObservedAt)
    }

    /// A fresh observation with IPVS counters, for `/metrics` when it is scraped; the reconciler's own
    /// passes and the reports do not need them and stay cheaper.
    public func statistics() async -> HostState? {
        try? await host.observe(sysctls: engine.sysctlKeys, ipvs: .statistics)
    }

    // MARK: -

    private func scheduleRetry(after delay: Duration) {
        retryTask?.cancel()
        retryTask = Task { [weak self] in
            do { try await Task.sleep(for: delay) } catch { return }
            self?.kick(.full)
        }
    }

    private func persistLedger() {
        guard let ledgerPath else { return }
        do {
            try LedgerFile.write(engine.ledger, to: ledgerPath)
        } catch {
            // What lb owns is still known in memory; the next successful write catches up.
            logger.error("cannot persist the ledger: \(error)")
        }
    }

    private func logWaiting(_ waiting: [ReconcileEngine.Waiting]) {
        let now = Set(waiting.map(\.description))
        for w in waiting where !loggedWaiting.contains(w.description) {
            logger.notice("not yet possible: \(w.description)")
        }
        loggedWaiting = now
    }

    /// One line per event; a pass that repairs or fails many things of one kind (an `ipvsadm -C` of
    /// 10,000 services) says so in one line per kind with the first few, rather than 50,000 lines.
    private func log(_ events: [ReconcileEngine.Event]) {
        var repairs: [DriftKind: [Repair]] = [:]
        var failures: [(HostAction, String, Duration)] = []
        for event in events {
            switch event {
            case .repaired(let r): repairs[r.kind, default: []].append(r)
            case .failed(let action, let message, let retryIn): failures.append((action, message, retryIn))
            default: break
            }
        }
        for (kind, list) in repairs.sorted(by: { $0.key < $1.key }) {
            if list.count <= Self.detailedLines {
                for r in list { logger.notice("drift repaired: \(r.description)", metadata: ["kind": "\(kind.rawValue)"]) }
            } else {
                logger.notice("drift repaired: \(list.count) \(kind.rawValue) repairs: \(list.prefix(3).map(\.description).joined(separator: "; ")); and \(list.count - 3) more",
                              metadata: ["kind": "\(kind.rawValue)"])
            }
        }
        if failures.count <= Self.detailedLines {
            for (action, message, retryIn) in failures { logger.error("\(message); retrying in \(retryIn)", metadata: ["action": "\(action)"]) }
        } else {
            logger.error("\(failures.count) actions failed: \(failures.prefix(3).map(\.1).joined(separator: "; ")); and \(failures.count - 3) more; retrying")
        }
        for event in events {
            switch event {
            case .applied(let version, let count): logger.info("applied v\(version): \(count) change(s)")
            case .converged(let version): logger.info("converged on v\(version)")
            default: break
            }
        }
    }

    /// Up to this many repairs (or failures) of a pass get a line each.
    static let detailedLines = 10
}

/// The ledger on disk: JSON, replaced atomically, so a restarted agent adopts what it made before.
public enum LedgerFile {
    public static func path(in stateDirectory: String) -> String { stateDirectory + "/ledger.json" }

    /// The ledger at `path`; an empty one when there is none. A file that does not parse is an error:
    /// starting from nothing would forget what lb owns.
    public static func read(_ path: String) throws -> Ledger {
        guard let bytes = try AtomicFile.read(path, maximumBytes: 64 << 20) else { return Ledger() }
        do {
            return try JSONDecoder().decode(Ledger.self, from: Data(bytes))
        } catch {
            throw AgentError("\(path) is not a ledger lb wrote (\(error)); move it away to start afresh, and lb will then own nothing it made before")
        }
    }

    public static func write(_ ledger: Ledger, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try AtomicFile.write(Array(try encoder.encode(ledger)), to: path, mode: 0o600)
    }
}

/// A failure of the agent, said as an operator needs to read it.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
