import LBGossip

/// A deterministic network of `GossipInstance`s in one process: virtual clock, seeded randomness,
/// latency with jitter, packet loss and partitions. Same seed, same run.
public final class GossipSimulator {
    /// Network behaviour; change it between runs to inject loss or heal.
    public struct Network: Sendable {
        /// One-way delay of every message.
        public var latency: Duration = .milliseconds(1)
        /// Extra uniform random delay in 0...jitter.
        public var jitter: Duration = .milliseconds(1)
        /// Probability that a datagram is dropped (streams are not dropped: TCP retransmits).
        public var loss: Double = 0
        /// Size of a signed document, counted once per fetch answered.
        public var documentBytes = 4096
        public init() {}
    }

    /// A recorded status change seen by one member about another.
    public struct Observation: Sendable {
        public var at: Duration
        public var observer: Int
        public var member: Member
    }

    public let config: GossipConfig
    public var network = Network()
    public private(set) var now: Duration = .zero
    public private(set) var nodes: [GossipInstance?] = []
    /// Every memberChanged directive, in order; tests query it for detection and convergence times.
    public private(set) var observations: [Observation] = []
    /// Whether to record observations (off saves memory in large runs that only poll state).
    public var recordObservations = true
    /// Datagrams and streams sent, and how many the network dropped.
    public private(set) var sent = 0, dropped = 0
    /// Bytes on the wire (encoded packet plus the keyring's 45 bytes of sealing; document fetches count
    /// their request and `documentBytes`), counted only when `measureBytes` is set.
    public var measureBytes = false
    public private(set) var bytesSent = 0
    /// Documents that verify: what a signed document is to a member's trust policy. `hold` a head that is
    /// not here to play a member advertising a forged document.
    public var documents: Set<DocumentHead> = []
    /// When each member came to hold `trackedHead` (set it before publishing).
    public var trackedHead: DocumentHead? { didSet { heldAt = [:] } }
    public private(set) var heldAt: [Int: Duration] = [:]
    /// Fetches answered with a document that did not verify, and fetches the holder could not answer.
    public private(set) var rejectedFetches = 0, unansweredFetches = 0
    /// Fetches started, by the head asked for.
    public private(set) var fetchesByHead: [DocumentHead: Int] = [:]
    var rng: GossipRandom
    var group: [Int] = []              // partition group per node; messages cross groups only if equal
    var timerGeneration: [Int] = []
    var timerAt: [Duration?] = []
    var heap = EventHeap()
    var seq: UInt64 = 0
    var addressIndex: [String: Int] = [:]

    /// Creates an empty network; `seed` drives latency, loss and every instance's seed.
    public init(config: GossipConfig, seed: UInt64) {
        self.config = config
        rng = GossipRandom(seed: seed)
    }

    /// Name of member `i`.
    public static func name(_ i: Int) -> String { "node-\(i)" }
    /// Address of member `i`.
    public static func address(_ i: Int) -> String { "10.\(i / 65536).\(i / 256 % 256).\(i % 256):7946" }

    /// Adds a member, starts it now and joins it through the given seed members.
    @discardableResult
    public func add(seeds: [Int] = [], metadata: MemberMetadata = MemberMetadata(), incarnation: UInt64 = 0) -> Int {
        let i = nodes.count
        nodes.append(nil); group.append(0); timerGeneration.append(0); timerAt.append(nil)
        addressIndex[Self.address(i)] = i
        start(i, seeds: seeds, metadata: metadata, incarnation: incarnation)
        return i
    }

    /// Adds `n` members that already know each other (as after a completed join), sharing one snapshot
    /// of the membership: how 10,000 members fit in one process. Returns their indices.
    @discardableResult
    public func bootstrap(_ n: Int, metadata: MemberMetadata = MemberMetadata()) -> Range<Int> {
        let first = nodes.count
        let range = first..<(first + n)
        let snapshot = MembershipSnapshot(nodes: range.map { GossipNode(name: Self.name($0), address: Self.address($0)) }, metadata: metadata)
        for i in range {
            nodes.append(nil); group.append(0); timerGeneration.append(0); timerAt.append(nil)
            addressIndex[Self.address(i)] = i
            var g = try! GossipInstance(node: GossipNode(name: Self.name(i), address: Self.address(i)), metadata: metadata,
                                        config: config, seed: rng.next(), snapshot: snapshot)
            let out = g.start(now: now)
            nodes[i] = g
            perform(out, by: i)
        }
        return range
    }

    /// Member `i` publishes a document that verifies (the controller's role): it holds it and spreads it.
    public func publish(_ head: DocumentHead, at i: Int) {
        documents.insert(head)
        mutate(i) { $0.hold(head, now: now) }
    }

    /// Member `i` advertises `head` whether or not it verifies (a forged or replayed document).
    public func hold(_ head: DocumentHead, at i: Int) { mutate(i) { $0.hold(head, now: now) } }

    /// Member `i` publishes a report.
    public func publishReport(_ bytes: [UInt8], at i: Int) { mutate(i) { (try? $0.publishReport(bytes, now: now)) ?? [] } }

    /// Starts (or restarts, with fresh state) member `i`.
    public func start(_ i: Int, seeds: [Int], metadata: MemberMetadata = MemberMetadata(), incarnation: UInt64 = 0) {
        var g = try! GossipInstance(node: GossipNode(name: Self.name(i), address: Self.address(i)), metadata: metadata,
                                    incarnation: incarnation, config: config, seed: rng.next())
        let out = g.start(now: now, seeds: seeds.map(Self.address))
        nodes[i] = g
        timerGeneration[i] += 1
        timerAt[i] = nil
        perform(out, by: i)
    }

    /// Crashes member `i`: it stops answering and its timers stop.
    public func kill(_ i: Int) { nodes[i] = nil; timerGeneration[i] += 1; timerAt[i] = nil }

    /// Graceful leave of member `i`; it keeps gossiping until killed.
    public func leave(_ i: Int) { mutate(i) { $0.leave(now: now) } }

    /// Sets member `i`'s metadata (for example a new document head).
    public func setMetadata(_ i: Int, _ m: MemberMetadata) { mutate(i) { $0.setMetadata(m, now: now) } }

    /// Splits the network: members in `side` only reach each other, the rest only each other.
    public func partition(_ side: some Sequence<Int>) {
        for i in group.indices { group[i] = 0 }
        for i in side { group[i] = 1 }
    }

    /// Removes every partition.
    public func heal() { for i in group.indices { group[i] = 0 } }

    /// Runs events up to `t` (virtual time) and stops there.
    public func run(until t: Duration) {
        while let at = heap.peek?.at, at <= t {
            let top = heap.pop()
            now = at
            handle(top)
        }
        now = max(now, t)
    }

    /// Runs `d` more virtual time.
    public func run(for d: Duration) { run(until: now + d) }

    /// Runs in `step`s until `done()` holds or `limit` virtual time passed; returns the time it held.
    @discardableResult
    public func run(until done: () -> Bool, step: Duration = .milliseconds(50), limit: Duration) -> Duration? {
        let end = now + limit
        while now < end {
            if done() { return now }
            run(for: step)
        }
        return done() ? now : nil
    }

    /// The status member `observer` holds for member `subject` (nil: unknown to it, or observer down).
    public func status(of subject: Int, at observer: Int) -> MemberStatus? {
        guard let g = nodes[observer] else { return nil }
        if subject == observer { return g.me.status }
        return g.members[Self.name(subject)]?.status
    }

    /// Indices of members currently running.
    public var running: [Int] { nodes.indices.filter { nodes[$0] != nil } }

    // MARK: Internals

    func mutate(_ i: Int, _ f: (inout GossipInstance) -> [GossipDirective]) {
        guard nodes[i] != nil else { return }
        // In place: a copy out of the array would share the instance's tables and copy them on write.
        let out = f(&nodes[i]!)
        perform(out, by: i)
    }

    func handle(_ e: Event) {
        switch e.kind {
        case .timer(let i, let generation):
            guard generation == timerGeneration[i], nodes[i] != nil else { return }
            timerAt[i] = nil
            mutate(i) { $0.tick(now: now) }
        case .deliver(let i, let packet):
            guard nodes[i] != nil else { return }
            mutate(i) { $0.receive(packet, now: now) }
        case .fetchRequest(let requester, let holder, let head):
            // The holder answers only with the document it holds now, as a real one serves from its store.
            let has = nodes[holder]?.head == head
            if measureBytes && has { bytesSent += network.documentBytes + 45 }
            if !has { unansweredFetches += 1 }
            schedule(Event(at: now + delay(), seq: 0, kind: .fetchResponse(requester, holder, head, has)))
        case .fetchResponse(let i, let holder, let head, let answered):
            guard nodes[i] != nil else { return }
            let verifies = answered && documents.contains(head)
            if answered && !verifies { rejectedFetches += 1 }
            if verifies {
                mutate(i) { $0.hold(head, now: now) }
            } else {
                mutate(i) { $0.fetchFailed(head, from: Self.name(holder), now: now) }
            }
        }
    }

    func perform(_ directives: [GossipDirective], by i: Int) {
        for d in directives {
            switch d {
            case .send(let packet, let address, let reliable):
                sent += 1
                if measureBytes { bytesSent += GossipCodec.size(of: packet) + 45 }
                guard let to = addressIndex[address], group[to] == group[i] else { dropped += 1; continue }
                if !reliable && network.loss > 0 && Double(rng.next() >> 11) / Double(1 << 53) < network.loss { dropped += 1; continue }
                schedule(Event(at: now + delay(), seq: 0, kind: .deliver(to, packet)))
            case .fetchDocument(let head, let from):
                sent += 1
                fetchesByHead[head, default: 0] += 1
                if measureBytes { bytesSent += 64 + 45 }
                guard let to = addressIndex[from.address], group[to] == group[i] else {
                    // A stream that cannot connect fails at once, like a refused TCP connection.
                    schedule(Event(at: now + delay(), seq: 0, kind: .fetchResponse(i, addressIndex[from.address] ?? i, head, false)))
                    continue
                }
                schedule(Event(at: now + delay(), seq: 0, kind: .fetchRequest(i, to, head)))
            case .scheduleTimer(let at):
                // Most packets leave the wake time as it was; a timer already pending for it will do.
                if timerAt[i] == at { continue }
                timerAt[i] = at
                timerGeneration[i] += 1
                schedule(Event(at: at, seq: 0, kind: .timer(i, timerGeneration[i])))
            case .memberChanged(let m, _):
                if recordObservations { observations.append(Observation(at: now, observer: i, member: m)) }
                if let h = trackedHead, m.node.name == Self.name(i), m.metadata.documentVersion >= h.version, heldAt[i] == nil { heldAt[i] = now }
            case .memberRemoved, .reportChanged:
                break
            }
        }
    }

    /// One-way delay of a message: latency plus uniform jitter.
    func delay() -> Duration {
        let jitterNs = max(0, Int64(network.jitter.components.attoseconds / 1_000_000_000) + network.jitter.components.seconds * 1_000_000_000)
        return network.latency + .nanoseconds(jitterNs == 0 ? 0 : Int64(rng.next() % UInt64(jitterNs + 1)))
    }

    func schedule(_ e: Event) {
        var e = e
        seq += 1
        e.seq = seq
        heap.push(e)
    }

    struct Event {
        enum Kind {
            case timer(Int, Int), deliver(Int, GossipPacket)
            case fetchRequest(Int, Int, DocumentHead), fetchResponse(Int, Int, DocumentHead, Bool)
        }
        var at: Duration
        var seq: UInt64
        var kind: Kind
        func before(_ o: Event) -> Bool { at < o.at || (at == o.at && seq < o.seq) }
    }

    /// Binary min-heap ordered by (time, insertion order), so equal times replay deterministically.
    struct EventHeap {
        var items: [Event] = []
        var peek: Event? { items.first }
        mutating func push(_ e: Event) {
            items.append(e)
            var c = items.count - 1
            while c > 0 {
                let p = (c - 1) / 2
                guard items[c].before(items[p]) else { break }
                items.swapAt(c, p); c = p
            }
        }
        mutating func pop() -> Event {
            items.swapAt(0, items.count - 1)
            let top = items.removeLast()
            var p = 0
            while true {
                let l = 2 * p + 1, r = l + 1
                var m = p
                if l < items.count && items[l].before(items[m]) { m = l }
                if r < items.count && items[r].before(items[m]) { m = r }
                if m == p { break }
                items.swapAt(p, m); p = m
            }
            return top
        }
    }
}
