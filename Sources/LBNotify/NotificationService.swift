import AsyncHTTPClient
import CoreMetrics
import Foundation
import LBClusterView
import LBSpec
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle

/// The controller's notifications as one `Service`: the controller hands every event to `notify(_:)`,
/// which never waits, and each channel (e-mail, the controller's webhook, the spec's webhook, the script)
/// delivers it on its own, in order, from a queue of its own, so a slow SMTP server delays no webhook.
///
/// A full queue drops the new event for that channel only; drops are counted and logged at the 1st, 2nd,
/// 4th, 8th… of each channel, so a flood cannot flood the log too. Failures are logged with their reason.
/// `lb_notifications_total{channel, result}` counts `delivered`, `failed` and `dropped`.
///
/// On graceful shutdown no new event is taken, what is queued is dropped, and each channel finishes the
/// delivery it is in within `Settings.grace`; then that delivery is cancelled (the SMTP connection closed,
/// the HTTP request cancelled, the script's process group killed) and `run()` returns.
public final class NotificationService: Service, Sendable {
    /// A way events leave the controller; its raw value is the metric's `channel`.
    public enum Channel: String, Sendable, CaseIterable {
        /// The spec's `notifications.email`.
        case email
        /// The controller configuration's `notifications.webhook`.
        case webhook
        /// The spec's `notifications.webhook`, signed with the controller's webhook secret when it has one.
        case specWebhook = "spec-webhook"
        /// The controller configuration's `notifications.script`.
        case script
    }

    /// What one channel did since the start.
    public struct Counts: Sendable, Equatable {
        public var delivered = 0
        public var failed = 0
        public var dropped = 0

        public init(delivered: Int = 0, failed: Int = 0, dropped: Int = 0) {
            self.delivered = delivered
            self.failed = failed
            self.dropped = dropped
        }
    }

    /// The knobs, with the controller's defaults.
    public struct Settings: Sendable {
        /// Events a channel holds while it delivers; more are dropped.
        public var queueLength: Int
        /// How long shutdown waits for the deliveries in flight.
        public var grace: Duration
        /// Webhook retries' timing.
        public var retry: RetryPolicy
        /// How long the script may run.
        public var scriptTimeout: Duration
        /// PEM CA certificates to verify the SMTP server's certificate with; nil verifies none (opportunistic).
        public var smtpCAFile: String?

        public init(queueLength: Int = 256, grace: Duration = .seconds(5), retry: RetryPolicy = RetryPolicy(),
                    scriptTimeout: Duration = ScriptNotifier.defaultTimeout, smtpCAFile: String? = nil) {
            self.queueLength = queueLength
            self.grace = grace
            self.retry = retry
            self.scriptTimeout = scriptTimeout
            self.smtpCAFile = smtpCAFile
        }
    }

    /// Which events a channel is sent: every kind, known or not, except `node-progress`, which reports
    /// each node's step through an apply for `lbctl apply --wait`; it goes to webhooks (a program can
    /// filter on `X-LB-Event`), not to people's mailboxes nor to a script run per node per version.
    public static func delivers(_ kind: String, to channel: Channel) -> Bool {
        guard kind == ClusterEvent.Kind.nodeProgress.rawValue else { return true }
        return channel == .webhook || channel == .specWebhook
    }

    public let cluster: String
    private let webhook: WebhookTarget?
    private let script: String?
    private let settings: Settings
    private let logger: Logger
    private let helloName: String
    private let lanes: [Channel: Lane]
    private let state: NIOLockedValueBox<State>

    private struct State {
        var email: EmailNotification?
        var specWebhook: String?
        /// VRRP groups whose transitions are not e-mailed (`vrrp.email: false`).
        var unmailedRouterIDs: Set<Int> = []
        var stopping = false
        var counts: [Channel: Counts] = [:]
    }

    /// One channel's queue and counters.
    private struct Lane: Sendable {
        let stream: AsyncStream<ClusterEvent>
        let continuation: AsyncStream<ClusterEvent>.Continuation
        let delivered: Counter
        let failed: Counter
        let dropped: Counter
    }

    /// `email`: the spec's, changed with each version by `update(email:)`. `webhook`: the controller's,
    /// its secret already read. `script`: the controller's, an absolute path. `metrics`: where the counters
    /// go (tests pass their own; the process's otherwise).
    public init(cluster: String, email: EmailNotification?, webhook: WebhookTarget?, script: String?, logger: Logger,
                settings: Settings = Settings(), metrics: any MetricsFactory = MetricsSystem.factory) {
        self.cluster = cluster
        self.webhook = webhook
        self.script = script
        self.settings = settings
        self.logger = logger
        helloName = SMTPMailer.localHostName()
        var lanes: [Channel: Lane] = [:]
        for channel in Channel.allCases {
            // E-mail and the spec's webhook come and go with spec versions, so their lanes always exist.
            if channel == .webhook && webhook == nil || channel == .script && script == nil { continue }
            let (stream, continuation) = AsyncStream.makeStream(of: ClusterEvent.self, bufferingPolicy: .bufferingOldest(max(settings.queueLength, 1)))
            func counter(_ result: String) -> Counter {
                Counter(label: "lb_notifications_total", dimensions: [("channel", channel.rawValue), ("result", result)], factory: metrics)
            }
            lanes[channel] = Lane(stream: stream, continuation: continuation, delivered: counter("delivered"), failed: counter("failed"),
                                  dropped: counter("dropped"))
        }
        self.lanes = lanes
        state = NIOLockedValueBox(State(email: email, counts: Dictionary(uniqueKeysWithValues: lanes.keys.map { ($0, Counts()) })))
    }

    /// Queues `event` for every channel that takes it, without waiting; a channel whose queue is full
    /// drops it (counted). Events given before `run()` wait in the queues; after shutdown, none is taken.
    public func notify(_ event: ClusterEvent) {
        let (email, specWebhook, stopping, unmailed) = state.withLockedValue { ($0.email, $0.specWebhook, $0.stopping, $0.unmailedRouterIDs) }
        guard !stopping else {
            logger.debug("notification not queued: shutting down", metadata: ["event": "\(event.kind)", "id": "\(event.id)"])
            return
        }
        for (channel, lane) in lanes where Self.delivers(event.kind, to: channel) {
            if channel == .email && email == nil || channel == .specWebhook && specWebhook == nil { continue }
            if channel == .email, let id = event.routerID, unmailed.contains(id) { continue }
            if case .dropped = lane.continuation.yield(event) { drop(event, on: channel, lane) }
        }
    }

    /// The spec's e-mail settings, from the version just accepted (nil: it has none). Events queued already
    /// go to the new settings.
    public func update(email: EmailNotification?) {
        state.withLockedValue { $0.email = email }
    }

    /// The spec's webhook URL, from the version just accepted (nil: it has none). A URL equal to the
    /// controller's own webhook is not sent to twice.
    public func update(specWebhook url: String?) {
        let url = url.flatMap { $0.isEmpty || $0 == webhook?.url ? nil : $0 }
        state.withLockedValue { $0.specWebhook = url }
    }

    /// Both of the spec's targets at once.
    public func update(spec notifications: Notifications?) {
        update(email: notifications?.email)
        update(specWebhook: notifications?.webhook)
    }

    /// The spec's targets, and the VRRP groups whose transitions it leaves out of e-mail.
    public func update(spec: ClusterSpec) {
        update(spec: spec.notifications)
        let unmailed = Set(spec.vips.filter { !$0.vrrp.email }.map(\.vrrp.routerID))
        state.withLockedValue { $0.unmailedRouterIDs = unmailed }
    }

    /// What each configured channel did since the start.
    public func counts() -> [Channel: Counts] {
        state.withLockedValue { $0.counts }
    }

    public func run() async throws {
        let client = WebhookNotifier.makeClient()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.deliverQueued(client: client) }
            group.addTask {
                // Either way the queues close; after a graceful shutdown the deliveries in flight get the grace.
                try? await gracefulShutdown()
                self.stop()
                try? await Task.sleep(for: self.settings.grace)
            }
            // The first to end decides: every queue drained, or the grace is over (or the task cancelled).
            _ = await group.next()
            group.cancelAll()
        }
        try? await client.shutdown()
    }

    /// Takes no new event and lets every queue end.
    private func stop() {
        state.withLockedValue { $0.stopping = true }
        for lane in lanes.values { lane.continuation.finish() }
    }

    private func deliverQueued(client: HTTPClient) async {
        await withDiscardingTaskGroup { group in
            for (channel, lane) in lanes {
                group.addTask {
                    var abandoned = 0
                    for await event in lane.stream {
                        if self.state.withLockedValue({ $0.stopping }) {
                            abandoned += 1
                            self.count(channel) { $0.dropped += 1 }
                            lane.dropped.increment()
                            continue
                        }
                        await self.deliver(event, on: channel, lane, client: client)
                    }
                    if abandoned > 0 {
                        self.logger.warning("notifications not sent: shutting down", metadata: ["channel": "\(channel.rawValue)", "count": "\(abandoned)"])
                    }
                }
            }
        }
    }

    private func deliver(_ event: ClusterEvent, on channel: Channel, _ lane: Lane, client: HTTPClient) async {
        var metadata: Logger.Metadata = ["channel": "\(channel.rawValue)", "event": "\(event.kind)", "id": "\(event.id)"]
        do {
            switch channel {
            case .email:
                guard let target = state.withLockedValue({ $0.email }) else { return }
                let message = EmailMessage(event: event, cluster: cluster, from: target.from, to: target.to, date: Date(), host: helloName)
                let receipt = try await SMTPMailer(target: target, caFile: settings.smtpCAFile, helloName: helloName).send(message)
                metadata["tls"] = "\(receipt.encrypted)"
            case .webhook:
                guard let webhook else { return }
                let receipt = try await WebhookNotifier(target: webhook, cluster: cluster, client: client, policy: settings.retry).deliver(event)
                metadata["attempts"] = "\(receipt.attempts)"
            case .specWebhook:
                guard let url = state.withLockedValue({ $0.specWebhook }) else { return }
                let target = WebhookTarget(url: url, secret: webhook?.secret, retries: webhook?.retries ?? WebhookTarget.defaultRetries)
                let receipt = try await WebhookNotifier(target: target, cluster: cluster, client: client, policy: settings.retry).deliver(event)
                metadata["attempts"] = "\(receipt.attempts)"
            case .script:
                guard let script else { return }
                try await ScriptNotifier(path: script, cluster: cluster, timeout: settings.scriptTimeout, logger: logger).deliver(event)
            }
            count(channel) { $0.delivered += 1 }
            lane.delivered.increment()
            logger.debug("notification delivered", metadata: metadata)
        } catch {
            count(channel) { $0.failed += 1 }
            lane.failed.increment()
            // A delivery cut short by shutdown says so rather than whatever error the cut caused.
            metadata["reason"] = Task.isCancelled ? "cancelled at shutdown" : "\(error)"
            logger.warning("notification failed", metadata: metadata)
        }
    }

    private func drop(_ event: ClusterEvent, on channel: Channel, _ lane: Lane) {
        lane.dropped.increment()
        let dropped = state.withLockedValue { s in
            s.counts[channel, default: Counts()].dropped += 1
            return s.counts[channel]?.dropped ?? 0
        }
        if dropped & (dropped - 1) == 0 {
            logger.warning("notification dropped: queue full", metadata: ["channel": "\(channel.rawValue)", "event": "\(event.kind)",
                                                                          "id": "\(event.id)", "dropped": "\(dropped)",
                                                                          "queue": "\(settings.queueLength)"])
        }
    }

    private func count(_ channel: Channel, _ change: (inout Counts) -> Void) {
        state.withLockedValue { change(&$0.counts[channel, default: Counts()]) }
    }
}
