#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import LBCrypto
import LBDocument
import LBGossip
import LBGossipNet

/// Why a gossip member cannot start.
public enum GossipServiceError: Error, Equatable, CustomStringConvertible {
    /// The address peers would be told to use is a wildcard.
    case unreachableAdvertiseAddress(String)

    public var description: String {
        switch self {
        case .unreachableAdvertiseAddress(let a):
            "gossip would advertise \(a), which no peer can reach; bind a specific address or pass advertise: \"ADDRESS:PORT\""
        }
    }
}

/// One member of the gossip cluster, running: the SWIM engine driven by a transport and a clock, with
/// the signed document it holds, its report, and everyone else's, offered as async sequences.
///
/// This is the API the agent and the controller use. All protocol decisions are the engine's
/// (`GossipInstance`, the same code the simulator runs); this actor only moves bytes, keeps time,
/// fetches and verifies documents with the trust policy, and persists the held document.
public actor GossipService {
    /// What the service counted beyond the engine's and the transport's own counters.
    public struct Stats: Sendable, Equatable {
        /// Messages that opened under the keyring but did not decode as gossip.
        public var malformed = 0
        /// Documents fetched, verified and held.
        public var documentsHeld = 0
        /// Fetches that failed: the holder was unreachable, or the document did not verify.
        public var fetchesFailed = 0
        /// Held documents that could not be written to the state directory.
        public var storeFailures = 0
    }

    public let config: GossipConfig
    public nonisolated let node: GossipNode
    /// The transport: its counters, and (SealedTransport) key rotation.
    public nonisolated let transport: any GossipTransport
    let clock: any GossipClock
    var engine: GossipInstance
    var policy: TrustPolicy
    let stateDirectory: String?

    /// The document held now (nil until one is published, fetched or loaded from the state directory).
    public private(set) var document: HeldDocument?
    /// The last fetched document that was refused, and why.
    public private(set) var lastRejection: FetchRejection?
    public private(set) var stats = Stats()
    /// Why the last write of the held document failed, if one did.
    public private(set) var lastStoreError: String?

    var memberSubscribers = Subscribers<MembershipEvent>()
    var documentSubscribers = Subscribers<HeldDocument>()
    var reportSubscribers = Subscribers<NodeReport>()
    var rejectionSubscribers = Subscribers<FetchRejection>()
    var inboundTask: Task<Void, Never>?
    var timerTask: Task<Void, Never>?
    var timerAt: Duration?
    var stopped = false

    /// A member named `name` on `transport`, advertised at `advertise` ("host:port"; default: the
    /// transport's own address, which must then be one that peers can reach, not 0.0.0.0 or ::).
    /// Documents are accepted only if `policy` verifies them; with `stateDirectory`, the held document
    /// is kept there and reloaded on the next start.
    public init(name: String, metadata: MemberMetadata = MemberMetadata(), config: GossipConfig = .lan,
                transport: any GossipTransport, advertise: String? = nil, policy: TrustPolicy,
                clock: any GossipClock = SystemGossipClock(), stateDirectory: String? = nil,
                seed: UInt64 = UInt64.random(in: 0...UInt64.max)) throws {
        let address = advertise ?? transport.localAddress
        // A wildcard would be gossiped to every peer as where to reach this member, and reach nothing.
        guard !address.hasPrefix("0.0.0.0:"), !address.hasPrefix("[::]:") else {
            throw GossipServiceError.unreachableAdvertiseAddress(address)
        }
        node = GossipNode(name: name, address: address)
        var metadata = metadata
        metadata.documentVersion = 0
        metadata.documentDigest = []
        engine = try GossipInstance(node: node, metadata: metadata, config: config, seed: seed)
        self.config = config
        self.transport = transport
        self.clock = clock
        self.policy = policy
        self.stateDirectory = stateDirectory
    }

    /// A member listening on host:port (0: any free port) with SealedTransport and `keyring`.
    public static func listen(name: String, host: String, port: Int, advertise: String? = nil, keyring: Keyring,
                              policy: TrustPolicy, metadata: MemberMetadata = MemberMetadata(), config: GossipConfig = .lan,
                              stateDirectory: String? = nil) async throws -> GossipService {
        let transport = try await SealedTransport.start(host: host, port: port, keyring: keyring)
        do {
            return try GossipService(name: name, metadata: metadata, config: config, transport: transport,
                                     advertise: advertise, policy: policy, stateDirectory: stateDirectory)
        } catch {
            await transport.shutdown()
            throw error
        }
    }

    // MARK: Life cycle

    /// Loads the stored document (if any verifies), starts receiving and joins through `seeds`
    /// ("host:port"; empty for the first member).
    public func start(seeds: [String] = []) {
        if let stored = loadStoredDocument() { adopt(stored) }
        transport.serveRequests { [weak self] request in
            guard let self else { return nil }
            return await self.serve(request)
        }
        let inbound = transport.inbound
        inboundTask = Task { [weak self] in
            for await message in inbound {
                guard let self else { return }
                await self.receive(message)
            }
        }
        perform(engine.start(now: clock.now, seeds: seeds))
        if let document { perform(engine.hold(document.head, now: clock.now)) }
    }

    /// Graceful leave: announces it, keeps gossiping a few rounds so the news spreads, then stops.
    public func leave() async {
        guard !stopped else { return }
        perform(engine.leave(now: clock.now))
        try? await Task.sleep(for: config.gossipInterval * 4)
        await stop()
    }

    /// Stops at once, as a crash would look to the others: no leave, sockets closed, streams finished.
    public func stop() async {
        guard !stopped else { return }
        stopped = true
        timerTask?.cancel()
        inboundTask?.cancel()
        await transport.shutdown()
        memberSubscribers.finish()
        documentSubscribers.finish()
        reportSubscribers.finish()
        rejectionSubscribers.finish()
    }

    // MARK: Documents

    /// Verifies a signed document (DSSE envelope JSON) with the trust policy and, if it is newer than the
    /// held one, holds and spreads it: the controller's entry point. Throws the policy's refusal.
    @discardableResult
    public func publish(envelopeJSON: [UInt8]) throws(DocumentRejection) -> HeldDocument {
        let verified = try DesiredStateDocument.verify(json: envelopeJSON, policy: policy)
        let held = HeldDocument(head: DocumentHead(version: verified.document.version, digest: verified.digest.bytes),
                                envelopeJSON: envelopeJSON, verified: verified)
        if !verified.isCurrentHead { adopt(held) }
        return held
    }

    /// The held document now, then every newer one held.
    public func documents() -> AsyncStream<HeldDocument> {
        documentSubscribers.subscribe(initial: document.map { [$0] } ?? []) { [weak self] id in
            Task { await self?.unsubscribe(document: id) }
        }
    }

    func unsubscribe(document id: Int) { documentSubscribers.remove(id) }

    func adopt(_ held: HeldDocument) {
        guard held.head.version > (document?.head.version ?? 0) else { return }
        policy.advance(to: held.verified)
        document = held
        store(held)
        documentSubscribers.yield(held)
        if inboundTask != nil { perform(engine.hold(held.head, now: clock.now)) }
    }

    /// Answers a peer's fetch with the held document if it is exactly the one asked for.
    func serve(_ request: [UInt8]) -> [UInt8]? {
        guard let head = try? GossipCodec.decodeFetch(request), let document, document.head == head else { return nil }
        return document.envelopeJSON
    }

    func fetch(_ head: DocumentHead, from holder: GossipNode) {
        let transport = transport
        let timeout = config.fetchTimeout
        Task { [weak self] in
            do {
                let bytes = try await transport.request(GossipCodec.encodeFetch(head), to: holder.address, timeout: timeout)
                await self?.fetched(head, from: holder, bytes: bytes)
            } catch {
                await self?.refuse(head, from: holder, reason: "unreachable", message: "\(error)")
            }
        }
    }

    func fetched(_ head: DocumentHead, from holder: GossipNode, bytes: [UInt8]) {
        guard !stopped else { return }
        do {
            let verified = try DesiredStateDocument.verify(json: bytes, policy: policy)
            // The holder must deliver what it advertised; anything else is not held, whatever it is.
            guard verified.document.version == head.version, verified.digest.bytes == head.digest else {
                return refuse(head, from: holder, reason: "mismatch",
                              message: "\(holder.name) advertised \(head) but served v\(verified.document.version) \(verified.digest)")
            }
            stats.documentsHeld += 1
            adopt(HeldDocument(head: head, envelopeJSON: bytes, verified: verified))
        } catch {
            refuse(head, from: holder, reason: error.reason, message: error.description)
        }
    }

    func refuse(_ head: DocumentHead, from holder: GossipNode, reason: String, message: String) {
        guard !stopped else { return }
        stats.fetchesFailed += 1
        let rejection = FetchRejection(head: head, from: holder.name, reason: reason, message: message)
        lastRejection = rejection
        rejectionSubscribers.yield(rejection)
        perform(engine.fetchFailed(head, from: holder.name, now: clock.now))
    }

    /// Every fetched document refused from now on (forged, tampered, other cluster, unreachable holder…).
    public func rejections() -> AsyncStream<FetchRejection> {
        rejectionSubscribers.subscribe(initial: []) { [weak self] id in
            Task { await self?.unsubscribe(rejection: id) }
        }
    }

    func unsubscribe(rejection id: Int) { rejectionSubscribers.remove(id) }

    // MARK: Reports and members

    /// Publishes this member's report (at most config.maxReportBytes), replacing its previous one everywhere.
    public func publishReport(_ bytes: [UInt8]) throws(GossipError) {
        perform(try engine.publishReport(bytes, now: clock.now))
    }

    /// Every member's latest report now, then each newer one.
    public func reports() -> AsyncStream<NodeReport> {
        reportSubscribers.subscribe(initial: Array(engine.reports.values)) { [weak self] id in
            Task { await self?.unsubscribe(report: id) }
        }
    }

    func unsubscribe(report id: Int) { reportSubscribers.remove(id) }

    /// Latest report of every member known.
    public var currentReports: [String: NodeReport] { engine.reports }

    /// Every member known (this one first), then each change.
    public func members() -> AsyncStream<MembershipEvent> {
        memberSubscribers.subscribe(initial: currentMembers.map { .changed($0, previous: nil) }) { [weak self] id in
            Task { await self?.unsubscribe(member: id) }
        }
    }

    func unsubscribe(member id: Int) { memberSubscribers.remove(id) }

    /// This member, then everyone it knows.
    public var currentMembers: [Member] { [engine.me] + engine.members.values }

    /// The engine's counters (probes, refutations, fetches…).
    public var engineStats: GossipInstance.Stats { engine.stats }

    /// Lifeguard's local health score (0 is healthy).
    public var health: Int { engine.health }

    // MARK: Driving the engine

    func receive(_ message: GossipInbound) {
        guard !stopped else { return }
        guard let packet = try? GossipCodec.decode(message.bytes) else { stats.malformed += 1; return }
        perform(engine.receive(packet, now: clock.now))
    }

    func tick(scheduledFor at: Duration) {
        guard !stopped, timerAt == at else { return }
        timerAt = nil
        timerTask = nil
        perform(engine.tick(now: clock.now))
    }

    func perform(_ directives: [GossipDirective]) {
        guard !stopped else { return }
        for d in directives {
            switch d {
            case .send(let packet, let address, let reliable):
                transport.send(GossipCodec.encode(packet), to: address, reliable: reliable)
            case .scheduleTimer(let at):
                schedule(at)
            case .memberChanged(let m, let previous):
                // Subscribers already had this member in their initial list.
                if m.node.name == node.name, previous == nil { continue }
                memberSubscribers.yield(.changed(m, previous: previous))
            case .memberRemoved(let n):
                memberSubscribers.yield(.removed(n))
            case .fetchDocument(let head, let from):
                fetch(head, from: from)
            case .reportChanged(let r):
                reportSubscribers.yield(r)
            }
        }
    }

    /// One timer task for the earliest wake-up asked for; a later request waits for that tick, which
    /// asks again. Replacing it only when the new time is earlier keeps task churn off the packet path.
    func schedule(_ at: Duration) {
        if let current = timerAt, current <= at { return }
        timerTask?.cancel()
        timerAt = at
        let clock = clock
        timerTask = Task { [weak self] in
            do { try await clock.sleep(until: at) } catch { return }
            await self?.tick(scheduledFor: at)
        }
    }

    // MARK: Persistence

    var documentPath: String? { stateDirectory.map(HeldDocument.path(in:)) }

    func store(_ held: HeldDocument) {
        guard let path = documentPath else { return }
        do {
            try AtomicFile.write(held.envelopeJSON, to: path)
        } catch {
            // The document is still held and served; only a restart before the next write would miss it.
            stats.storeFailures += 1
            lastStoreError = error.description
        }
    }

    func loadStoredDocument() -> HeldDocument? {
        guard let stateDirectory else { return nil }
        return try? HeldDocument.load(from: stateDirectory, policy: policy)
    }
}
