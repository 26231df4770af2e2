import LBDaemonConfig
import LBSpec

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What lb-controller needs to know at start: its gossip name, the cluster, where it gossips, which keys
/// it trusts, where its history lives, and how operators, the status page and webhooks reach it.
///
/// Build one in code with the defaults below, read one from `/etc/lb/controller.yaml` with
/// `ControllerConfigLoader`, check one with `ControllerConfigValidator`, and write one with
/// `ControllerConfigWriter`. docs/controller.md lists every key.
public struct ControllerConfig: Sendable, Equatable {
    /// Where the daemon reads its configuration unless told otherwise.
    public static let defaultPath = "/etc/lb/controller.yaml"
    /// Default of `keyring`.
    public static let defaultKeyring = DaemonConfig.defaultKeyring
    /// Default of `stateDirectory`.
    public static let defaultStateDirectory = "/var/lib/lb-controller"

    /// `name`, default `controller-` and this host's short name: the controller's gossip member name,
    /// 1–63 letters, digits, `-`, `_`, `.` (as an agent's `node`).
    public var name: String
    /// `cluster`, required: the cluster name; documents signed for any other cluster are refused.
    public var cluster: String
    /// `gossip`, required (for `gossip.listen`), as the agent's.
    public var gossip: Gossip
    /// `keyring`, default `/etc/lb/cluster.keyring`: the cluster keyring that seals gossip.
    public var keyring: String
    /// `trust`: whose signatures a document needs, as the agent's.
    public var trust: Trust
    /// `state_dir`, default `/var/lib/lb-controller`: where the history database lives. An absolute path.
    public var stateDirectory: String
    /// `api`: the HTTP API `lbctl` talks to.
    public var api: API
    /// `status`: the read-only status page and /metrics.
    public var status: Status
    /// `notifications`: who is told when a version is applied or a node changes.
    public var notifications: Notifications
    /// `log_level`, default `info`.
    public var logLevel: LogLevel

    public init(name: String = ControllerConfig.defaultName(), cluster: String, gossip: Gossip,
                keyring: String = ControllerConfig.defaultKeyring, trust: Trust = Trust(),
                stateDirectory: String = ControllerConfig.defaultStateDirectory, api: API = API(), status: Status = Status(),
                notifications: Notifications = Notifications(), logLevel: LogLevel = .info) {
        self.name = name
        self.cluster = cluster
        self.gossip = gossip
        self.keyring = keyring
        self.trust = trust
        self.stateDirectory = stateDirectory
        self.api = api
        self.status = status
        self.notifications = notifications
        self.logLevel = logLevel
    }

    /// `controller-` and `hostName` up to its first dot, cut to the 63 characters a name may have.
    public static func defaultName(hostName: String) -> String {
        let short = hostName.prefix { $0 != "." }
        return String(("controller-" + (short.isEmpty ? "localhost" : short)).prefix(63))
    }

    /// The default name on this host (`gethostname`).
    public static func defaultName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return defaultName(hostName: "") }
        return defaultName(hostName: String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
}

extension ControllerConfig {
    /// `gossip`: exactly the agent's section.
    public typealias Gossip = DaemonConfig.Gossip
    /// `trust`: exactly the agent's section.
    public typealias Trust = DaemonConfig.Trust
    /// `log_level`: exactly the agent's.
    public typealias LogLevel = DaemonConfig.LogLevel

    /// `api`: the HTTP API operators' `lbctl` sends signed requests to.
    public struct API: Sendable, Equatable {
        /// Default of `listen`: loopback only.
        public static let defaultListen = Endpoint(address: .v4(0x7F00_0001), port: 9120)
        public static let clockWindowRange: ClosedRange<Duration> = .seconds(1) ... .seconds(600)

        /// `api.listen`, default `127.0.0.1:9120`. Off loopback it needs `tls`, or `insecureWithoutTLS`.
        public var listen: Endpoint
        /// `api.tls`, default none: serve HTTPS with these files.
        public var tls: TLS?
        /// `api.insecure_without_tls`, default false: the explicit opt-out that lets a non-loopback
        /// `listen` serve plain HTTP (with a warning).
        public var insecureWithoutTLS: Bool
        /// `api.clock_window`, default 30 s, 1 s–10 m: how far a signed request's time may be from the
        /// controller's clock, either way; an older or later request is refused as a possible replay.
        public var clockWindow: Duration

        public init(listen: Endpoint = API.defaultListen, tls: TLS? = nil, insecureWithoutTLS: Bool = false,
                    clockWindow: Duration = .seconds(30)) {
            self.listen = listen
            self.tls = tls
            self.insecureWithoutTLS = insecureWithoutTLS
            self.clockWindow = clockWindow
        }
    }

    /// `api.tls`: both files or neither.
    public struct TLS: Sendable, Equatable {
        /// `api.tls.certificate`: the PEM certificate chain, server certificate first. An absolute path.
        public var certificate: String
        /// `api.tls.key`: the PEM private key of that certificate (secret). An absolute path.
        public var key: String

        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    /// `status`: the read-only status page and Prometheus /metrics over plain HTTP, without authentication.
    public struct Status: Sendable, Equatable {
        /// Default of `listen`: loopback only.
        public static let defaultListen = Endpoint(address: .v4(0x7F00_0001), port: 9121)

        /// `status.listen`, default `127.0.0.1:9121`. Any other address is allowed with a warning.
        public var listen: Endpoint

        public init(listen: Endpoint = Status.defaultListen) {
            self.listen = listen
        }
    }

    /// `notifications`: where the controller reports what happened (docs/controller.md, Notifications).
    public struct Notifications: Sendable, Equatable {
        /// `notifications.webhook`, default none.
        public var webhook: Webhook?
        /// `notifications.script`, default none: a program run for each event with `KIND NODE VERSION` as
        /// its arguments and the event as JSON on its standard input. An absolute path.
        public var script: String?

        public init(webhook: Webhook? = nil, script: String? = nil) {
            self.webhook = webhook
            self.script = script
        }
    }

    /// `notifications.webhook`: a JSON POST per event, signed with HMAC-SHA256 over the body.
    public struct Webhook: Sendable, Equatable {
        public static let defaultRetries = 5
        public static let retriesRange = 0...20

        /// `notifications.webhook.url`: an `http://` or `https://` URL.
        public var url: String
        /// `notifications.webhook.secret_file`, required with `url`: the HMAC key file. An absolute path.
        public var secretFile: String
        /// `notifications.webhook.retries`, default 5, 0–20: further attempts after a failed delivery.
        public var retries: Int

        public init(url: String, secretFile: String, retries: Int = Webhook.defaultRetries) {
            self.url = url
            self.secretFile = secretFile
            self.retries = retries
        }
    }
}
