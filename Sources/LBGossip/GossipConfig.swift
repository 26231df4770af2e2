/// Every tunable of the SWIM engine, with memberlist's formulas; build one with `.lan` or `.fast`.
public struct GossipConfig: Sendable, Equatable {
    /// Time between two failure-detection probes of this member (memberlist ProbeInterval, LAN 1 s).
    /// Lifeguard scales it by (LHM score + 1) while this member is locally unhealthy.
    public var probeInterval: Duration
    /// How long to wait for a direct ack before asking `indirectChecks` members (ProbeTimeout, LAN 500 ms);
    /// scaled by (LHM score + 1) like the interval. Should be about the 99th percentile RTT.
    public var probeTimeout: Duration
    /// Members asked to probe on our behalf when the direct probe fails (IndirectChecks, LAN 3).
    public var indirectChecks: Int
    /// Suspicion timeout minimum = suspicionMult · max(1, log10(N)) · probeInterval (SuspicionMult, LAN 4).
    /// Lifeguard expects suspicionMult − 2 independent confirmations to reach that minimum.
    public var suspicionMult: Int
    /// Suspicion timeout maximum = suspicionMaxTimeoutMult · minimum; an unconfirmed suspicion waits this
    /// long (SuspicionMaxTimeoutMult, 6).
    public var suspicionMaxTimeoutMult: Int
    /// Each update is piggybacked retransmitMult · ceil(log10(N + 1)) times (RetransmitMult, LAN 4).
    public var retransmitMult: Int
    /// Time between two gossip rounds that carry queued updates (GossipInterval, LAN 200 ms).
    public var gossipInterval: Duration
    /// Random members each gossip round is sent to (GossipNodes, LAN 3).
    public var gossipNodes: Int
    /// Dead members still gossiped to for this long, so they learn they were declared dead and refute
    /// (GossipToTheDeadTime, LAN 30 s).
    public var gossipToTheDeadTime: Duration
    /// Time between full state exchanges with one random member over the reliable channel
    /// (PushPullInterval, LAN 30 s). Repairs anything gossip lost.
    public var pushPullInterval: Duration
    /// Lifeguard's local health multiplier ceiling: the score stays in 0..<awarenessMaxMultiplier (LAN 8).
    public var awarenessMaxMultiplier: Int
    /// Time between attempts to sync with one dead (not left) member, so a healed partition merges back
    /// by itself (Serf ReconnectInterval, 30 s). Also the longest wait between two joins to a seed.
    public var reconnectInterval: Duration
    /// Dead members are retried, then forgotten, after this long (Serf ReconnectTimeout, 24 h).
    public var reconnectTimeout: Duration
    /// Members that left gracefully are forgotten after this long (Serf TombstoneTimeout, 24 h).
    public var tombstoneTimeout: Duration
    /// Byte budget for piggybacked updates in one packet; UDP payload under a 1,500-byte MTU (1,400).
    public var maxPacketBytes: Int
    /// Largest node report a member may publish (1,024 bytes): every member keeps every report, and one
    /// must fit in a datagram beside the packet header.
    public var maxReportBytes: Int
    /// How long a document fetch may take before another holder is tried (5 s).
    public var fetchTimeout: Duration
    /// Members advertising one of these roles get every new report sent to them at once, besides the
    /// epidemic: the controller must hear each node's report within a round trip of it being made, and
    /// when every node reports at once (an apply) the rumour queue takes several seconds to drain.
    public var directReportRoles: Set<String> = ["controller"]
    /// How long after the first join a seed with no live member known at its address is joined again
    /// (1 s); each further try waits twice as long, up to reconnectInterval, which is also the pace once
    /// the member at a seed dies or leaves. memberlist stops at the first seed that answers, so a seed
    /// that starts after the members listing it, and lists none of them, would never be found.
    public var joinRetryInterval: Duration = .seconds(1)

    /// memberlist's DefaultLANConfig with Serf's reconnect and tombstone windows.
    public static let lan = GossipConfig(
        probeInterval: .seconds(1), probeTimeout: .milliseconds(500), indirectChecks: 3,
        suspicionMult: 4, suspicionMaxTimeoutMult: 6, retransmitMult: 4,
        gossipInterval: .milliseconds(200), gossipNodes: 3, gossipToTheDeadTime: .seconds(30),
        pushPullInterval: .seconds(30), awarenessMaxMultiplier: 8,
        reconnectInterval: .seconds(30), reconnectTimeout: .seconds(24 * 3600),
        tombstoneTimeout: .seconds(24 * 3600), maxPacketBytes: 1400, maxReportBytes: 1024,
        fetchTimeout: .seconds(5))

    /// A faster profile for one rack or a lab: probes every 500 ms with a 200 ms timeout, more retransmits,
    /// 5 s reconnects, seeds retried from 500 ms. Detection takes about half the LAN time at twice the
    /// probe traffic.
    public static let fast: GossipConfig = {
        var c = GossipConfig.lan
        c.probeInterval = .milliseconds(500)
        c.probeTimeout = .milliseconds(200)
        c.suspicionMult = 3
        c.retransmitMult = 4
        c.gossipInterval = .milliseconds(100)
        c.gossipNodes = 4
        c.gossipToTheDeadTime = .seconds(15)
        c.pushPullInterval = .seconds(10)
        c.reconnectInterval = .seconds(5)
        c.joinRetryInterval = .milliseconds(500)
        return c
    }()

    /// Checks the relations the formulas rely on; the engine refuses an invalid config at creation.
    public func validate() throws(GossipError) {
        guard probeInterval > .zero, probeTimeout > .zero, probeTimeout <= probeInterval else {
            throw .invalidConfig("probeTimeout must be positive and no longer than probeInterval")
        }
        guard gossipInterval > .zero, pushPullInterval > .zero, reconnectInterval > .zero, joinRetryInterval > .zero else {
            throw .invalidConfig("intervals must be positive")
        }
        guard indirectChecks >= 0, gossipNodes >= 1, suspicionMult >= 1, suspicionMaxTimeoutMult >= 1,
              retransmitMult >= 1, awarenessMaxMultiplier >= 1, maxPacketBytes >= 256, fetchTimeout > .zero else {
            throw .invalidConfig("counts and multipliers must be at least 1 (indirectChecks at least 0, maxPacketBytes at least 256)")
        }
        guard maxReportBytes >= 0, maxReportBytes <= min(GossipCodec.maxReport, maxPacketBytes - 128) else {
            throw .invalidConfig("maxReportBytes must fit in one packet: at most \(min(GossipCodec.maxReport, maxPacketBytes - 128))")
        }
    }

    /// Retransmit limit for a cluster of `n` members: retransmitMult · ceil(log10(n + 1)) (memberlist util.go).
    public func retransmitLimit(members n: Int) -> Int {
        retransmitMult * Int(GossipMath.log10(Double(n + 1)).rounded(.up))
    }

    /// Push-pull interval for `n` members: above 32 members it grows by one interval per doubling, as
    /// memberlist's pushPullScale does, so full-state traffic per member stays flat as clusters grow.
    public func pushPullInterval(members n: Int) -> Duration {
        guard n > 32 else { return pushPullInterval }
        let multiplier = Int((GossipMath.log(Double(n)) / GossipMath.log(2) - 5).rounded(.up)) + 1
        return pushPullInterval * multiplier
    }

    /// Suspicion timeout bounds for `n` members: min = suspicionMult · max(1, log10(n)) · probeInterval,
    /// max = suspicionMaxTimeoutMult · min (memberlist util.go suspicionTimeout, state.go).
    public func suspicionBounds(members n: Int) -> (min: Duration, max: Duration) {
        let scale = max(1.0, GossipMath.log10(Double(max(1, n))))
        let minimum = GossipMath.scale(probeInterval, by: Double(suspicionMult) * scale)
        return (minimum, minimum * suspicionMaxTimeoutMult)
    }

    /// Remaining suspicion time after `confirmations` of `k` wanted (memberlist suspicion.go):
    /// max(min, max − (max − min) · log(C + 1) / log(K + 1)) − elapsed.
    public static func suspicionTimeout(confirmations c: Int, wanted k: Int, min: Duration, max: Duration) -> Duration {
        guard k > 0 else { return min }
        let frac = GossipMath.log(Double(c) + 1) / GossipMath.log(Double(k) + 1)
        let raw = GossipMath.seconds(max) - frac * (GossipMath.seconds(max) - GossipMath.seconds(min))
        let timeout = Duration.milliseconds(Int64((raw * 1000).rounded(.down)))
        return timeout < min ? min : timeout
    }
}

/// Errors of the gossip engine and codec.
public enum GossipError: Error, Equatable, Sendable {
    case invalidConfig(String)
    case truncated
    case badMagic
    case unsupportedVersion(UInt8)
    case unknownMessageType(UInt8)
    case unknownStatus(UInt8)
    case invalidUTF8
    case tooLarge(String)
    case trailingBytes(Int)
    case invalidHead
}

/// Math the engine needs without Foundation: the C library's logarithms and Duration ⇄ seconds.
public enum GossipMath {
    static func log(_ x: Double) -> Double { cLog(x) }
    static func log10(_ x: Double) -> Double { cLog10(x) }
    /// A duration in seconds.
    public static func seconds(_ d: Duration) -> Double {
        let (s, a) = d.components
        return Double(s) + Double(a) / 1e18
    }
    static func scale(_ d: Duration, by f: Double) -> Duration {
        .nanoseconds(Int64((seconds(d) * f * 1e9).rounded()))
    }
}
