import LBHost
import LBSpec
import LBVRRP

/// One VRRP instance on this host: the `VRRPInstance` state machine driven by real time, packets and the
/// host layer. An actor shell in the manner of swift-cluster-membership's SWIMNIOShell: the engine
/// decides, the shell performs its actions in order (send, add or remove addresses through `HostControl`,
/// gratuitous ARP, timer, notify).
///
/// `run()` lasts until its task is cancelled (a `Service` in ServiceLifecycle's terms); cancellation is
/// the graceful shutdown: a master sends a priority-0 advertisement first, then removes its addresses,
/// so the best backup takes over after Skew_Time. While it runs, `update` changes the instance in place
/// for a new document (no transition, no kept address touched) and `checkAddresses` is the drift
/// watcher's way to have a master put back an address deleted behind its back.
///
/// The configuration's track scripts run from `run()` on, each result fed to a `VRRPTracker` whose status
/// goes to the engine (`setTracking`): a new effective priority, or FAULT. While a script of weight 0 has
/// not reported, the instance is not started (keepalived keeps it in INIT until then). Tracked interfaces
/// are read when it starts and whenever `checkLinks` is called (the agent calls it on rtnetlink link
/// events and periodically).
public actor VRRPSpeaker {
    public enum LogLevel: String, Sendable { case info, notice, warning, error }

    /// What names the virtual router a speaker runs; an update cannot change it (a supervisor keys its
    /// speakers by it, and a configuration with another identity needs a speaker of its own).
    public struct Identity: Sendable, Hashable, CustomStringConvertible {
        /// The interface the sockets are bound to.
        public var interface: String
        /// The VRID: the virtual router on that LAN.
        public var virtualRouterID: Int
        /// The protocol the peers speak.
        public var version: VRRPVersion

        /// The identity of the speaker `configuration` would run.
        public init(_ configuration: VRRPConfiguration) {
            interface = configuration.interface
            virtualRouterID = configuration.virtualRouterID
            version = configuration.version
        }

        public var description: String { "\(version) VRID \(virtualRouterID) on \(interface)" }
    }

    /// One consistent reading of a speaker, for the agent's reports and metrics.
    public struct Snapshot: Sendable, Equatable {
        /// The instance name logs and notify scripts use.
        public var name: String
        public var state: VRRPState
        /// The priority in force: the last update's, moved by tracking.
        public var priority: Int
        /// The master a backup follows (the sender of the last advertisement it accepted); nil unless backup.
        public var masterAddress: IPAddress?
        /// The address adverts are sent from, once `run()` has found it.
        public var primaryAddress: IPAddress?
        public var statistics: VRRPStatistics
        /// The speaker clock's instant of the transition into `state`; nil before `run()` started the instance.
        public var since: Duration?
        /// How long the speaker had been in `state` when the snapshot was taken.
        public var inStateFor: Duration?
        /// The configuration in force.
        public var configuration: VRRPConfiguration
    }

    /// Fixed for the speaker's life, so readable without awaiting the actor.
    public nonisolated let identity: Identity
    /// The configuration in force: the one the speaker was made with, then each accepted `update`.
    public private(set) var configuration: VRRPConfiguration
    /// Every state change, in order. Finishes when `run()` returns.
    public nonisolated let transitions: AsyncStream<VRRPTransition>
    private let transitionSink: AsyncStream<VRRPTransition>.Continuation
    /// Every change of the effective priority that tracking made without a state change. Finishes when
    /// `run()` returns.
    public nonisolated let priorityChanges: AsyncStream<Int>
    private let prioritySink: AsyncStream<Int>.Continuation
    /// What the instance's sync group needs to hear from it, in order. Finishes when `run()` returns.
    public nonisolated let syncReports: AsyncStream<SyncReport>
    private let syncSink: AsyncStream<SyncReport>.Continuation

    /// What a sync group member tells its group (`VRRPSyncGroup`); its state changes come as transitions.
    public enum SyncReport: Sendable, Equatable {
        /// Its own election would (not) make it master.
        case wantsMaster(Bool)
        /// Its own tracking puts it in FAULT for this reason, or no longer.
        case ownFault(String?)
    }
    /// The FAULT its sync group puts it in, on top of its own tracking.
    private var groupFault: String?
    private var reportedOwnFault: String?

    private let host: any HostControl
    private let clock: any VRRPClock
    private let suppliedTransport: (any VRRPTransport)?
    private var notifyScript: NotifyScript?
    private let log: @Sendable (LogLevel, String) -> Void

    private var engine: VRRPInstance?
    private var transport: (any VRRPTransport)?
    /// Everything the engine is fed goes through this one stream, so an update or a repair never runs
    /// between the actions of another event (the actor is reentrant at every host call).
    private let events: AsyncStream<Event>
    private let eventSink: AsyncStream<Event>.Continuation
    private var phase: Phase = .idle
    private var stateSince: Duration?
    private var timer: Task<Void, Never>?
    private var timerGeneration: UInt64 = 0
    private var lastOccasionalLog: [String: (at: Duration, suppressed: Int)] = [:]
    private var tracker = VRRPTracker(scripts: [])
    /// The running track scripts by name, each with the generation its results carry (a replaced script's
    /// last result is dropped).
    private var scriptRuns: [String: (script: VRRPTrackScript, generation: UInt64, task: Task<Void, Never>)] = [:]
    private var scriptGeneration: UInt64 = 0
    private var engineStarted = false

    private enum Phase { case idle, starting, running, stopped }

    enum Event: Sendable {
        /// A datagram with the instant the receive thread got it: Master_Down_Timer starts at reception,
        /// not when the actor gets round to it.
        case datagram([UInt8], receivedAt: Duration)
        case timer(UInt64)
        case reconfigure(VRRPConfiguration, CheckedContinuation<Void, any Error>)
        /// Addresses `checkAddresses` saw missing; checked again in turn, since an event before it may
        /// have been adding them.
        case repair([CIDR], CheckedContinuation<[CIDR], Never>)
        /// One run of a track script.
        case script(String, generation: UInt64, TrackScriptRunner.Result)
        /// The links of the host's interfaces, up or not, by name.
        case links([String: Bool])
        /// What the instance's sync group asks of it.
        case sync(VRRPSyncGroup.Command)
        case stop
    }

    /// - Parameters:
    ///   - host: where the virtual addresses go (LinuxHost in the agent, InMemoryHost in tests).
    ///   - transport: nil opens raw sockets on the configured interface when `run()` starts.
    ///   - log: one line per event worth an operator's attention; called on the actor, must not block.
    public init(configuration: VRRPConfiguration, host: any HostControl, transport: (any VRRPTransport)? = nil,
                clock: any VRRPClock = MonotonicClock(), notifyScript: NotifyScript? = nil,
                log: @escaping @Sendable (LogLevel, String) -> Void = { _, _ in }) {
        self.configuration = configuration
        identity = Identity(configuration)
        self.host = host
        self.clock = clock
        self.suppliedTransport = transport
        self.notifyScript = notifyScript
        self.log = log
        (transitions, transitionSink) = AsyncStream.makeStream(of: VRRPTransition.self, bufferingPolicy: .unbounded)
        (priorityChanges, prioritySink) = AsyncStream.makeStream(of: Int.self, bufferingPolicy: .bufferingNewest(16))
        (syncReports, syncSink) = AsyncStream.makeStream(of: SyncReport.self, bufferingPolicy: .unbounded)
        (events, eventSink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
    }

    public var state: VRRPState { engine?.state ?? .initialize }
    public var statistics: VRRPStatistics { engine?.statistics ?? VRRPStatistics() }
    /// The address adverts are sent from, once `run()` has found it.
    public var primaryAddress: IPAddress? { engine?.primaryAddress }

    /// State, priority, master, counters and time in state, read together.
    public var snapshot: Snapshot {
        let e = engine
        return Snapshot(name: configuration.name, state: e?.state ?? .initialize, priority: e?.effectivePriority ?? configuration.priority,
                        masterAddress: e?.state == .backup ? e?.masterAddress : nil, primaryAddress: e?.primaryAddress,
                        statistics: e?.statistics ?? VRRPStatistics(), since: stateSince,
                        inStateFor: stateSince.map { clock.now() - $0 }, configuration: configuration)
    }

    /// Runs the instance until the task is cancelled, then resigns and returns. Throws only when it cannot
    /// start (invalid configuration, no such interface, no IPv4 address, sockets refused), or when called
    /// a second time.
    public func run() async throws {
        guard phase == .idle else { throw VRRPRuntimeError("\(configuration.name): run() was called before; start a new speaker") }
        phase = .starting
        defer {
            transitionSink.finish()
            prioritySink.finish()
            syncSink.finish()
        }
        var pending = events.makeAsyncIterator()
        let transport: any VRRPTransport
        do {
            try configuration.validate()
            let primary = try await resolvePrimaryAddress(configuration)
            transport = try suppliedTransport ?? RawSocketTransport(interface: configuration.interface, family: configuration.family,
                                                                    joinMulticast: configuration.unicastPeers.isEmpty)
            engine = VRRPInstance(configuration: configuration, primaryAddress: primary)
            let sink = eventSink, clock = self.clock
            do {
                try transport.startReceiving { sink.yield(.datagram($0, receivedAt: clock.now())) }
            } catch {
                transport.close()
                throw error
            }
        } catch {
            await stop(&pending)
            throw error
        }
        self.transport = transport
        defer { transport.close() }
        phase = .running
        let c = configuration, primary = engine!.primaryAddress
        log(.info, "\(c.name): \(c.version) VRID \(c.virtualRouterID) priority \(c.priority) on \(c.interface) from \(primary), "
            + "advert every \(Self.seconds(c.advertisementInterval)) s, "
            + (c.unicastPeers.isEmpty ? "multicast 224.0.0.18" : "unicast to \(c.unicastPeers.map(\.description).joined(separator: ", "))"))

        let sink = eventSink, clock = self.clock
        await withTaskCancellationHandler {
            var last = clock.now()
            tracker = VRRPTracker(scripts: c.trackScripts, interfaces: c.trackInterfaces)
            if !c.trackInterfaces.isEmpty, let up = await linkStates() { recordLinks(up) }
            runScripts()
            await startIfReady(now: last)
            loop: while let event = await pending.next(isolation: #isolation) {
                // Never earlier than the event before: the engine sees time only move forward.
                switch event {
                case .datagram(let bytes, let receivedAt):
                    last = max(last, receivedAt)
                    let accepted = engine!.statistics.addressListMismatchesAccepted
                    let actions = engine!.receive(datagram: bytes, now: last)
                    if engine!.statistics.addressListMismatchesAccepted > accepted { logFollowedMismatch() }
                    await perform(actions)
                case .timer(let generation):
                    guard generation == timerGeneration else { continue }
                    last = max(last, clock.now())
                    await perform(engine!.timerFired(now: last))
                case .reconfigure(let new, let reply):
                    last = max(last, clock.now())
                    await reconfigure(new, now: last, reply: reply)
                case .repair(let suspected, let reply):
                    reply.resume(returning: await repair(suspected))
                case .script(let name, let generation, let result):
                    guard scriptRuns[name]?.generation == generation else { continue }
                    last = max(last, clock.now())
                    if tracker.record(name, success: result.success) {
                        log(.notice, "\(configuration.name): track script \(name) now \(result.success ? "succeeds" : "fails") (\(result.detail))")
                    }
                    await track(now: last)
                case .links(let up):
                    last = max(last, clock.now())
                    recordLinks(up)
                    await track(now: last)
                case .sync(let command):
                    last = max(last, clock.now())
                    await sync(command, now: last)
                case .stop:
                    break loop
                }
            }
            phase = .stopped
            await perform(engine!.shutdown(now: clock.now()))
            await stop(&pending)
        } onCancel: {
            sink.yield(.stop)
        }
    }

    /// The script run on every transition from now on (a new document may name another, or none).
    public func setNotifyScript(_ script: NotifyScript?) {
        notifyScript = script
    }

    /// Ends `run()` as cancelling its task does: a master resigns (priority 0) and removes its addresses.
    /// For a supervisor that runs many speakers in one task group and stops them one at a time.
    public nonisolated func stop() {
        eventSink.yield(.stop)
    }

    /// Ends the event stream and answers whatever was still waiting in it.
    private func stop(_ pending: inout AsyncStream<Event>.Iterator) async {
        phase = .stopped
        timer?.cancel()
        timer = nil
        for run in scriptRuns.values { run.task.cancel() }
        scriptRuns = [:]
        eventSink.finish()
        while let event = await pending.next(isolation: #isolation) {
            switch event {
            case .reconfigure(_, let reply): reply.resume(throwing: stoppedError)
            case .repair(_, let reply): reply.resume(returning: [])
            case .datagram, .timer, .script, .links, .sync, .stop: break
            }
        }
    }

    private var stoppedError: VRRPRuntimeError {
        VRRPRuntimeError("\(configuration.name): the speaker has stopped; start a new one")
    }

    // MARK: tracking

    /// Starts the configuration's track scripts that are not running as configured, stops those no longer
    /// configured; an unchanged script runs on undisturbed.
    private func runScripts() {
        let wanted = configuration.trackScripts
        for (name, run) in scriptRuns where !wanted.contains(run.script) {
            run.task.cancel()
            scriptRuns[name] = nil
        }
        let sink = eventSink, clock = self.clock
        for script in wanted where scriptRuns[script.name] == nil {
            scriptGeneration &+= 1
            let generation = scriptGeneration, name = script.name
            // Detached: a run waits on its child, not on the actor; results come back through the event stream.
            let task = Task.detached {
                await TrackScriptRunner.run(script, clock: clock) { sink.yield(.script(name, generation: generation, $0)) }
            }
            scriptRuns[name] = (script, generation, task)
        }
    }

    /// Reads the host's links and, when a tracked interface's changed, hands the new status to the engine
    /// (between two events, like every other input).
    public func checkLinks() async {
        guard phase == .running, !configuration.trackInterfaces.isEmpty, let up = await linkStates() else { return }
        eventSink.yield(.links(up))
    }

    /// Whether each interface of the host is up, by name; nil when the host cannot be read.
    private func linkStates() async -> [String: Bool]? {
        do {
            let observed = try await host.observe(sysctls: [], ipvs: .skip)
            return Dictionary(observed.interfaces.map { ($0.name, $0.isUp) }, uniquingKeysWith: { a, _ in a })
        } catch {
            log(.warning, "\(configuration.name): cannot read the links of the tracked interfaces: \(error)")
            return nil
        }
    }

    private func recordLinks(_ up: [String: Bool]) {
        for name in tracker.record(links: up) {
            log(.notice, "\(configuration.name): tracked interface \(name) is \(up[name] == true ? "up" : up[name] == nil ? "missing" : "down")")
        }
    }

    /// Hands the tracker's status to the engine, and starts the engine once every weight-0 script has
    /// reported.
    private func track(now: Duration) async {
        reportOwnFault()
        await perform(engine!.setTracking(trackingStatus, now: now))
        await startIfReady(now: now)
    }

    /// The tracker's status with the sync group's fault, when the tracker itself has none.
    private var trackingStatus: VRRPTrackingStatus {
        var status = tracker.status
        if status.fault == nil { status.fault = groupFault }
        return status
    }

    private func reportOwnFault() {
        let own = tracker.status.fault
        guard configuration.syncGroup != nil, own != reportedOwnFault else { return }
        reportedOwnFault = own
        syncSink.yield(.ownFault(own))
    }

    // MARK: sync groups

    /// Hands a command of the instance's sync group to it (between two events, like every other input).
    public nonisolated func sync(_ command: VRRPSyncGroup.Command) {
        eventSink.yield(.sync(command))
    }

    private func sync(_ command: VRRPSyncGroup.Command, now: Duration) async {
        guard let group = configuration.syncGroup else { return }
        switch command {
        case .promote(_, let why):
            await perform(engine!.syncPromote(group: group, because: why, now: now))
        case .demote(_, let why):
            await perform(engine!.syncDemote(group: group, because: why, now: now))
        case .fault(_, let reason):
            guard reason != groupFault else { return }
            groupFault = reason
            await track(now: now)
        }
    }

    private func startIfReady(now: Duration) async {
        guard !engineStarted else { return }
        guard tracker.ready else {
            let waiting = tracker.scripts.filter { $0.weight == 0 && tracker.succeeding($0.name) == nil }.map(\.name)
            log(.info, "\(configuration.name): waiting for the first result of track script \(waiting.joined(separator: ", ")) before starting")
            return
        }
        engineStarted = true
        reportOwnFault()
        _ = engine!.setTracking(trackingStatus, now: now)
        await perform(engine!.start(now: now))
    }

    // MARK: changes while running

    /// Changes the running instance to `new` in place: no state transition, no virtual address that
    /// stays is touched (`VRRPInstance.reconfigure`), and `configuration` becomes `new`. Before `run()`
    /// any valid configuration of the same identity is taken. Throws, changing nothing: `VRRPError` of
    /// kind `.invalidConfiguration`, or `.restartRequired` with the reason (then stop this speaker and
    /// start one with `new`); `VRRPRuntimeError` once the speaker has stopped.
    public func update(_ new: VRRPConfiguration) async throws {
        switch phase {
        case .idle:
            try new.validate()
            guard Identity(new) == identity else {
                throw VRRPError(.restartRequired, VRRPInstance.requiresRestart(from: configuration, to: new) ?? "\(Identity(new)) is not \(identity)")
            }
            logUpdate(from: configuration, to: new)
            configuration = new
        case .stopped:
            throw stoppedError
        case .starting, .running:
            let sink = eventSink, stopped = stoppedError
            try await withCheckedThrowingContinuation { (reply: CheckedContinuation<Void, any Error>) in
                if case .terminated = sink.yield(.reconfigure(new, reply)) { reply.resume(throwing: stopped) }
            }
        }
    }

    /// Looks at the host for the configured virtual addresses and, while master, puts back every one
    /// that is missing from the interface (something deleted it behind the speaker's back), with
    /// gratuitous ARP, logging each. Returns the addresses put back; a backup looks at nothing.
    @discardableResult
    public func checkAddresses() async -> [CIDR] {
        guard phase == .running, engine?.state == .master else { return [] }
        guard let suspected = await missingAddresses(), !suspected.isEmpty else { return [] }
        let sink = eventSink
        return await withCheckedContinuation { (reply: CheckedContinuation<[CIDR], Never>) in
            if case .terminated = sink.yield(.repair(suspected, reply)) { reply.resume(returning: []) }
        }
    }

    private func reconfigure(_ new: VRRPConfiguration, now: Duration, reply: CheckedContinuation<Void, any Error>) async {
        let actions: [VRRPAction]
        do {
            actions = try engine!.reconfigure(new, now: now)
        } catch {
            reply.resume(throwing: error)
            return
        }
        let old = configuration
        logUpdate(from: old, to: new)
        configuration = new
        // What the update removes is taken off where the old configuration put it.
        await perform(actions, removingFrom: old)
        if new.trackScripts != old.trackScripts {
            tracker.reconfigure(new.trackScripts)
            runScripts()
            await track(now: now)
        }
        if new.trackInterfaces != old.trackInterfaces {
            tracker.reconfigure(interfaces: new.trackInterfaces)
            if let up = await linkStates() { recordLinks(up) }
            await track(now: now)
        }
        if new.syncGroup != old.syncGroup {
            // Out of a group, no group fault; into one, the group hears this member's own fault afresh.
            groupFault = nil
            reportedOwnFault = nil
            await track(now: now)
        }
        // Without promote_secondaries the kernel deletes an address's secondaries of the same subnet
        // with it: a removed VIP can take a kept one along. Put such a one back at once.
        if engine!.state == .master, actions.contains(where: { if case .removeAddresses = $0 { true } else { false } }) {
            _ = await repair(new.virtualAddresses)
        }
        reply.resume()
    }

    /// Repairs those of `suspected` still missing now, between two events.
    private func repair(_ suspected: [CIDR]) async -> [CIDR] {
        guard engine!.state == .master, let missing = await missingAddresses() else { return [] }
        return await perform(engine!.repairAddresses(missing: missing.filter(suspected.contains)), repairing: true)
    }

    /// The configured virtual addresses their interface does not hold; nil when the host cannot be read.
    private func missingAddresses() async -> [CIDR]? {
        let c = configuration
        do {
            let observed = try await host.observe(sysctls: [], ipvs: .skip)
            return c.virtualAddresses.filter { cidr in
                !(observed.interface(named: c.interface(of: cidr.address))?.addresses.contains { $0.address == cidr } ?? false)
            }
        } catch {
            log(.warning, "\(c.name): cannot read the addresses of \(c.byInterface(c.virtualAddresses, \.address).map(\.interface).joined(separator: ", ")): \(error)")
            return nil
        }
    }

    private func logUpdate(from old: VRRPConfiguration, to new: VRRPConfiguration) {
        var changes: [String] = []
        if old.name != new.name { changes.append("name \(old.name) -> \(new.name)") }
        if old.priority != new.priority { changes.append("priority \(old.priority) -> \(new.priority)") }
        if old.advertisementInterval != new.advertisementInterval {
            changes.append("advert every \(Self.seconds(old.advertisementInterval)) -> \(Self.seconds(new.advertisementInterval)) s")
        }
        changes += new.virtualAddresses.filter { !old.virtualAddresses.contains($0) }.map { "+\($0)" }
        changes += old.virtualAddresses.filter { !new.virtualAddresses.contains($0) }.map { "-\($0)" }
        changes += new.virtualAddresses.filter { old.virtualAddresses.contains($0) && old.interface(of: $0.address) != new.interface(of: $0.address) }
            .map { "\($0) \(old.interface(of: $0.address)) -> \(new.interface(of: $0.address))" }
        if old.preempt != new.preempt { changes.append(new.preempt ? "preempt" : "nopreempt") }
        if old.preemptDelay != new.preemptDelay { changes.append("preempt delay \(Self.seconds(new.preemptDelay)) s") }
        if old.authPassword != new.authPassword { changes.append("new password") }
        if old.unicastPeers != new.unicastPeers { changes.append("unicast to \(new.unicastPeers.map(\.description).joined(separator: ", "))") }
        if old.sourceAddress != new.sourceAddress { changes.append("source \(new.sourceAddress.map(\.description) ?? "automatic")") }
        if old.gratuitousARP != new.gratuitousARP { changes.append("gratuitous ARP settings") }
        guard !changes.isEmpty else { return }
        log(.notice, "\(new.name): updated in place (\(state)): \(changes.joined(separator: ", "))")
    }

    private func logFollowedMismatch() {
        let c = configuration, master = engine?.masterAddress.map(\.description) ?? "?"
        logOccasionally(key: "address-list-followed \(master)",
                        "\(c.name): following master \(master) although its advertised addresses differ from [\(c.virtualAddresses.map(\.description).joined(separator: ", "))] "
                        + "(a change on its way through the group, or a misconfiguration)")
    }

    // MARK: performing actions

    /// Performs `actions` in order; returns the addresses added successfully. `repairing`: the additions
    /// put back addresses found missing, and each is logged as such. `removingFrom`: the configuration
    /// whose interfaces removals apply to (the one before an update), else the current one.
    @discardableResult
    private func perform(_ actions: [VRRPAction], repairing: Bool = false, removingFrom previous: VRRPConfiguration? = nil) async -> [CIDR] {
        guard let engine, let transport else { return [] }
        let configuration = self.configuration
        let removal = previous ?? configuration
        var added: [CIDR] = []
        for action in actions {
            switch action {
            case .sendAdvertisement(let advert):
                let destinations = configuration.unicastPeers.isEmpty ? [configuration.multicastGroup] : configuration.unicastPeers
                for destination in destinations {
                    do {
                        try transport.send(advert.encoded(source: engine.primaryAddress, destination: destination),
                                           from: engine.primaryAddress, to: destination)
                    } catch {
                        log(.error, "\(configuration.name): cannot send advertisement: \(error)")
                    }
                }
            case .addAddresses(let cidrs):
                let started = clock.now()
                let report = await host.apply(cidrs.map { .addAddress(interface: configuration.interface(of: $0.address), address: $0, label: nil) })
                for (cidr, failure) in zip(cidrs, report.failures) {
                    if let failure, failure.kind != .exists {
                        log(.error, "\(configuration.name): \(repairing ? "cannot re-add \(cidr): " : "")\(failure.message)")
                        continue
                    }
                    added.append(cidr)
                    if repairing { log(.notice, "\(configuration.name): \(cidr) missing on \(configuration.interface(of: cidr.address)) while MASTER: re-added") }
                }
                if !repairing {
                    let placed = configuration.byInterface(cidrs, \.address).map { "\($0.items.map(\.description).joined(separator: ", ")) to \($0.interface)" }
                    log(.info, "\(configuration.name): added \(placed.joined(separator: ", ")) in \(Self.milliseconds(clock.now() - started)) ms")
                }
            case .removeAddresses(let cidrs):
                let report = await host.apply(cidrs.map { .deleteAddress(interface: removal.interface(of: $0.address), address: $0) })
                for e in report.errors where e.kind != .notFound { log(.error, "\(configuration.name): \(e.message)") }
            case .sendGratuitousARP(let addresses, let count):
                for group in configuration.byInterface(addresses, \.self) {
                    do {
                        try transport.sendGratuitousARP(for: group.items, count: count, on: group.interface)
                    } catch {
                        log(.error, "\(configuration.name): \(error)")
                    }
                }
            case .scheduleTimer(let deadline):
                schedule(deadline)
            case .notify(let transition):
                stateSince = transition.at
                log(.notice, "\(configuration.name): \(transition)")
                transitionSink.yield(transition)
                if let notifyScript, case .failure(let e) = notifyScript.run(instance: configuration.name, transition: transition) {
                    log(.error, "\(configuration.name): \(e)")
                }
                if case .failure(let e)? = NotifyScript.runStateScript(configuration.stateScripts, transition: transition) {
                    log(.error, "\(configuration.name): \(e)")
                }
            case .discard(let discard):
                logDiscard(discard)
            case .priorityChanged(let from, let to):
                log(.notice, "\(configuration.name): effective priority \(from) -> \(to) (\(state))")
                prioritySink.yield(to)
            case .syncWantsMaster(let wants):
                if wants { log(.info, "\(configuration.name): would be MASTER; waiting for sync group \(configuration.syncGroup ?? "?")") }
                syncSink.yield(.wantsMaster(wants))
            }
        }
        return added
    }

    private func schedule(_ deadline: Duration?) {
        timer?.cancel()
        timerGeneration &+= 1
        guard let deadline, phase == .running else { timer = nil; return }
        let generation = timerGeneration, clock = self.clock, events = eventSink
        // Detached: the wake-up needs nothing of the actor, so it goes straight into the event stream.
        timer = Task.detached {
            do {
                try await clock.sleep(until: deadline)
                events.yield(.timer(generation))
            } catch {}
        }
    }

    /// Logs a discarded packet the first time for each reason and sender, then at most every 10 s with
    /// the number suppressed: a misconfigured peer is visible without flooding the log.
    private func logDiscard(_ d: VRRPDiscard) {
        guard d.reason != .ownAdvertisement else { return }
        logOccasionally(key: "\(d.reason.rawValue) \(d.source.map(\.description) ?? "-")", "\(configuration.name): \(d) [\(d.reason.rawValue)]")
    }

    /// A warning the first time for `key`, then at most every 10 s with the number suppressed meanwhile.
    private func logOccasionally(key: String, _ message: String) {
        let now = clock.now()
        if let last = lastOccasionalLog[key], now - last.at < .seconds(10) {
            lastOccasionalLog[key] = (last.at, last.suppressed + 1)
            return
        }
        let suppressed = lastOccasionalLog[key]?.suppressed ?? 0
        lastOccasionalLog[key] = (now, 0)
        log(.warning, message + (suppressed > 0 ? " (\(suppressed) more like it since the last report)" : ""))
    }

    /// The configured source address, or the interface's first IPv4 address that is not a virtual one; for
    /// IPv6 its link-local address (RFC 5798 section 5.1.2.1).
    private func resolvePrimaryAddress(_ c: VRRPConfiguration) async throws -> IPAddress {
        let state = try await host.observe(sysctls: [], ipvs: .skip)
        guard let interface = state.interface(named: c.interface) else { throw VRRPRuntimeError("no interface \(c.interface)") }
        guard interface.isUp else { throw VRRPRuntimeError("interface \(c.interface) is down") }
        if let source = c.sourceAddress {
            guard interface.addresses.contains(where: { $0.address.address == source }) else {
                throw VRRPRuntimeError("source address \(source) is not on \(c.interface)")
            }
            return source
        }
        let virtual = Set(c.virtualAddresses.map(\.address))
        if c.family == .ipv6 {
            guard let local = interface.addresses.first(where: { $0.address.address.isLinkLocal }) else {
                throw VRRPRuntimeError("interface \(c.interface) has no IPv6 link-local address to send advertisements from (is IPv6 off on it?)")
            }
            return local.address.address
        }
        guard let primary = interface.addresses.first(where: { $0.address.address.family == .ipv4 && !virtual.contains($0.address.address) }) else {
            throw VRRPRuntimeError("interface \(c.interface) has no IPv4 address to send advertisements from")
        }
        return primary.address.address
    }

    static func milliseconds(_ d: Duration) -> String {
        let tenths = Int(d.components.seconds * 10_000 + d.components.attoseconds / 100_000_000_000_000)
        return "\(tenths / 10).\(tenths % 10)"
    }

    static func seconds(_ d: Duration) -> String {
        let (s, attos) = d.components
        let cs = attos / 10_000_000_000_000_000
        return cs == 0 ? "\(s)" : "\(s).\(cs < 10 ? "0" : "")\(cs)"
    }
}
