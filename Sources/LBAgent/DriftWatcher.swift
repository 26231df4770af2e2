import LBNetlink
import Logging
import ServiceLifecycle

/// Finds drift: rtnetlink events (addresses, links) ask for a pass the moment they happen; short
/// periodic passes cover what the kernel sends no events for (sysctls and the IPVS service count every
/// `sysctlInterval`, the whole IPVS table every `ipvsInterval`). It only asks; the reconciler and the
/// VRRP supervisor decide.
public struct DriftWatcher: Service {
    let reconciler: Reconciler
    let vrrp: VRRPSupervisor
    let sysctlInterval: Duration
    let ipvsInterval: Duration
    let events: @Sendable () throws -> AsyncThrowingStream<RouteEvent, any Error>
    let logger: Logger

    /// - Parameter events: the kernel's address and link events (the default), or a test's.
    public init(reconciler: Reconciler, vrrp: VRRPSupervisor, sysctlInterval: Duration, ipvsInterval: Duration, logger: Logger,
                events: @escaping @Sendable () throws -> AsyncThrowingStream<RouteEvent, any Error> = { try RouteEvents.subscribe() }) {
        self.reconciler = reconciler
        self.vrrp = vrrp
        self.sysctlInterval = sysctlInterval
        self.ipvsInterval = ipvsInterval
        self.events = events
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await watchEvents() }
            group.addTask { await every({ sysctlInterval }) { reconciler.kick(.light); await vrrp.checkAddresses(); await vrrp.checkLinks() } }
            // The full pass reads the whole IPVS table. It may take at most a tenth of the time between
            // two of them, so a large table (or a slow machine) stretches the interval instead of the
            // agent's share of a core growing without bound: 10,000 services take ~20 ms natively.
            group.addTask { await every({ max(ipvsInterval, await reconciler.lastFullPass * 10) }) { reconciler.kick(.full) } }
        }
    }

    private func every(_ interval: @Sendable () async -> Duration, _ body: @Sendable () async -> Void) async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            let wait = await interval()
            guard (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: wait) })) != nil else { return }
            await body()
        }
    }

    /// Follows the kernel's events; when the subscription breaks (the kernel dropped events: ENOBUFS)
    /// it subscribes again and asks for a full pass, since something may have been missed.
    private func watchEvents() async {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                for try await event in try events().cancelOnGracefulShutdown() {
                    switch event {
                    case .addressRemoved, .addressAdded:
                        reconciler.kick(.light)
                        await vrrp.checkAddresses()
                    case .linkChanged, .linkRemoved:
                        // A link that appears or comes up may be where a sync daemon or a VRRP instance waits.
                        reconciler.kick(.full)
                        await vrrp.checkLinks()
                        await vrrp.retryFailed()
                    }
                }
                return
            } catch {
                logger.warning("rtnetlink events lost (\(error)); resubscribing and checking everything")
                reconciler.kick(.full)
                do { try await Task.sleep(for: .milliseconds(100)) } catch { return }
            }
        }
    }
}
