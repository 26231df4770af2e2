/// The time a gossip member runs on: engine time since start, and sleeping until an engine time.
/// A protocol so a test can drive a member with its own clock; `SystemGossipClock` is the default.
public protocol GossipClock: Sendable {
    /// Engine time now (monotonic, from an arbitrary origin).
    var now: Duration { get }
    /// Returns at or after engine time `deadline`; throws when the task is cancelled.
    func sleep(until deadline: Duration) async throws
}

/// The monotonic system clock (ContinuousClock), with engine time counted from creation.
public struct SystemGossipClock: GossipClock {
    let origin = ContinuousClock.now
    public init() {}
    public var now: Duration { ContinuousClock.now - origin }
    public func sleep(until deadline: Duration) async throws {
        try await ContinuousClock().sleep(until: origin + deadline, tolerance: .milliseconds(1))
    }
}
