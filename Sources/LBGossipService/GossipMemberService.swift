import Logging
import ServiceLifecycle

/// The gossip member as a Service: joins on start, leaves gracefully on shutdown (so the others mark
/// this node left, not dead).
public struct GossipMemberService: Service {
    let gossip: GossipService
    let seeds: [String]
    let logger: Logger

    public init(gossip: GossipService, seeds: [String], logger: Logger) {
        self.gossip = gossip
        self.seeds = seeds
        self.logger = logger
    }

    public func run() async throws {
        await gossip.start(seeds: seeds)
        do {
            try await gracefulShutdown()
            await gossip.leave()
        } catch {
            await gossip.stop()
        }
    }
}
