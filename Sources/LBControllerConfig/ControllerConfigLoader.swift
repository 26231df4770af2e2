import LBDaemonConfig
import LBSpec
import LBSpecYAML
import Yams

/// The outcome of reading one controller configuration file.
public struct LoadedControllerConfig: Sendable {
    /// The configuration, present only when it has no errors (warnings allowed). Seeds the loader
    /// warned about (this member's own address, repeats) are already dropped.
    public var config: ControllerConfig?
    /// Every problem found, in file order, as `FILE:LINE:COLUMN: error|warning: message`.
    public var diagnostics: [LocatedDiagnostic]

    public var hasErrors: Bool { diagnostics.contains { $0.diagnostic.severity == .error } }
}

extension YAMLFormat {
    /// A controller configuration: at most 1 MiB and 10,000 values.
    public static let controllerConfig = YAMLFormat(name: "controller configuration", article: "a", maxBytes: 1 << 20, maxNodes: 10_000,
                                                    missingFileHint: "docs/controller.md shows an example")
}

/// Reads a `ControllerConfig` from YAML with every problem at once, each at its FILE:LINE:COLUMN, then
/// runs `ControllerConfigValidator`, the same way `AgentConfigLoader` reads the agent's file (the shared
/// sections are read by the same code). The keys, with their defaults (docs/controller.md has the table):
///
/// ```yaml
/// name: controller-HOST              # default: controller- and this host's short name
/// cluster: web                       # required
/// gossip:                            # as the agent's
///   listen: 192.168.1.10:7946        # required
/// keyring: /etc/lb/cluster.keyring
/// trust: { keys: /etc/lb/operators.pub, threshold: 1 }
/// state_dir: /var/lib/lb-controller
/// api:
///   listen: 127.0.0.1:9120           # not loopback: needs tls, or insecure_without_tls (a warning)
///   tls: { certificate: /etc/lb/controller.crt, key: /etc/lb/controller.key }   # default: none
///   insecure_without_tls: false
///   clock_window: 30s                # 1s–10m
/// status:
///   listen: 127.0.0.1:9121           # not loopback: a warning
/// notifications:
///   webhook: { url: https://hooks.example.com/lb, secret_file: /etc/lb/webhook.secret, retries: 5 }
///   script: /etc/lb/notify.sh        # default: none
/// log_level: info
/// ```
public enum ControllerConfigLoader {
    /// A controller configuration is a page of YAML; anything larger is a mistake.
    public static let maxBytes = YAMLFormat.controllerConfig.maxBytes

    /// `checkingFiles`: also report TLS and webhook secret files that cannot be read, and a notify script
    /// that cannot be run (`ControllerConfigValidator.fileProblems`), at the keys that name them.
    public static func load(file: String, checkingFiles: Bool = false) -> LoadedControllerConfig {
        do {
            return load(yaml: try YAMLFile.read(file: file, format: .controllerConfig), file: file, checkingFiles: checkingFiles)
        } catch {
            return LoadedControllerConfig(config: nil, diagnostics: [error])
        }
    }

    /// `defaultName`: the `name` when the file has none (tests pass one; the host's otherwise).
    public static func load(yaml: String, file: String = "<controller.yaml>", defaultName: String = ControllerConfig.defaultName(),
                            checkingFiles: Bool = false) -> LoadedControllerConfig {
        let (config, diagnostics) = DaemonConfigLoading.load(
            yaml: yaml, file: file, format: .controllerConfig,
            emptyMessage: "the controller configuration is empty; it needs at least cluster and gossip.listen (docs/controller.md shows an example)",
            read: { $0.readControllerConfig($1, defaultName: defaultName) }, validate: ControllerConfigValidator.validate(_:broken:),
            extra: { checkingFiles ? ControllerConfigValidator.fileProblems($0) : [] },
            finish: { $0.gossip.seeds = $0.gossip.usefulSeeds })
        return LoadedControllerConfig(config: config, diagnostics: diagnostics)
    }
}

/// The controller configuration's schema; the shared sections are `LBDaemonConfig`'s.
extension YAMLReader {
    static let controllerKeys = ["name", "cluster", "gossip", "keyring", "trust", "state_dir", "api", "status", "notifications", "log_level"]

    mutating func readControllerConfig(_ root: YAMLNode, defaultName: String) -> ControllerConfig? {
        guard var m = mapping(root, at: .root, keys: Self.controllerKeys) else { return nil }
        let name = optional(&m, "name") { $0.string($1, $2) } ?? defaultName
        let cluster = required(&m, "cluster", "the cluster's name as the spec's cluster key gives it, e.g. cluster: web") { $0.string($1, $2) } ?? ""
        let gossip = required(&m, "gossip", "at least the gossip listener, e.g. gossip: { listen: 192.168.1.10:7946 }") { $0.readGossip($1, $2) }
        var c = ControllerConfig(name: name, cluster: cluster, gossip: gossip ?? .init(listen: Self.placeholderEndpoint))
        c.keyring = optional(&m, "keyring") { $0.string($1, $2) } ?? c.keyring
        c.trust = optional(&m, "trust") { $0.readTrust($1, $2) } ?? c.trust
        c.stateDirectory = optional(&m, "state_dir") { $0.string($1, $2) } ?? c.stateDirectory
        c.api = optional(&m, "api") { $0.readAPI($1, $2) } ?? c.api
        c.status = optional(&m, "status") { r, n, p in
            guard var s = r.mapping(n, at: p, keys: ["listen"]) else { return nil }
            defer { r.finish(s) }
            return ControllerConfig.Status(listen: r.optional(&s, "listen") { $0.endpoint($1, $2, example: "127.0.0.1:9121") } ?? ControllerConfig.Status.defaultListen)
        } ?? c.status
        c.notifications = optional(&m, "notifications") { r, n, p in
            guard var s = r.mapping(n, at: p, keys: ["webhook", "script"]) else { return nil }
            defer { r.finish(s) }
            return ControllerConfig.Notifications(webhook: r.optional(&s, "webhook") { $0.readWebhook($1, $2) },
                                                  script: r.optional(&s, "script") { $0.string($1, $2) })
        } ?? c.notifications
        c.logLevel = optional(&m, "log_level") { $0.logLevel($1, $2) } ?? c.logLevel
        finish(m)
        return c
    }

    mutating func readAPI(_ node: YAMLNode, _ path: SpecPath) -> ControllerConfig.API? {
        guard var m = mapping(node, at: path, keys: ["listen", "tls", "insecure_without_tls", "clock_window"]) else { return nil }
        var a = ControllerConfig.API()
        a.listen = optional(&m, "listen") { $0.endpoint($1, $2, example: "127.0.0.1:9120") } ?? a.listen
        a.tls = optional(&m, "tls") { $0.readTLS($1, $2) }
        a.insecureWithoutTLS = optional(&m, "insecure_without_tls") { $0.bool($1, $2) } ?? a.insecureWithoutTLS
        a.clockWindow = optional(&m, "clock_window") { $0.configDuration($1, $2) } ?? a.clockWindow
        finish(m)
        return a
    }

    /// Both files or neither: one alone is an error at `tls`, and then no TLS is read.
    mutating func readTLS(_ node: YAMLNode, _ path: SpecPath) -> ControllerConfig.TLS? {
        guard var m = mapping(node, at: path, keys: ["certificate", "key"]) else { return nil }
        defer { finish(m) }
        guard m.has("certificate") || m.has("key") else { return nil }
        let certificate = required(&m, "certificate", "the PEM certificate chain's absolute path, e.g. certificate: /etc/lb/controller.crt (certificate and key go together)") { $0.string($1, $2) }
        let key = required(&m, "key", "the PEM private key's absolute path, e.g. key: /etc/lb/controller.key (certificate and key go together)") { $0.string($1, $2) }
        guard let certificate, let key else { return nil }
        return ControllerConfig.TLS(certificate: certificate, key: key)
    }

    /// No `url`, no webhook; then `secret_file` or `retries` alone are a warning, not a silent no-op.
    mutating func readWebhook(_ node: YAMLNode, _ path: SpecPath) -> ControllerConfig.Webhook? {
        guard var m = mapping(node, at: path, keys: ["url", "secret_file", "retries"]) else { return nil }
        defer { finish(m) }
        guard m.has("url") else {
            if m.has("secret_file") || m.has("retries") {
                warning(path, "notifications.webhook has no url, so no webhook is sent; add url: with an http or https URL, e.g. url: https://hooks.example.com/lb")
            }
            _ = optional(&m, "secret_file") { $0.string($1, $2) }
            _ = optional(&m, "retries") { $0.int($1, $2) }
            return nil
        }
        let url = optional(&m, "url") { $0.string($1, $2) }
        let secret = required(&m, "secret_file", "the absolute path of the HMAC key that signs each delivery, e.g. secret_file: /etc/lb/webhook.secret") { $0.string($1, $2) }
        let retries = optional(&m, "retries") { $0.int($1, $2) } ?? ControllerConfig.Webhook.defaultRetries
        return ControllerConfig.Webhook(url: url ?? "", secretFile: secret ?? "", retries: retries)
    }
}
