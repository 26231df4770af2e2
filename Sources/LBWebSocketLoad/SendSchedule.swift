/// When one connection sends: once as soon as it is open (so every connection is checked at least once),
/// then every `interval`, and a last message when the run ends.
public struct SendSchedule: Sendable, Equatable {
    public var kind: ConnectionKind
    /// Time between messages after the first; fixed for the connection's life.
    public var interval: Duration

    public init(kind: ConnectionKind, interval: Duration) {
        self.kind = kind
        self.interval = interval
    }

    /// The schedule of connection `id` in a run seeded with `seed`: the same seed gives the same run.
    /// fast: every 200 ms. heartbeat: every 2–30 s, as keep-alives of real clients are. idle: every 60–300 s,
    /// so a short run sees only the first and the last message, and a long one tests idle timeouts.
    public static func make(id: Int, kind: ConnectionKind, seed: UInt64) -> SendSchedule {
        var random = SplitMix64(seed: seed ^ (UInt64(id) &* 0x9E37_79B9_7F4A_7C15))
        switch kind {
        case .fast: return SendSchedule(kind: kind, interval: .milliseconds(200))
        case .heartbeat: return SendSchedule(kind: kind, interval: .milliseconds(Int64(random.next(in: 2_000...30_000))))
        case .idle: return SendSchedule(kind: kind, interval: .milliseconds(Int64(random.next(in: 60_000...300_000))))
        }
    }
}

/// SplitMix64: small, seedable and good enough to spread schedules; not for anything secret.
struct SplitMix64 {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next(in range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next() % (range.upperBound - range.lowerBound + 1)
    }
}
