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
}

/// The SWIM engine with Lifeguard extensions as a value: fed events and the current time, it returns
/// ordered directives. No clock, sockets or threads; randomness is seeded and carried in the value.
public struct GossipInstance: Sendable {
    public let config: GossipConfig
    public private(set) var me: Member
    public private(set) var members: [String: Member] = [:]
    /// Lifeguard local health score, 0..<awarenessMaxMultiplier; timeouts scale by score + 1.
    public private(set) var health = 0
    var rng: GossipRandom
    var names: [String] = []          // every known member except me, for random picks
    var probeOrder: [String] = []
    var probeIndex = 0
    var sequence: UInt32 = 0
    var seeds: [String] = []
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

    struct Queued { var update: MemberUpdate; var transmits: Int; var order: UInt64 }
    var queue: [String: Queued] = [:]
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
    public struct Stats: Sendable, Equatable { public var probes = 0, failedProbes = 0, refutations = 0, suspicionsRaised = 0 }

    /// Creates an instance for `node`; throws if the config is invalid. `seed` makes its choices replayable.
    public init(node: GossipNode, metadata: MemberMetadata = MemberMetadata(), incarnation: UInt64 = 0,
                config: GossipConfig = .lan, seed: UInt64) throws(GossipError) {
        try config.validate()
        self.config = config
        self.rng = GossipRandom(seed: seed)
        me = Member(node: node, incarnation: incarnation, status: .alive, metadata: metadata, since: .zero)
    }

    /// Number of members not dead or left, me included: the N of every formula.
    public var liveCount: Int { 1 + liveOthers }
    var liveOthers = 0

    /// Stores a member and keeps `liveOthers` in step, so N costs nothing per packet.
    mutating func store(_ m: Member?, name: String) {
        func live(_ x: Member?) -> Int { x.map { $0.status == .alive || $0.status == .suspect ? 1 : 0 } ?? 0 }
        liveOthers += live(m) - live(members[name])
        members[name] = m
    }

    // MARK: Events

    /// Starts probing and gossiping; contacts every seed address (reliable join) until one answers.
    public mutating func start(now: Duration, seeds: [String] = []) -> [GossipDirective] {
        me.since = now
        self.seeds = seeds.filter { $0 != me.node.address }
        joined = self.seeds.isEmpty
        nextProbeAt = now + jitter(config.probeInterval)
        nextGossipAt = now + config.gossipInterval
        // Staggered like memberlist's tickers, so members started together do not sync in lockstep.
        nextPushPullAt = now + jitter(config.pushPullInterval)
        nextReconnectAt = now + jitter(config.reconnectInterval)
        nextReapAt = now + config.reconnectInterval
        var out: [GossipDirective] = [.memberChanged(me, previous: nil)]
        for s in self.seeds { out.append(.send(packet(.join, updates: [selfUpdate]), to: s, reliable: true)) }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Advances timers: probe rounds, indirect probes, relay nacks, suspicion expiry, gossip, push-pull,
    /// reconnects to dead members and reaping.
    public mutating func tick(now: Duration) -> [GossipDirective] {
        var out: [GossipDirective] = []
        if var p = probe {
            if !p.acked && !p.indirectSent && now >= p.indirectAt {
                p.indirectSent = true
                let target = p.target.name
                let relays = pick(config.indirectChecks) { $0.status == .alive && $0.node.name != target }
                p.expectedNacks = relays.count
                for r in relays { out.append(.send(packet(.pingRequest(sequence: p.sequence, target: p.target)), to: r.node.address, reliable: false)) }
                probe = p
            }
            if now >= p.endAt { finishProbe(now: now, &out) }
        }
        if now >= nextProbeAt && !leaving { startProbe(now: now, &out) }
        // Dictionary order varies per process; sorted keys keep a seeded run replayable.
        for seq in relays.keys.sorted() where now >= relays[seq]!.deadline {
            let r = relays.removeValue(forKey: seq)!
            out.append(.send(packet(.nack(sequence: r.originSequence)), to: r.origin, reliable: false))
        }
        for name in suspicions.keys.sorted() where now >= suspicions[name]!.deadline {
            suspicions[name] = nil
            if let m = members[name], m.status == .suspect {
                apply(MemberUpdate(node: m.node, incarnation: m.incarnation, status: .dead, metadata: m.metadata, origin: me.node.name), now: now, &out)
            }
        }
        if now >= nextGossipAt {
            nextGossipAt = now + config.gossipInterval
            gossip(now: now, &out)
        }
        if now >= nextPushPullAt {
            nextPushPullAt = now + config.pushPullInterval
            // Until a seed answered, keep asking the seeds; afterwards sync with one random live member.
            if !joined { for s in seeds { out.append(.send(packet(.join, updates: [selfUpdate]), to: s, reliable: true)) } }
            else if let m = pick(1, where: { $0.status == .alive }).first {
                out.append(.send(packet(.sync(reply: false), updates: fullState), to: m.node.address, reliable: true))
            }
        }
        if now >= nextReconnectAt {
            nextReconnectAt = now + config.reconnectInterval
            // Serf's reconnect: a dead (not left) member is asked for a full sync so a healed partition merges.
            if let m = pick(1, where: { $0.status == .dead }).first {
                out.append(.send(packet(.sync(reply: false), updates: fullState), to: m.node.address, reliable: true))
            }
        }
        if now >= nextReapAt {
            nextReapAt = now + config.reconnectInterval
            var doomed: [String] = []
            for name in names {
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
        quietExcept = nil
        switch p.body {
        case .ping(let seq, let target):
            guard target == me.node.name else { break }
            var updates = piggyback(budget: config.maxPacketBytes)
            // The sender may not know it was declared suspect/dead; telling it first lets it refute at once.
            if let s = members[p.sender.name], s.status != .alive { updates.insert(update(of: s), at: 0) }
            out.append(.send(packet(.ack(sequence: seq), updates: updates), to: p.sender.address, reliable: false))
        case .pingRequest(let seq, let target):
            sequence &+= 1
            relays[sequence] = Relay(origin: p.sender.address, originSequence: seq, deadline: now + scaled(config.probeTimeout))
            out.append(.send(packet(.ping(sequence: sequence, target: target.name), updates: piggyback(budget: config.maxPacketBytes)), to: target.address, reliable: false))
        case .ack(let seq):
            if let r = relays.removeValue(forKey: seq) {
                out.append(.send(packet(.ack(sequence: r.originSequence)), to: r.origin, reliable: false))
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
            out.append(.send(packet(.sync(reply: true), updates: fullState), to: p.sender.address, reliable: true))
        case .sync(reply: true):
            joined = true
        }
        out.append(.scheduleTimer(at: nextWake(now)))
        return out
    }

    /// Replaces this member's metadata (for example a new document head); the incarnation is bumped so
    /// the change overrides older rumours everywhere.
    public mutating func setMetadata(_ metadata: MemberMetadata, now: Duration) -> [GossipDirective] {
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

    // MARK: Probing

    mutating func startProbe(now: Duration, _ out: inout [GossipDirective]) {
        nextProbeAt = now + scaled(config.probeInterval)
        if probe != nil { finishProbe(now: now, &out) }
        guard let target = nextProbeTarget() else { return }
        sequence &+= 1
        stats.probes += 1
        probe = Probe(sequence: sequence, target: target.node, indirectAt: now + scaled(config.probeTimeout), endAt: nextProbeAt)
        out.append(.send(packet(.ping(sequence: sequence, target: target.node.name), updates: piggyback(budget: config.maxPacketBytes)), to: target.node.address, reliable: false))
    }

    /// Round-robin over a shuffled list (SWIM's time-bounded completeness); reshuffled each pass.
    mutating func nextProbeTarget() -> Member? {
        for _ in 0..<2 {
            while probeIndex < probeOrder.count {
                let name = probeOrder[probeIndex]
                probeIndex += 1
                if let m = members[name], m.status == .alive || m.status == .suspect { return m }
            }
            probeOrder = names
            probeOrder.shuffle(using: &rng)
            probeIndex = 0
        }
        return nil
    }

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
            // Put the newcomer at a random place in the rest of this pass (O(1) swap) so it is probed soon.
            probeOrder.append(u.node.name)
            let j = Int.random(in: probeIndex..<probeOrder.count, using: &rng)
            probeOrder.swapAt(j, probeOrder.count - 1)
            if u.status == .suspect { startSuspicion(m, origin: u.origin, now: now) }
            rumour(u)
            out.append(.memberChanged(m, previous: nil))
            return
        }
        var accept = false
        switch u.status {
        case .alive:
            accept = u.incarnation > current.incarnation
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
        if u.incarnation == me.incarnation && u.status == me.status && u.metadata == me.metadata { return }
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
        queue[name] = nil
        out.append(.memberRemoved(m.node))
    }

    // MARK: Dissemination

    /// Queues a rumour about another member unless it came from a full state exchange.
    mutating func rumour(_ u: MemberUpdate) {
        if let only = quietExcept, only != u.node.name { return }
        enqueue(u)
    }

    mutating func enqueue(_ u: MemberUpdate) {
        queueOrder += 1
        queue[u.node.name] = Queued(update: u, transmits: 0, order: queueOrder)
    }

    /// Takes the least-transmitted (then newest) updates that fit in `budget` bytes and counts one
    /// transmission each; an update retires after retransmitLimit(N) sends.
    mutating func piggyback(budget: Int) -> [MemberUpdate] {
        guard !queue.isEmpty else { return [] }
        let limit = config.retransmitLimit(members: liveCount)
        // Least transmitted first, newest first among equals: a bounded insertion list instead of sorting
        // the whole queue, which holds N entries after a mass join.
        let wanted = max(8, budget / 48)
        var ordered: [Queued] = []
        ordered.reserveCapacity(wanted + 1)
        func better(_ a: Queued, _ b: Queued) -> Bool { a.transmits < b.transmits || (a.transmits == b.transmits && a.order > b.order) }
        for q in queue.values {
            if ordered.count == wanted, !better(q, ordered[wanted - 1]) { continue }
            var i = ordered.count
            while i > 0 && better(q, ordered[i - 1]) { i -= 1 }
            ordered.insert(q, at: i)
            if ordered.count > wanted { ordered.removeLast() }
        }
        var left = budget - 64
        var taken: [MemberUpdate] = []
        for q in ordered {
            let size = GossipCodec.size(of: q.update)
            guard size <= left else { continue }
            left -= size
            taken.append(q.update)
            let name = q.update.node.name
            if q.transmits + 1 >= limit { queue[name] = nil } else { queue[name]?.transmits += 1 }
            if left < 64 { break }
        }
        return taken
    }

    mutating func gossip(now: Duration, _ out: inout [GossipDirective]) {
        guard !queue.isEmpty else { return }
        let deadWindow = config.gossipToTheDeadTime
        let targets = pick(config.gossipNodes) {
            $0.status == .alive || $0.status == .suspect || ($0.status == .dead && now - $0.since < deadWindow)
        }
        for t in targets {
            let updates = piggyback(budget: config.maxPacketBytes)
            guard !updates.isEmpty else { break }
            out.append(.send(packet(.gossip, updates: updates), to: t.node.address, reliable: false))
        }
    }

    // MARK: Helpers

    var selfUpdate: MemberUpdate {
        MemberUpdate(node: me.node, incarnation: me.incarnation, status: me.status, metadata: me.metadata, origin: me.node.name)
    }

    func update(of m: Member) -> MemberUpdate {
        MemberUpdate(node: m.node, incarnation: m.incarnation, status: m.status, metadata: m.metadata, origin: me.node.name)
    }

    /// Every member I know, me first: the payload of join replies and push-pull syncs.
    var fullState: [MemberUpdate] { [selfUpdate] + names.compactMap { members[$0].map(update(of:)) } }

    func packet(_ body: GossipBody, updates: [MemberUpdate] = []) -> GossipPacket {
        GossipPacket(sender: me.node, body: body, updates: updates)
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
        if !leaving { t = min(t, nextProbeAt) }
        if let p = probe { t = min(t, p.indirectSent || p.acked ? p.endAt : p.indirectAt) }
        for r in relays.values { t = min(t, r.deadline) }
        for s in suspicions.values { t = min(t, s.deadline) }
        return max(t, now)
    }
}
