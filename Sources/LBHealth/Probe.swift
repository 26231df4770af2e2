import LBSpec

/// What one probe found.
public struct ProbeResult: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable { case success; case failure(String) }
    public var outcome: Outcome
    public var latency: Duration
    public var output: String?

    public init(outcome: Outcome, latency: Duration, output: String? = nil) {
        self.outcome = outcome
        self.latency = latency
        self.output = output
    }
}

/// Runs one check against one real server.
public protocol HealthProbe: Sendable {
    func probe(_ check: HealthCheck, target: Endpoint) async -> ProbeResult
}
