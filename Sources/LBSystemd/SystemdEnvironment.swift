#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What systemd tells a service through its environment: where to notify, and how often to feed the
/// watchdog. Both are absent outside systemd (and for `Type=simple` units), and then nothing is sent.
public struct SystemdEnvironment: Sendable, Equatable {
    /// `NOTIFY_SOCKET`: the socket sd_notify writes to; nil when unset or empty.
    public var notifySocket: String?
    /// `WATCHDOG_USEC`: the unit's `WatchdogSec=`, when it is meant for this process (`WATCHDOG_PID`
    /// unset or this process's id); systemd restarts the service when no ping arrives within it.
    public var watchdogTimeout: Duration?

    public init(notifySocket: String? = nil, watchdogTimeout: Duration? = nil) {
        self.notifySocket = notifySocket
        self.watchdogTimeout = watchdogTimeout
    }

    /// Reads the variables through `lookup` (a name to its value, nil when unset); `pid` is this process's.
    public init(lookup: (String) -> String?, pid: Int32 = getpid()) {
        let socket = lookup("NOTIFY_SOCKET")
        notifySocket = socket?.isEmpty == false ? socket : nil
        // A watchdog meant for another process of the unit (a wrapper that exec'd us keeps its own pid) is not ours.
        let forUs = lookup("WATCHDOG_PID").map { Int32($0) == pid } ?? true
        if forUs, let text = lookup("WATCHDOG_USEC"), let usec = UInt64(text), usec > 0 {
            watchdogTimeout = .microseconds(Int64(clamping: usec))
        }
    }

    /// This process's environment.
    public static var current: SystemdEnvironment {
        SystemdEnvironment(lookup: { name in getenv(name).map { String(cString: $0) } })
    }

    /// How often to ping: half the timeout, as sd_watchdog_enabled(3) advises, so one late ping is not fatal.
    public var watchdogInterval: Duration? { watchdogTimeout.map { $0 / 2 } }
}
