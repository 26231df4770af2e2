import Foundation
import LBAgentConfig
import LBDaemonConfig
import LBCrypto
import LBDocument
import LBGossip
import LBGossipService
import LBHealth
import LBHost
import LBSpec
import LBSystemd
import Logging
import NIOPosix
import ServiceLifecycle
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// `lb-agent run`: one process, one ServiceGroup. The services, in start order (shutdown runs in
/// reverse): the status listener, the gossip member, the health checks, the document follower, the report publisher, the
/// reconciler, the drift watcher, the connection handover, the VRRP supervisor, the SIGHUP handler, systemd's notifier. So on
/// SIGTERM systemd hears STOPPING, the VRRP masters resign, the gossip member leaves last but one, and the kernel state stays as it is.
public struct AgentDaemon: Sendable {
    public let config: AgentConfig

    public init(config: AgentConfig) {
        self.config = config
    }

    /// What must hold before anything changes on the host: the keys readable, the trust policy usable.
    public struct Prepared: Sendable {
        public var keyring: Keyring
        public var policy: TrustPolicy
    }

    public func prepare() throws -> Prepared {
        do {
            let c = try MemberCredentials.load(keyring: config.keyring, trustKeys: config.trust.keys, threshold: config.trust.threshold,
                                               cluster: config.cluster)
            return Prepared(keyring: c.keyring, policy: c.policy)
        } catch {
            throw AgentError(error.description)
        }
    }

    public var gossipConfig: GossipConfig { config.gossip.profile == .fast ? .fast : .lan }

    /// Runs until SIGTERM or SIGINT. Throws, before changing anything, when it cannot start.
    public func run(logger: Logger) async throws {
        let prepared = try prepare()
        let lock: Int32
        do {
            try StateDirectory.create(config.stateDirectory)
            lock = try StateDirectory.lock(config.stateDirectory, file: "agent.lock", holder: "lb-agent", stop: "systemctl stop lb-agent")
        } catch let error as StateDirectory.Failure {
            throw AgentError(error.description)
        }
        defer { close(lock) }

        let metrics = AgentMetrics()
        let reports = Wakeup()
        let reconciler = try Reconciler(host: LinuxHost(), ledgerPath: LedgerFile.path(in: config.stateDirectory),
                                        retryMax: config.drift.retryMax, logger: logger, metrics: metrics, onChange: { reports.signal() })
        let vrrpThread = HostThread()
        // Preemption starts held: a director that starts does not take its VIPs back before it has the
        // master's connection table (HandoverService releases it at once when there is nothing to wait for).
        let supervisor = VRRPSupervisor(makeHost: { LinuxHost(thread: vrrpThread) }, logger: logger, metrics: metrics,
                                        preemptionHeld: true, onChange: { reports.signal() })
        let listen = config.gossip.listen
        let gossip: GossipService
        do {
            gossip = try await GossipService.listen(
                name: config.node, host: "\(listen.address)", port: listen.port, advertise: config.gossip.advertise.map { "\($0)" },
                keyring: prepared.keyring, policy: prepared.policy, config: gossipConfig, stateDirectory: config.stateDirectory)
        } catch {
            throw AgentError("cannot gossip on \(listen): \(error)")
        }
        // One loop for every check: the service, its timer and its sockets, so a probe never changes thread.
        let healthLoop = MultiThreadedEventLoopGroup.singleton.next()
        let health = HealthService(probe: NIOHealthProbe(group: healthLoop), loop: healthLoop, reconciler: reconciler,
                                   logger: logger, metrics: metrics, onChange: { reports.signal() })
        let follower = DocumentFollower(node: config.node, reconciler: reconciler, vrrp: supervisor, gossip: gossip, logger: logger,
                                        metrics: metrics, health: health, onChange: { reports.signal() })
        let handover = HandoverService(node: config.node, follower: follower, reconciler: reconciler, vrrp: supervisor, gossip: gossip,
                                       logger: logger, onChange: { reports.signal() })
        let publisher = ReportPublisher(node: config.node, cluster: config.cluster, reconciler: reconciler, follower: follower,
                                        vrrp: supervisor, health: health, handover: handover, gossip: gossip, metrics: metrics,
                                        wakeup: reports, logger: logger)

        // Restore first: the last document this node verified is applied before gossip has converged,
        // so a rebooted host is right again without any controller or peer.
        do {
            if let held = try HeldDocument.load(from: config.stateDirectory, policy: prepared.policy) {
                logger.info("restoring v\(held.head.version) from \(config.stateDirectory)")
                await follower.accept(held)
                await reconciler.pass(.full)
            } else {
                logger.info("no document in \(config.stateDirectory) yet: waiting for one from gossip")
            }
        } catch let rejection as DocumentRejection {
            await follower.refuse(version: 0, reason: rejection.reason, message: "the stored document is refused: \(rejection)", from: nil)
        } catch {
            logger.error("cannot read the stored document: \(error)")
        }

        let status = StatusServer.make(host: "\(config.status.listen.address)", port: config.status.listen.port,
                                       publisher: publisher, metrics: metrics, logger: logger)
        let watcher = DriftWatcher(reconciler: reconciler, vrrp: supervisor, sysctlInterval: config.drift.sysctlInterval,
                                   ipvsInterval: config.drift.ipvsInterval, logger: logger)
        let services: [any Service] = [
            status, GossipMemberService(gossip: gossip, seeds: AgentConfigValidator.usefulSeeds(config.gossip).map { "\($0)" }, logger: logger),
            health, follower, publisher, reconciler, watcher, handover, supervisor, Hangup(reconciler: reconciler, logger: logger),
            StartupPages(logger: logger),
            // Ready now: the restore above has applied what this host held. Last, so STOPPING=1 goes out first.
            SystemdNotifyService(status: { Self.systemdStatus(await reconciler.snapshot) },
                                 stopping: "stopping: VRRP masters resign, the kernel state stays", logger: logger),
        ]
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("lb-agent \(config.node) of cluster \(config.cluster): gossip on \(gossip.node.address), status on \(config.status.listen)")
        try await group.run()
        logger.info("stopped; the kernel state stays in place (lb-agent reset removes it)")
    }
}

extension AgentDaemon {
    /// The line `systemctl status lb-agent` shows: the version in force and whether the host holds it.
    static func systemdStatus(_ snapshot: Reconciler.Snapshot) -> String {
        guard let version = snapshot.version else { return "no document yet: waiting for one from gossip" }
        if snapshot.converged { return "v\(version) applied" }
        return "v\(version) being applied" + (snapshot.lastError.map { "; last error: \($0)" } ?? "")
    }
}

/// Wakes one waiter; signals while nobody waits merge into one.
public final class Wakeup: Sendable {
    let stream: AsyncStream<Void>
    let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func signal() { continuation.yield() }
    func finish() { continuation.finish() }
}

/// SIGHUP: a full pass at once (operators send it after changing something by hand and want it checked
/// now); the configuration itself is read only at start.
struct Hangup: Service {
    let reconciler: Reconciler
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            logger.info("SIGHUP: checking everything now")
            reconciler.kick(.full)
        }
    }
}
