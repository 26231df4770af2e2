import Foundation
import Hummingbird
import HummingbirdTLS
import LBClusterView
import LBControllerAPI
import LBControllerConfig
import LBCrypto
import LBDaemonConfig
import LBDocument
import LBGossip
import LBGossipService
import LBHistory
import LBNotify
import LBSystemd
import Logging
import NIOCore
import NIOSSL
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `lb-controller run`: one process, one ServiceGroup. The services, in start order (shutdown runs in
/// reverse): the status listener, the gossip member, the cluster feed (gossip into the state), the
/// notifications, the API listener, the stream closer that ends event streams when shutdown begins, and
/// systemd's notifier (READY once the API listens).
public struct ControllerDaemon: Sendable {
    public let config: ControllerConfig

    public init(config: ControllerConfig) {
        self.config = config
    }

    /// What must hold before anything starts: the keys readable, the trust policy usable, TLS loadable.
    public struct Prepared: Sendable {
        public var keyring: Keyring
        public var policy: TrustPolicy
        public var tls: TLSConfiguration?
        public var webhook: WebhookTarget?
    }

    public func prepare() throws -> Prepared {
        let credentials: MemberCredentials
        do {
            credentials = try MemberCredentials.load(keyring: config.keyring, trustKeys: config.trust.keys, threshold: config.trust.threshold,
                                                     cluster: config.cluster)
        } catch {
            throw ControllerError(error.description)
        }
        let (keyring, policy) = (credentials.keyring, credentials.policy)
        let tls = try config.api.tls.map { try APIServer.tls(certificate: $0.certificate, key: $0.key) }
        let webhook: WebhookTarget?
        do {
            webhook = try config.notifications.webhook.map { try WebhookTarget(url: $0.url, secretFile: $0.secretFile, retries: $0.retries) }
        } catch {
            throw ControllerError("notifications.webhook.secret_file: \(error)")
        }
        return Prepared(keyring: keyring, policy: policy, tls: tls, webhook: webhook)
    }

    public var gossipConfig: GossipConfig { config.gossip.profile == .fast ? .fast : .lan }

    /// Runs until SIGTERM or SIGINT. Throws, before serving anything, when it cannot start.
    public func run(logger: Logger) async throws {
        let prepared = try prepare()
        let lock: Int32
        do {
            try StateDirectory.create(config.stateDirectory)
            lock = try StateDirectory.lock(config.stateDirectory, file: "controller.lock", holder: "lb-controller", stop: "systemctl stop lb-controller")
        } catch let error as StateDirectory.Failure {
            throw ControllerError(error.description)
        }
        defer { close(lock) }
        let history: HistoryStore
        do { history = try HistoryStore(path: config.stateDirectory + "/history.sqlite") } catch { throw ControllerError("history: \(error)") }

        let metrics = ControllerMetrics()
        // E-mail and the spec's webhook follow the spec of the version in force; the rest is this host's.
        let notifications = NotificationService(cluster: config.cluster, email: nil, webhook: prepared.webhook, script: config.notifications.script,
                                                logger: logger, metrics: metrics.factory)
        let state = ControllerState(history: history, cluster: config.cluster, controller: config.name, policy: prepared.policy, logger: logger,
                                    notify: { event in
                                        metrics.event(kind: event.kind)
                                        notifications.notify(event)
                                    },
                                    onVersion: { notifications.update(spec: $0) })
        let listen = config.gossip.listen
        let gossip: GossipService
        do {
            gossip = try await GossipService.listen(
                name: config.name, host: "\(listen.address)", port: listen.port, advertise: config.gossip.advertise.map { "\($0)" },
                keyring: prepared.keyring, policy: prepared.policy, metadata: MemberMetadata(roles: ["controller"]), config: gossipConfig,
                stateDirectory: config.stateDirectory)
        } catch {
            throw ControllerError("cannot gossip on \(listen): \(error)")
        }
        // The history's head is what this controller spreads, even when gossip's own copy is older.
        if let envelope = try await state.start(gossip: gossip) {
            do { try await gossip.publish(envelopeJSON: envelope) } catch { logger.warning("the history's head is not spread: \(error)") }
        }

        if !config.api.listen.address.isLoopback && prepared.tls == nil {
            logger.warning("api.listen \(config.api.listen) is not loopback and serves plain HTTP (api.insecure_without_tls): signed requests and documents cannot be forged, but they can be read on the way")
        }
        let shutdown = ShutdownSignal()
        let auth = RequestAuthenticator(RequestVerifier(trustedKeys: prepared.policy.trustedKeys, window: config.api.clockWindow))
        let api = APIServer.router(state: state, auth: auth, metrics: metrics, shutdown: shutdown)
        let apiAddress = BindAddress.hostname("\(config.api.listen.address)", port: config.api.listen.port)
        // systemd hears READY once the API is bound: from then on lbctl can reach the controller.
        let (apiListening, listeningNow) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let onListening: @Sendable (any Channel) async -> Void = { _ in listeningNow.yield() }
        let apiService: any Service
        if let tls = prepared.tls {
            apiService = Application(router: api, server: try .tls(.http1(), tlsConfiguration: tls),
                                     configuration: .init(address: apiAddress, serverName: "lb-controller"), onServerRunning: onListening,
                                     logger: logger)
        } else {
            apiService = Application(router: api, configuration: .init(address: apiAddress, serverName: "lb-controller"),
                                     onServerRunning: onListening, logger: logger)
        }
        let apiListen = config.api.listen
        let notify = SystemdNotifyService(ready: { for await _ in apiListening { return } },
                                          status: { await state.headVersion.map { "head v\($0); API on \(apiListen)" } ?? "no version yet; API on \(apiListen)" },
                                          logger: logger)
        let status = StatusListener.make(host: "\(config.status.listen.address)", port: config.status.listen.port, state: state,
                                         metrics: metrics, shutdown: shutdown, logger: logger)
        let services: [any Service] = [
            status, GossipMemberService(gossip: gossip, seeds: config.gossip.usefulSeeds.map { "\($0)" }, logger: logger),
            ClusterFeed(gossip: gossip, state: state, metrics: metrics, logger: logger), notifications, apiService, StreamCloser(shutdown: shutdown, state: state),
            notify,
        ]
        let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) },
                                                      gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        logger.info("lb-controller \(config.name) of cluster \(config.cluster): gossip on \(gossip.node.address), API on \(config.api.listen)\(prepared.tls == nil ? "" : " (TLS)"), status on \(config.status.listen)")
        try await group.run()
        logger.info("stopped")
    }
}

/// Gossip into the controller's state: membership, every report, documents other members hold, and
/// a tick for what depends on time (split brain, apply timeouts).
struct ClusterFeed: Service {
    let gossip: GossipService
    let state: ControllerState
    let metrics: ControllerMetrics
    let logger: Logger
    var tick: Duration = .milliseconds(250)

    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var statuses: [String: String] = [:]
                for await event in await gossip.members().cancelOnGracefulShutdown() {
                    switch event {
                    case .changed(let m, _):
                        statuses[m.node.name] = "\(m.status)"
                        await state.member(.init(name: m.node.name, address: m.node.address, status: "\(m.status)", roles: m.metadata.roles))
                    case .removed(let n):
                        statuses[n.name] = nil
                        await state.removed(n.name)
                    }
                    metrics.members(Dictionary(grouping: statuses.values, by: { $0 }).mapValues(\.count))
                }
            }
            group.addTask {
                for await report in await gossip.reports().cancelOnGracefulShutdown() {
                    metrics.report(decoded: await state.report(report.bytes))
                }
            }
            group.addTask {
                for await held in await gossip.documents().cancelOnGracefulShutdown() {
                    await state.seen(held)
                    metrics.head(held.head.version)
                }
            }
            group.addTask {
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    do { try await Task.sleep(for: tick) } catch { return }
                    await state.tick()
                }
            }
        }
    }
}

/// Ends the event streams when shutdown begins, so the listeners can close their connections.
struct StreamCloser: Service {
    let shutdown: ShutdownSignal
    let state: ControllerState

    func run() async throws {
        try? await gracefulShutdown()
        shutdown.trigger()
        await state.finish()
    }
}
