#if canImport(Glibc)
import Glibc
#endif

/// Where a speaker gets the time: `now` for the state machine, `sleep(until:)` for its one timer.
/// Instants are durations since an arbitrary fixed origin; only differences matter.
public protocol VRRPClock: Sendable {
    func now() -> Duration
    /// Returns at `deadline` or later; throws `CancellationError` when the task is cancelled.
    func sleep(until deadline: Duration) async throws
}

/// CLOCK_MONOTONIC: unaffected by wall-clock steps (NTP, an operator's `date -s`), so a clock change never
/// fires a Master_Down_Timer early. Sleeps on a dedicated timer thread that meets deadlines within
/// microseconds (see `TimerThread`): Skew_Time differences between backups are a few milliseconds and
/// must not be blurred by timer coalescing or thread hops.
public struct MonotonicClock: VRRPClock {
    public init() {}

    public func now() -> Duration { Self.read() }

    public func sleep(until deadline: Duration) async throws {
        guard deadline > Self.read() else { return }
        try await TimerThread.shared.sleep(until: deadline)
    }

    static func read() -> Duration {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return .seconds(Int64(ts.tv_sec)) + .nanoseconds(Int64(ts.tv_nsec))
    }
}
