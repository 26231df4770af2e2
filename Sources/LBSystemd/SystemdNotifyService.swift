import Logging
import ServiceLifecycle

/// Tells systemd how a daemon is doing: READY=1 with a STATUS= line once `ready` has returned (the
/// daemon's own idea of started: the agent has restored and applied, the controller's API listens), a
/// new STATUS= whenever `status` says something else, WATCHDOG=1 at half of `WatchdogSec=`, and
/// STOPPING=1 when graceful shutdown begins. Outside systemd it only waits for shutdown.
///
/// A watchdog ping goes out only after `status` has answered, so it proves more than this task being
/// scheduled: the agent's status reads the reconciler, and a reconciler that no longer answers gets the
/// process restarted. Put this service last in the group, so shutdown reaches it first and STOPPING=1
/// goes out before the others stop.
public struct SystemdNotifyService: Service {
    /// How often `status` is looked at without a watchdog (with one, at least this often).
    public static let statusInterval: Duration = .seconds(5)

    let notifier: SystemdNotifier?
    let watchdogInterval: Duration?
    let ready: @Sendable () async -> Void
    let status: @Sendable () async -> String
    let stopping: String
    let logger: Logger

    /// From `environment` (by default this process's): a notifier when `NOTIFY_SOCKET` is set, and the
    /// watchdog when `WATCHDOG_USEC` is meant for this process. A socket name that cannot be used is
    /// logged and nothing is sent: systemd then fails the start, which says more than a crash here would.
    public init(environment: SystemdEnvironment = .current, ready: @escaping @Sendable () async -> Void = {},
                status: @escaping @Sendable () async -> String, stopping: String = "stopping", logger: Logger) {
        var notifier: SystemdNotifier?
        if let name = environment.notifySocket {
            do { notifier = try SystemdNotifier(socket: name) } catch { logger.error("systemd notification is off: \(error)") }
        }
        self.notifier = notifier
        self.watchdogInterval = notifier == nil ? nil : environment.watchdogInterval
        self.ready = ready
        self.status = status
        self.stopping = stopping
        self.logger = logger
    }

    public func run() async throws {
        guard let notifier else {
            try? await gracefulShutdown()
            return
        }
        let tick = min(watchdogInterval ?? Self.statusInterval, Self.statusInterval)
        let sendWatchdog = watchdogInterval != nil
        // Only shutdown or cancellation ends this (sleep throws then); either way systemd hears STOPPING.
        try? await cancelWhenGracefulShutdown {
            await ready()
            // A shutdown while waiting to be ready ends the wait; no READY=1 for a daemon that is stopping.
            try Task.checkCancellation()
            var said = await status()
            send(notifier, [.ready, .status(said)])
            logger.debug("told systemd READY: \(said)")
            while true {
                try await Task.sleep(for: tick)
                let now = await status()
                var states: [SystemdState] = sendWatchdog ? [.watchdog] : []
                if now != said { states.append(.status(now)) }
                said = now
                if !states.isEmpty { send(notifier, states) }
            }
        }
        send(notifier, [.stopping, .status(stopping)])
    }

    private func send(_ notifier: SystemdNotifier, _ states: [SystemdState]) {
        do { try notifier.send(states) } catch { logger.warning("\(error)") }
    }
}
