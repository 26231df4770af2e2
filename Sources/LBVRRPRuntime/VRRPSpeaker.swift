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
/// so the best backup takes over after Skew_Time.
public actor VRRPSpeaker {
    public enum LogLevel: String, Sendable { case info, notice, warning, error }

    public nonisolated let configuration: VRRPConfiguration
    /// Every state change, in order. Finishes when `run()` returns.
    public nonisolated let transitions: AsyncStream<VRRPTransition>
    private let transitionSink: AsyncStream<VRRPTransition>.Continuation

    private let host: any HostControl
    private let clock: any VRRPClock
    private let suppliedTransport: (any VRRPTransport)?
    private let notifyScript: NotifyScript?
    private let log: @Sendable (LogLevel, String) -> Void

    private var engine: VRRPInstance?
    private var transport: (any VRRPTransport)?
    private var events: AsyncStream<Event>.Continuation?
    private var timer: Task<Void, Never>?
    private var timerGeneration: UInt64 = 0
    private var lastDiscardLog: [String: (at: Duration, suppressed: Int)] = [:]

    enum Event: Sendable {
        /// A datagram with the instant the receive thread got it: Master_Down_Timer starts at reception,
        /// not when the actor gets round to it.
        case datagram([UInt8], receivedAt: Duration)
        case timer(UInt64)
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
        self.host = host
        self.clock = clock
        self.suppliedTransport = transport
        self.notifyScript = notifyScript
        self.log = log
        (transitions, transitionSink) = AsyncStream.makeStream(of: VRRPTransition.self, bufferingPolicy: .unbounded)
    }

    public var state: VRRPState { engine?.state ?? .initialize }
    public var statistics: VRRPStatistics { engine?.statistics ?? VRRPStatistics() }
    /// The address adverts are sent from, once `run()` has found it.
    public var primaryAddress: IPAddress? { engine?.primaryAddress }

    /// Runs the instance until the task is cancelled, then resigns and returns. Throws only when it cannot
    /// start (invalid configuration, no such interface, no IPv4 address, sockets refused).
    public func run() async throws {
        defer { transitionSink.finish() }
        try configuration.validate()
        let primary = try await resolvePrimaryAddress(configuration)
        let transport = try suppliedTransport ?? RawSocketTransport(interface: configuration.interface,
                                                                    joinMulticast: configuration.unicastPeers.isEmpty)
        self.transport = transport
        defer { transport.close() }
        engine = VRRPInstance(configuration: configuration, primaryAddress: primary)
        let (stream, sink) = AsyncStream.makeStream(of: Event.self, bufferingPolicy: .unbounded)
        events = sink
        let clock = self.clock
        try transport.startReceiving { sink.yield(.datagram($0, receivedAt: clock.now())) }
        log(.info, "\(configuration.name): \(configuration.version) VRID \(configuration.virtualRouterID) priority \(configuration.priority) on \(configuration.interface) from \(primary), "
            + "advert every \(Self.seconds(configuration.advertisementInterval)) s, "
            + (configuration.unicastPeers.isEmpty ? "multicast 224.0.0.18" : "unicast to \(configuration.unicastPeers.map(\.description).joined(separator: ", "))"))

        await withTaskCancellationHandler {
            var last = clock.now()
            await perform(engine!.start(now: last))
            for await event in stream {
                let actions: [VRRPAction]
                switch event {
                case .datagram(let bytes, let receivedAt):
                    // Never earlier than the event before: the engine sees time only move forward.
                    last = max(last, receivedAt)
                    actions = engine!.receive(datagram: bytes, now: last)
                case .timer(let generation):
                    guard generation == timerGeneration else { continue }
                    last = max(last, clock.now())
                    actions = engine!.timerFired(now: last)
                case .stop:
                    return
                }
                await perform(actions)
            }
        } onCancel: {
            sink.yield(.stop)
        }
        await perform(engine!.shutdown(now: clock.now()))
        timer?.cancel()
        sink.finish()
        events = nil
    }

    // MARK: performing actions

    private func perform(_ actions: [VRRPAction]) async {
        guard let engine, let transport else { return }
        for action in actions {
            switch action {
            case .sendAdvertisement(let advert):
                let destinations = configuration.unicastPeers.isEmpty ? [RawSocketTransport.multicastGroup] : configuration.unicastPeers
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
                let report = await host.apply(cidrs.map { .addAddress(interface: configuration.interface, address: $0, label: nil) })
                for e in report.errors where e.kind != .exists { log(.error, "\(configuration.name): \(e.message)") }
                log(.info, "\(configuration.name): added \(cidrs.map(\.description).joined(separator: ", ")) to \(configuration.interface) in \(Self.milliseconds(clock.now() - started)) ms")
            case .removeAddresses(let cidrs):
                let report = await host.apply(cidrs.map { .deleteAddress(interface: configuration.interface, address: $0) })
                for e in report.errors where e.kind != .notFound { log(.error, "\(configuration.name): \(e.message)") }
            case .sendGratuitousARP(let addresses, let count):
                do {
                    try transport.sendGratuitousARP(for: addresses, count: count)
                } catch {
                    log(.error, "\(configuration.name): \(error)")
                }
            case .scheduleTimer(let deadline):
                schedule(deadline)
            case .notify(let transition):
                log(.notice, "\(configuration.name): \(transition)")
                transitionSink.yield(transition)
                if let notifyScript, case .failure(let e) = notifyScript.run(instance: configuration.name, transition: transition) {
                    log(.error, "\(configuration.name): \(e)")
                }
            case .discard(let discard):
                logDiscard(discard)
            }
        }
    }

    private func schedule(_ deadline: Duration?) {
        timer?.cancel()
        timerGeneration &+= 1
        guard let deadline, let events else { timer = nil; return }
        let generation = timerGeneration, clock = self.clock
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
        let key = "\(d.reason.rawValue) \(d.source.map(\.description) ?? "-")"
        let now = clock.now()
        if let last = lastDiscardLog[key], now - last.at < .seconds(10) {
            lastDiscardLog[key] = (last.at, last.suppressed + 1)
            return
        }
        let suppressed = lastDiscardLog[key]?.suppressed ?? 0
        lastDiscardLog[key] = (now, 0)
        log(.warning, "\(configuration.name): \(d) [\(d.reason.rawValue)]\(suppressed > 0 ? " (\(suppressed) more like it since the last report)" : "")")
    }

    /// The configured source address, or the interface's first IPv4 address that is not a virtual one.
    private func resolvePrimaryAddress(_ c: VRRPConfiguration) async throws -> IPAddress {
        let state = try await host.observe(sysctls: [])
        guard let interface = state.interface(named: c.interface) else { throw VRRPRuntimeError("no interface \(c.interface)") }
        guard interface.isUp else { throw VRRPRuntimeError("interface \(c.interface) is down") }
        if let source = c.sourceAddress {
            guard interface.addresses.contains(where: { $0.address.address == source }) else {
                throw VRRPRuntimeError("source address \(source) is not on \(c.interface)")
            }
            return source
        }
        let virtual = Set(c.virtualAddresses.map(\.address))
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
