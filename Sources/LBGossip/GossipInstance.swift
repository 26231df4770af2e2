/// What the engine asks its shell to do, in order.
public enum GossipDirective: Equatable, Sendable {
    /// Send a packet; `reliable` selects the stream channel (join, sync), otherwise a datagram.
    case send(GossipPacket, to: String, reliable: Bool)
    /// Call `tick(now:)` at this engine time (replaces any earlier request).
    case scheduleTimer(at: Duration)
    /// A member appeared or changed status, incarnation or metadata (`previous` is nil when new).
    case memberChanged(Member, previous: MemberStatus?)
    /// A member was forgotten after its reconnect or tombstone window.
    case memberRemoved(GossipNode)
    /// Fetch document `head` from `from`, which holds it; verify it, then call `hold(_:now:)`, or
    /// `fetchFailed(_:from:now:)` if it cannot be fetched or does not verify.
    case fetchDocument(DocumentHead, from: GossipNode)
    /// A member published a new report (or this member's own report changed).
    case reportChanged(NodeReport)
}

/// The SWIM engine with Lifeguard extensions as a value: fed events and the current time, it returns
/// ordered directives. No clock, sockets or threads; randomness is seeded and carried in the value.
public struct GossipInstance: Sendable {
    public let config: GossipConfig
    public private(set) var me: Member
    public private(set) var members = MemberTable()
    /// The document this member holds and advertises on every packet (nil: none yet).
    public private(set) var head: DocumentHead?
    /// Every member's latest report, this member's included.
    public private(set) var reports: [String: NodeReport] = [:]
    /// Lifeguard local health score, 0..<awarenessMaxMultiplier; timeouts scale by score + 1.
    public private(set) var health = 0
    var rng: GossipRandom
    var names: [String] = []          // every known member (me only when started from a snapshot), for random picks
    // Probe order: a walk over `names` by a random stride coprime to the pass length, which visits each
    // member once per pass like SWIM's shuffled round robin, in O(1) memory.
    var probePosition = 0, probeStride = 1, probeStep = 0, probeCount = 0
    var sequence: UInt32 = 0
    // Seeds are tried for as long as no live member is known at their address, not only until the first
    // answers: a seed that starts after the members that list it would otherwise never be found.
    struct Seed { var address: String; var holder: String?; var wait: Duration; var nextAt: Duration }
    var seeds: [Seed] = []
    var joined = false

    struct Probe { var sequence: UInt32; var target: GossipNode; var indirectAt: Duration; var endAt: Duration; var indirectSent = false; var expectedNacks = 0; var nacks = 0; var acked = false }
    var probe: Probe?
    var nextProbeAt: Duration = .zero

    struct Relay { var origin: String; var originSequence: UInt32; var deadline: Duration }
    var relays: [UInt32: Relay] = [:]

    struct Suspicion { var start: Duration; var incarnation: UInt64; var confirmations: Set<String>; var n: Int; var k: Int; var min: Duration; var max: Duration
        var deadline: Duration { start + GossipConfig.suspicionTimeout(confirmations: n, wanted: k, min: min, max: max) }
    }
    var suspicions: [String: Suspicion] = [:]

    enum QueueKey: Hashable { case member(String), report(String) }
    enum Rumour { case member(MemberUpdate), report(NodeReport) }
    struct Queued { var rumour: Rumour; var transmits: Int; var order: UInt64 }
    var queue: [QueueKey: Queued] = [:]

    // Document heads: the fetch in flight, holders that failed to deliver the newest head (retry times),
    // and how many gossip rounds still advertise a newly held head when no rumour is queued.
    struct Fetch { var head: DocumentHead; var from: String; var deadline: Duration }
    var fetch: Fetch?
    var failedHolders: (head: DocumentHead, retryAt: [String: Duration])?
    var headRounds = 0
    var nextReportVersion: UInt64 = 1
    var queueOrder: UInt64 = 0

    var quietExcept: String?
    var nextGossipAt: Duration = .zero
    var nextPushPullAt: Duration = .zero
    var nextReconnectAt: Duration = .zero
    var nextReapAt: Duration = .zero
    public private(set) var leaving = false

    /// Counters for tests and the benchmark.
    public private(set) var stats = Stats()
    /// Counters of what this instance did.
    public struct Stats: Sendable, Equatable { public var probes = 0, failedProbes = 0, refutations = 0, suspicionsRaised = 0, declaredDead = 0, fetches = 0, failedFetches = 0 }

    /// Creates an instance for `node`; throws if the config is invalid. `seed` makes its choices replayable.
    public init(node: GossipNode, metadata: MemberMetadata = MemberMetadata(), incarnation: UInt64 = 0,
                config: GossipConfig = .lan, seed: UInt64) throws(GossipError) {
        try config.validate()
        self.config = config
        self.rng = GossipRandom(seed: seed)
        me = Member(node: node, incarnation: incarnation, status: .alive, metadata: metadata, since: .zero)
        if metadata.documentVersion > 0 { head = DocumentHead(version: metadata.documentVersion, digest: metadata.documentDigest) }
    }

    /// Creates an instance that already knows `snapshot` (as if it had joined), sharing its storage:
    /// how the simulator starts thousands of members without thousands of private tables.
    public init(node: GossipNode, metadata: MemberMetadata = MemberMetadata(), incarnation: UInt64 = 0,
                config: GossipConfig = .lan, seed: UInt64, snapshot: MembershipSnapshot) throws(GossipError) {
        try self.init(node: node, metadata: metadata, incarnation: incarnation, config: config, seed: seed)
        members = MemberTable(snapshot: snapshot.members)
        names = snapshot.names
        liveOthers = snapshot.live
        if members[node.name] != nil { store(nil, name: node.name) }
        joined = true
    }

    /// Rumours waiting to be piggybacked (for tests and the benchmark).
    public var queuedRumours: Int { queue.count }

    /// Number of members not dead or left, me included: the N of every formula.
    public var liveCount: Int { 1 + liveOthers }
    var liveOthers = 0
    /// Dead and left members: reaping and reconnects look only at these, not at every member.
    var departed: Set<String> = []

    /// Stores a member and keeps `liveOthers` in step, so N costs nothing per packet.
    mutating func store(_ m: Member?, name: String) {
        func live(_ x: Member?) -> Int { x.map { $0.status == .alive || $0.status == .suspect ? 1 : 0 } ?? 0 }
        liveOthers += live(m) - live(members[name])
        members.set(m, name: name)
        if let m, m.status == .dead || m.status == .left { departed.insert(name) } else { departed.remove(name) }
    }

    // MARK: Events

    /// Starts probing and gossiping; contacts every seed address (reliable join), and again with backoff
    /// whenever no live member is known at it.
    public mutating func start(now: Duration, seeds: [String] = []) -> [GossipDirective] {
        me.since = now
        var addresses: [String] = []
        for s in seeds where s != me.node.address && !addresses.contains(s) { addresses.append(s) }
        self.seeds = addresses.map { Seed(address: $0, wait: config.joinRetryInterval, nextAt: now + config.joinRetryInterval) }
        joined = self.seeds.isEmpty
        nextProbeAt = now + jitter(config.probeInterval)
        nextGossipAt = now + config.gossipInterval
        // Staggered like memberlist's tickers, so members started together do not sync in lockstep.
        nextPushPullAt = now + jitter(config.pushPullInterval(members: liveCount))
        nextReconnectAt = now + jitter(config.reconnectInterval)
        nextReapAt = now + config.reconnectInterval
        var out: [GossipDirective] = [.memberChanged(me, previous: nil)]
        for s in self.seeds { out.append(.send(joinPacket, to: s.address, reliable: true)) }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Advances timers: probe rounds, indirect probes, relay nacks, suspicion expiry, gossip, push-pull,
    /// seed retries, reconnects to dead members and reaping.
    public mutating func tick(now: Duration) -> [GossipDirective] {
        var out: [GossipDirective] = []
        if var p = probe {
            if !p.acked && !p.indirectSent && now >= p.indirectAt {
                p.indirectSent = true
                let target = p.target.name
                let relays = pick(config.indirectChecks) { $0.status == .alive && $0.node.name != target }
                p.expectedNacks = relays.count
                let timeout = UInt32(clamping: Int64((GossipMath.seconds(scaled(config.probeTimeout)) * 1000).rounded()))
                for r in relays {
                    out.append(.send(bare(.pingRequest(sequence: p.sequence, target: p.target, timeoutMillis: timeout)), to: r.node.address, reliable: false))
                }
                probe = p
            }
            if now >= p.endAt { finishProbe(now: now, &out) }
        }
        if let f = fetch, now >= f.deadline {
            // A holder that does not deliver in time is skipped until its retry time; others are tried.
            fetch = nil
            noteFailedFetch(f.head, from: f.from, now: now)
        }
        if now >= nextProbeAt && !leaving { startProbe(now: now, &out) }
        // Dictionary order varies per process; sorted keys keep a seeded run replayable.
        for seq in relays.keys.sorted() where now >= relays[seq]!.deadline {
            let r = relays.removeValue(forKey: seq)!
            out.append(.send(bare(.nack(sequence: r.originSequence)), to: r.origin, reliable: false))
        }
        for name in suspicions.keys.sorted() where now >= suspicions[name]!.deadline {
            suspicions[name] = nil
            if let m = members[name], m.status == .suspect {
                stats.declaredDead += 1
                apply(MemberUpdate(node: m.node, incarnation: m.incarnation, status: .dead, metadata: m.metadata, origin: me.node.name), now: now, &out)
            }
        }
        if now >= nextGossipAt {
            nextGossipAt = now + config.gossipInterval
            gossip(now: now, &out)
        }
        if now >= nextPushPullAt {
            nextPushPullAt = now + config.pushPullInterval(members: liveCount)
            if let m = pick(1, where: { $0.status == .alive }).first {
                out.append(.send(fullStatePacket(reply: false), to: m.node.address, reliable: true))
            }
        }
        if !leaving { retrySeeds(now: now, &out) }
        if now >= nextReconnectAt {
            nextReconnectAt = now + config.reconnectInterval
            // Serf's reconnect: a dead (not left) member is asked for a full sync so a healed partition merges.
            let dead = departed.filter { members[$0]?.status == .dead }.sorted()
            if let name = dead.randomElement(using: &rng), let m = members[name] {
                out.append(.send(fullStatePacket(reply: false), to: m.node.address, reliable: true))
            }
        }
        if now >= nextReapAt {
            nextReapAt = now + config.reconnectInterval
            var doomed: [String] = []
            for name in departed.sorted() {
                guard let m = members[name] else { continue }
                let window = m.status == .dead ? config.reconnectTimeout : m.status == .left ? config.tombstoneTimeout : nil
                if let window, now - m.since >= window { doomed.append(name) }
            }
            for name in doomed { forget(name, &out) }
        }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Handles one decoded packet received from the network.
    public mutating func receive(_ p: GossipPacket, now: Duration) -> [GossipDirective] {
        var out: [GossipDirective] = []
        guard p.sender.name != me.node.name else { return out }
        // The answer to my own join is the cluster's state, not news to it: only what it says about its
        // sender is re-gossiped, otherwise each joiner of a 1,000-member cluster would flood 1,000 rumours
        // (memberlist re-gossips it all). Anything new learned from later syncs is spread as usual.
        if case .sync(reply: true) = p.body, !joined { quietExcept = p.sender.name } else { quietExcept = nil }
        for u in p.updates { apply(u, now: now, &out) }
        for r in p.reports { apply(r, now: now, &out) }
        quietExcept = nil
        if let h = p.head { noteHead(h, of: p.sender, now: now, &out) }
        switch p.body {
        case .ping(let seq, let target):
            guard target == me.node.name else { break }
            // The sender may not know it was declared suspect/dead; telling it first lets it refute at once.
            let first = members[p.sender.name].flatMap { $0.status != .alive ? update(of: $0) : nil }
            out.append(.send(packet(.ack(sequence: seq), first: first), to: p.sender.address, reliable: false))
        case .pingRequest(let seq, let target, let timeoutMillis):
            sequence &+= 1
            // Nack at 80 % of the prober's timeout, not ours: the nack must land while the prober still
            // counts them. Clamped, so a hostile value neither nacks at once nor pins relay state.
            let asked = min(max(Int64(timeoutMillis), 10), Int64(GossipMath.seconds(config.probeInterval) * 1000) * Int64(config.awarenessMaxMultiplier))
            relays[sequence] = Relay(origin: p.sender.address, originSequence: seq, deadline: now + .milliseconds(asked * 8 / 10))
            out.append(.send(packet(.ping(sequence: sequence, target: target.name), first: members[target.name].flatMap { $0.status == .suspect ? update(of: $0) : nil }), to: target.address, reliable: false))
        case .ack(let seq):
            if let r = relays.removeValue(forKey: seq) {
                out.append(.send(bare(.ack(sequence: r.originSequence)), to: r.origin, reliable: false))
            } else if var pr = probe, pr.sequence == seq, !pr.acked {
                pr.acked = true; probe = pr
                adjustHealth(-1)
            }
        case .nack(let seq):
            if var pr = probe, pr.sequence == seq { pr.nacks += 1; probe = pr }
        case .gossip:
            break
        case .join, .sync(reply: false):
            joined = true
            out.append(.send(fullStatePacket(reply: true), to: p.sender.address, reliable: true))
        case .sync(reply: true):
            joined = true
        }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Replaces this member's roles and agent version; the incarnation is bumped so the change overrides
    /// older rumours everywhere. The document fields are `hold`'s and are kept as they are.
    public mutating func setMetadata(_ metadata: MemberMetadata, now: Duration) -> [GossipDirective] {
        var metadata = metadata
        // The document fields follow `hold`; a caller's stale copy must not roll them back.
        metadata.documentVersion = me.metadata.documentVersion
        metadata.documentDigest = me.metadata.documentDigest
        guard metadata != me.metadata else { return [] }
        let previous = me.status
        me.metadata = metadata
        me.incarnation = Self.after(me.incarnation)
        enqueue(selfUpdate)
        return [.memberChanged(me, previous: previous), .scheduleTimer(at: nextWake(now))]
    }

    /// Graceful leave: announces `.left` at a new incarnation and stops probing. Keep ticking for a few
    /// gossip intervals so the announcement spreads before shutting the transport down.
    public mutating func leave(now: Duration) -> [GossipDirective] {
        guard !leaving else { return [] }
        leaving = true
        probe = nil
        let previous = me.status
        me.incarnation = Self.after(me.incarnation)
        me.status = .left
        me.since = now
        enqueue(selfUpdate)
        var out: [GossipDirective] = [.memberChanged(me, previous: previous)]
        gossip(now: now, &out)
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Joins every seed due whose address has no live member known. A dead seed is retried here besides
    /// Serf's reconnect below because that one only reaches members still remembered: after a partition
    /// outlasts reconnectTimeout, or once a seed left and came back with no seeds of its own, only the
    /// configured addresses lead back.
    mutating func retrySeeds(now: Duration, _ out: inout [GossipDirective]) {
        for i in seeds.indices {
            if let name = seeds[i].holder {
                if let m = members[name], m.node.address == seeds[i].address, m.status == .alive || m.status == .suspect { continue }
                seeds[i].holder = nil
                seeds[i].wait = config.reconnectInterval
                seeds[i].nextAt = now + config.reconnectInterval
            }
            guard now >= seeds[i].nextAt else { continue }
            // Found since the last try (through another seed or gossip): stay quiet until it is lost.
            if let name = liveMember(at: seeds[i].address) { seeds[i].holder = name; continue }
            out.append(.send(joinPacket, to: seeds[i].address, reliable: true))
            seeds[i].wait = min(seeds[i].wait * 2, config.reconnectInterval)
            seeds[i].nextAt = now + seeds[i].wait
        }
    }

    /// The alive or suspect member at `address`, if any; a scan, done only when a seed is due.
    func liveMember(at address: String) -> String? {
        for name in names {
            if let m = members[name], m.node.address == address, m.status == .alive || m.status == .suspect { return name }
        }
        return nil
    }

    // MARK: Probing

    mutating func startProbe(now: Duration, _ out: inout [GossipDirective]) {
        nextProbeAt = now + scaled(config.probeInterval)
        if probe != nil { finishProbe(now: now, &out) }
        guard let target = nextProbeTarget() else { return }
        sequence &+= 1
        stats.probes += 1
        probe = Probe(sequence: sequence, target: target.node, indirectAt: now + scaled(config.probeTimeout), endAt: nextProbeAt)
        // Lifeguard's buddy system: a suspect target hears of its suspicion on the probe itself and can
        // refute at once, rather than when the rumour happens to reach it.
        let first = target.status == .suspect ? update(of: target) : nil
        out.append(.send(packet(.ping(sequence: sequence, target: target.node.name), first: first), to: target.node.address, reliable: false))
    }

    /// Round-robin in a random order (SWIM's time-bounded completeness); a new order each pass.
    mutating func nextProbeTarget() -> Member? {
        for _ in 0..<2 {
            while probeStep < probeCount {
                probeStep += 1
                probePosition = (probePosition + probeStride) % probeCount
                guard probePosition < names.count, let m = members[names[probePosition]] else { continue }
                if m.status == .alive || m.status == .suspect { return m }
            }
            // A new pass over everyone known now; members learned later wait for the next pass.
            probeCount = names.count
            guard probeCount > 0 else { return nil }
            probeStep = 0
            probePosition = Int.random(in: 0..<probeCount, using: &rng)
            probeStride = 1
            if probeCount > 2 {
                repeat { probeStride = Int.random(in: 1..<probeCount, using: &rng) } while Self.gcd(probeStride, probeCount) != 1
            }
        }
        return nil
    }

    static func gcd(_ a: Int, _ b: Int) -> Int { b == 0 ? a : gcd(b, a % b) }

    mutating func finishProbe(now: Duration, _ out: inout [GossipDirective]) {
        guard let p = probe else { return }
        probe = nil
        guard !p.acked else { return }
        stats.failedProbes += 1
        // Lifeguard: missing nacks mean our own link or process is slow, so we grow less trusting of
        // ourselves; with no relays to ask, a failure counts once.
        adjustHealth(p.expectedNacks == 0 ? 1 : p.expectedNacks - p.nacks)
        guard let m = members[p.target.name], m.status == .alive else { return }
        stats.suspicionsRaised += 1
        apply(MemberUpdate(node: m.node, incarnation: m.incarnation, status: .suspect, metadata: m.metadata, origin: me.node.name), now: now, &out)
    }

    mutating func adjustHealth(_ delta: Int) {
        health = min(max(health + delta, 0), config.awarenessMaxMultiplier - 1)
    }

    func scaled(_ d: Duration) -> Duration { d * (health + 1) }

    // MARK: State merging

    /// Applies a rumour with SWIM's precedence: higher incarnation wins; at equal incarnation
    /// dead/left > suspect > alive. Rumours about me at my incarnation or above are refuted.
    mutating func apply(_ u: MemberUpdate, now: Duration, _ out: inout [GossipDirective]) {
        if u.node.name == me.node.name { return refuteIfNeeded(u, now: now, &out) }
        guard let current = members[u.node.name] else {
            // Never learn of a member through a rumour of its death: it would be retried for the reconnect
            // window for nothing. A suspect newcomer is recorded (it exists, somebody probes it).
            guard u.status == .alive || u.status == .suspect else { return }
            let m = Member(node: u.node, incarnation: u.incarnation, status: u.status, metadata: u.metadata, since: now)
            store(m, name: u.node.name)
            names.append(u.node.name)
            if u.status == .suspect { startSuspicion(m, origin: u.origin, now: now) }
            rumour(u)
            out.append(.memberChanged(m, previous: nil))
            return
        }
        var accept = false
        switch u.status {
        case .alive:
            accept = u.incarnation > current.incarnation
            if u.incarnation == current.incarnation, u.metadata.documentVersion > current.metadata.documentVersion {
                // Heads move without incarnations: a full sync may carry a newer one at the same incarnation.
                adoptHead(of: current, DocumentHead(version: u.metadata.documentVersion, digest: u.metadata.documentDigest), &out)
            }
        case .suspect:
            if u.incarnation > current.incarnation { accept = current.status != .left }
            else if u.incarnation == current.incarnation {
                if current.status == .alive { accept = true }
                else if current.status == .suspect, var s = suspicions[u.node.name], s.n < s.k, !s.confirmations.contains(u.origin) {
                    // Lifeguard: an independent confirmation shortens the timeout; pass it on too.
                    s.confirmations.insert(u.origin); s.n += 1
                    suspicions[u.node.name] = s
                    rumour(u)
                }
            }
        case .dead, .left:
            if u.incarnation > current.incarnation { accept = current.status != .left || u.status == .left }
            else if u.incarnation == current.incarnation {
                accept = current.status == .alive || current.status == .suspect || (current.status == .dead && u.status == .left)
            }
        }
        guard accept else { return }
        var m = current
        m.node = u.node
        m.incarnation = u.incarnation
        m.metadata = u.metadata
        if current.metadata.documentVersion > u.metadata.documentVersion {
            m.metadata.documentVersion = current.metadata.documentVersion
            m.metadata.documentDigest = current.metadata.documentDigest
        }
        if m.status != u.status { m.since = now }
        m.status = u.status
        store(m, name: u.node.name)
        if u.status == .suspect { startSuspicion(m, origin: u.origin, now: now) } else { suspicions[u.node.name] = nil }
        rumour(u)
        out.append(.memberChanged(m, previous: current.status))
    }

    mutating func startSuspicion(_ m: Member, origin: String, now: Duration) {
        let n = liveCount
        let bounds = config.suspicionBounds(members: n)
        // Lifeguard's K = suspicionMult − 2, unless the cluster is too small to supply that many.
        var k = config.suspicionMult - 2
        if n - 2 < k { k = 0 }
        let confirmations: Set<String> = [origin]
        suspicions[m.node.name] = Suspicion(start: now, incarnation: m.incarnation, confirmations: confirmations, n: 0, k: k,
                                            min: bounds.min, max: bounds.max)
    }


    /// The next incarnation, saturating: a rumour at UInt64.max (from a buggy or hostile peer) must not
    /// crash the member that tries to outbid it.
    static func after(_ incarnation: UInt64) -> UInt64 {
        incarnation == .max ? .max : incarnation + 1
    }

    mutating func refuteIfNeeded(_ u: MemberUpdate, now: Duration, _ out: inout [GossipDirective]) {
        guard u.incarnation >= me.incarnation else { return }
        // A stale document head about me is not worth refuting: heads move without incarnations, and
        // every packet I send carries the current one.
        if u.incarnation == me.incarnation && u.status == me.status && u.metadata.roles == me.metadata.roles
            && u.metadata.agentVersion == me.metadata.agentVersion { return }
        if leaving {
            // A leaving member re-asserts its leave rather than coming back to life.
            if u.incarnation > me.incarnation || u.status != .left { me.incarnation = Self.after(u.incarnation); enqueue(selfUpdate) }
            return
        }
        // Someone believes an older, suspect or dead me (for instance I restarted at a lower incarnation):
        // jump past it and announce myself alive.
        if u.status != .alive { adjustHealth(1) }
        stats.refutations += 1
        let previous = me.status
        me.incarnation = Self.after(u.incarnation)
        enqueue(selfUpdate)
        out.append(.memberChanged(me, previous: previous))
    }

    mutating func forget(_ name: String, _ out: inout [GossipDirective]) {
        guard let m = members[name] else { return }
        store(nil, name: name)
        names.removeAll { $0 == name }
        suspicions[name] = nil
        queue[.member(name)] = nil
        queue[.report(name)] = nil
        reports[name] = nil
        out.append(.memberRemoved(m.node))
    }

    // MARK: Dissemination

    /// Queues a rumour about another member unless it came from a full state exchange.
    mutating func rumour(_ u: MemberUpdate) {
        if let only = quietExcept, only != u.node.name { return }
        enqueue(.member(u))
    }

    mutating func enqueue(_ r: Rumour) {
        queueOrder += 1
        let key: QueueKey
        switch r {
        case .member(let u): key = .member(u.node.name)
        case .report(let x): key = .report(x.node)
        }
        queue[key] = Queued(rumour: r, transmits: 0, order: queueOrder)
    }

    mutating func enqueue(_ u: MemberUpdate) { enqueue(.member(u)) }

    /// Takes the least-transmitted (then newest) rumours that fit in `budget` bytes and counts one
    /// transmission each; a rumour retires after retransmitLimit(N) sends.
    mutating func piggyback(budget: Int) -> (updates: [MemberUpdate], reports: [NodeReport]) {
        guard !queue.isEmpty else { return ([], []) }
        let limit = config.retransmitLimit(members: liveCount)
        // Least transmitted first, newest first among equals: a bounded insertion list instead of sorting
        // the whole queue, which holds N entries after a mass join.
        let wanted = max(8, budget / 48)
        var ordered: [(QueueKey, Queued)] = []
        ordered.reserveCapacity(wanted + 1)
        func better(_ a: Queued, _ b: Queued) -> Bool { a.transmits < b.transmits || (a.transmits == b.transmits && a.order > b.order) }
        for (key, q) in queue {
            if ordered.count == wanted, !better(q, ordered[wanted - 1].1) { continue }
            var i = ordered.count
            while i > 0 && better(q, ordered[i - 1].1) { i -= 1 }
            ordered.insert((key, q), at: i)
            if ordered.count > wanted { ordered.removeLast() }
        }
        var left = budget - 64
        var updates: [MemberUpdate] = [], reports: [NodeReport] = []
        for (key, q) in ordered {
            let size: Int
            switch q.rumour {
            case .member(let u): size = GossipCodec.size(of: u)
            case .report(let r): size = GossipCodec.size(of: r)
            }
            guard size <= left else { continue }
            left -= size
            switch q.rumour {
            case .member(let u): updates.append(u)
            case .report(let r): reports.append(r)
            }
            if q.transmits + 1 >= limit { queue[key] = nil } else { queue[key]?.transmits += 1 }
            if left < 64 { break }
        }
        return (updates, reports)
    }

    mutating func gossip(now: Duration, _ out: inout [GossipDirective]) {
        // A freshly held head is advertised for retransmitLimit rounds even with nothing else to say.
        let advertise = headRounds > 0
        guard !queue.isEmpty || advertise else { return }
        if advertise { headRounds -= 1 }
        let deadWindow = config.gossipToTheDeadTime
        let targets = pick(config.gossipNodes) {
            $0.status == .alive || $0.status == .suspect || ($0.status == .dead && now - $0.since < deadWindow)
        }
        for t in targets {
            let p = packet(.gossip)
            guard !p.updates.isEmpty || !p.reports.isEmpty || advertise else { break }
            out.append(.send(p, to: t.node.address, reliable: false))
        }
    }

    // MARK: Documents

    /// Records that this member now holds (verified) document `head`: it is advertised on every packet
    /// from now on, and pushed at once to gossipNodes members instead of waiting for the next round.
    /// An older or equal version is ignored.
    public mutating func hold(_ head: DocumentHead, now: Duration) -> [GossipDirective] {
        guard head.version > (self.head?.version ?? 0) else { return [] }
        self.head = head
        me.metadata.documentVersion = head.version
        me.metadata.documentDigest = head.digest
        if let f = fetch, f.head.version <= head.version { fetch = nil }
        if let f = failedHolders, f.head.version <= head.version { failedHolders = nil }
        headRounds = config.retransmitLimit(members: liveCount)
        var out: [GossipDirective] = [.memberChanged(me, previous: me.status)]
        for t in pick(config.gossipNodes, where: { $0.status == .alive }) {
            out.append(.send(packet(.gossip), to: t.node.address, reliable: false))
        }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// The shell could not fetch `head` from `from`, or it did not verify: that holder is skipped for one
    /// fetch timeout and the next holder heard from is asked. A forged head is therefore retried at most
    /// once per holder and timeout, and never held or advertised.
    public mutating func fetchFailed(_ head: DocumentHead, from: String, now: Duration) -> [GossipDirective] {
        if let f = fetch, f.head == head, f.from == from { fetch = nil }
        noteFailedFetch(head, from: from, now: now)
        return [.scheduleTimer(at: nextWake(now))]
    }

    mutating func noteFailedFetch(_ head: DocumentHead, from: String, now: Duration) {
        stats.failedFetches += 1
        if failedHolders == nil || failedHolders!.head != head { failedHolders = (head, [:]) }
        failedHolders!.retryAt[from] = now + config.fetchTimeout
    }

    /// A packet says its sender holds `h`: remember it in the sender's metadata and fetch it if newer.
    mutating func noteHead(_ h: DocumentHead, of sender: GossipNode, now: Duration, _ out: inout [GossipDirective]) {
        if let m = members[sender.name], h.version > m.metadata.documentVersion { adoptHead(of: m, h, &out) }
        guard h.version > (head?.version ?? 0) else { return }
        if let f = fetch, f.head.version >= h.version { return }
        if let f = failedHolders, f.head == h, let retry = f.retryAt[sender.name], now < retry { return }
        fetch = Fetch(head: h, from: sender.name, deadline: now + config.fetchTimeout)
        stats.fetches += 1
        out.append(.fetchDocument(h, from: sender))
    }

    mutating func adoptHead(of m: Member, _ h: DocumentHead, _ out: inout [GossipDirective]) {
        var m = m
        m.metadata.documentVersion = h.version
        m.metadata.documentDigest = h.digest
        store(m, name: m.node.name)
        out.append(.memberChanged(m, previous: m.status))
    }

    // MARK: Reports

    /// Publishes this member's report (at most maxReportBytes) at the next version; it reaches every
    /// member by gossip and full syncs.
    public mutating func publishReport(_ bytes: [UInt8], now: Duration) throws(GossipError) -> [GossipDirective] {
        guard bytes.count <= config.maxReportBytes else {
            throw .tooLarge("report of \(bytes.count) bytes (maxReportBytes is \(config.maxReportBytes))")
        }
        let r = NodeReport(node: me.node.name, version: nextReportVersion, bytes: bytes)
        nextReportVersion = Self.after(nextReportVersion)
        reports[r.node] = r
        enqueue(.report(r))
        var out: [GossipDirective] = [.reportChanged(r)]
        for m in members.values where m.status == .alive && !config.directReportRoles.isDisjoint(with: m.metadata.roles) {
            out.append(.send(GossipPacket(sender: me.node, head: head, body: .gossip, reports: [r]), to: m.node.address, reliable: false))
        }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Applies a report rumour: newer versions of known members' reports replace older ones.
    mutating func apply(_ r: NodeReport, now: Duration, _ out: inout [GossipDirective]) {
        if r.node == me.node.name {
            // A report of mine I no longer know of (I restarted): continue above its version, so my next
            // report, or my current one again, is not taken for an old one.
            guard r.version >= nextReportVersion else { return }
            nextReportVersion = Self.after(r.version)
            if let mine = reports[r.node], mine.bytes != r.bytes || mine.version < r.version {
                let again = NodeReport(node: mine.node, version: nextReportVersion, bytes: mine.bytes)
                nextReportVersion = Self.after(nextReportVersion)
                reports[r.node] = again
                enqueue(.report(again))
                out.append(.reportChanged(again))
            }
            return
        }
        guard members[r.node] != nil, r.bytes.count <= config.maxReportBytes,
              r.version > (reports[r.node]?.version ?? 0) else { return }
        reports[r.node] = r
        if quietExcept == nil || quietExcept == r.node { enqueue(.report(r)) }
        out.append(.reportChanged(r))
    }

    // MARK: Helpers

    var selfUpdate: MemberUpdate {
        MemberUpdate(node: me.node, incarnation: me.incarnation, status: me.status, metadata: me.metadata, origin: me.node.name)
    }

    func update(of m: Member) -> MemberUpdate {
        MemberUpdate(node: m.node, incarnation: m.incarnation, status: m.status, metadata: m.metadata, origin: me.node.name)
    }

    /// Every member and report I know, me first: join replies and push-pull syncs.
    func fullStatePacket(reply: Bool) -> GossipPacket {
        let updates = [selfUpdate] + names.compactMap { members[$0].map(update(of:)) }
        let all = names.compactMap { reports[$0] } + (reports[me.node.name].map { [$0] } ?? [])
        return GossipPacket(sender: me.node, head: head, body: .sync(reply: reply), updates: updates, reports: all)
    }

    var joinPacket: GossipPacket {
        GossipPacket(sender: me.node, head: head, body: .join, updates: [selfUpdate], reports: reports[me.node.name].map { [$0] } ?? [])
    }

    /// A packet with this member's head and as many queued rumours as fit, `first` ahead of them.
    mutating func packet(_ body: GossipBody, first: MemberUpdate? = nil) -> GossipPacket {
        var budget = config.maxPacketBytes
        if let first { budget -= GossipCodec.size(of: first) }
        var (updates, reports) = piggyback(budget: budget)
        if let first { updates.insert(first, at: 0) }
        return GossipPacket(sender: me.node, head: head, body: body, updates: updates, reports: reports)
    }

    /// A packet carrying no rumours (relayed acks and nacks, which only need to arrive).
    func bare(_ body: GossipBody) -> GossipPacket {
        GossipPacket(sender: me.node, head: head, body: body)
    }

    /// Up to `k` distinct random members matching `predicate`, by rejection sampling with a fallback scan.
    mutating func pick(_ k: Int, where predicate: (Member) -> Bool) -> [Member] {
        guard k > 0, !names.isEmpty else { return [] }
        var chosen: [Member] = []
        var seen = Set<Int>()
        var attempts = 0
        while chosen.count < k && attempts < 4 * k + 8 {
            attempts += 1
            let i = Int.random(in: 0..<names.count, using: &rng)
            guard seen.insert(i).inserted, let m = members[names[i]], predicate(m) else { continue }
            chosen.append(m)
        }
        if chosen.count < k {
            // Few candidates among many members: scan from a random start so the result stays unbiased enough.
            let start = Int.random(in: 0..<names.count, using: &rng)
            for j in 0..<names.count where chosen.count < k {
                let i = (start + j) % names.count
                guard !seen.contains(i), let m = members[names[i]], predicate(m) else { continue }
                seen.insert(i); chosen.append(m)
            }
        }
        return chosen
    }

    /// Spreads the first probe over one interval so members started together do not probe in lockstep.
    mutating func jitter(_ d: Duration) -> Duration {
        let ns = Int64(GossipMath.seconds(d) * 1e9)
        return .nanoseconds(Int64.random(in: 0...max(1, ns), using: &rng))
    }

    func nextWake(_ now: Duration) -> Duration {
        var t = min(nextGossipAt, nextPushPullAt, nextReconnectAt, nextReapAt)
        if !leaving {
            t = min(t, nextProbeAt)
            for s in seeds where s.holder == nil { t = min(t, s.nextAt) }
        }
        if let p = probe { t = min(t, p.indirectSent || p.acked ? p.endAt : p.indirectAt) }
        for r in relays.values { t = min(t, r.deadline) }
        for s in suspicions.values { t = min(t, s.deadline) }
        return max(t, now)
    }
}
