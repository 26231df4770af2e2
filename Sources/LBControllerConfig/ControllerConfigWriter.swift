import LBDaemonConfig
import LBSpec

/// Writes a `ControllerConfig` as commented YAML, in the agent file's style (the shared sections are
/// written by the same code). Deterministic; every key is written, defaults too, each under a comment;
/// `advertise`, `api.tls` and each of `notifications` appear only when set, as a comment otherwise.
/// `ControllerConfigLoader` reads the text back to an equal configuration whenever
/// `ControllerConfigValidator` finds no error in it and its seeds are already `usefulSeeds`.
public enum ControllerConfigWriter {
    public static func yaml(_ config: ControllerConfig) -> String {
        var out = DaemonConfigText()
        let string = DaemonConfigText.string
        out.comment("lb-controller configuration; docs/controller.md explains every key and its default.")
        out.blank()
        out.comment("The controller's gossip member name.")
        out.line("name", string(config.name))
        out.comment("Documents signed for any other cluster are refused.")
        out.line("cluster", string(config.cluster))
        out.blank()
        out.gossip(config.gossip)
        out.keys(keyring: config.keyring, trust: config.trust)
        out.blank()
        out.comment("Where the history database lives.")
        out.line("state_dir", string(config.stateDirectory))
        out.blank()
        let api = config.api
        out.line("api", "")
        out.comment("The HTTP API lbctl talks to. Off loopback it needs tls, or insecure_without_tls.", indent: 2)
        out.line("listen", DaemonConfigText.endpoint(api.listen), indent: 2)
        if let tls = api.tls {
            out.line("tls", "", indent: 2)
            out.comment("The PEM certificate chain and its private key (secret).", indent: 4)
            out.line("certificate", string(tls.certificate), indent: 4)
            out.line("key", string(tls.key), indent: 4)
        } else {
            out.comment("tls: { certificate: /etc/lb/controller.crt, key: /etc/lb/controller.key }  (HTTPS; default: none)", indent: 2)
        }
        out.comment("Plain HTTP off loopback, asked for by name (a warning).", indent: 2)
        out.line("insecure_without_tls", api.insecureWithoutTLS ? "true" : "false", indent: 2)
        out.comment("How far a signed request's time may be from this clock (\(ControllerConfig.API.clockWindowRange.configText)).", indent: 2)
        out.line("clock_window", api.clockWindow.configText, indent: 2)
        out.blank()
        out.status(config.status.listen)
        out.blank()
        let notifications = config.notifications
        let webhookExample = "webhook: { url: https://hooks.example.com/lb, secret_file: /etc/lb/webhook.secret }"
        if notifications.webhook == nil && notifications.script == nil {
            out.comment("notifications: { \(webhookExample), script: /etc/lb/notify.sh }  (default: none)")
        } else {
            out.line("notifications", "")
            if let webhook = notifications.webhook {
                out.line("webhook", "", indent: 2)
                out.comment("Each event is POSTed here as JSON,", indent: 4)
                out.line("url", string(webhook.url), indent: 4)
                out.comment("signed with HMAC-SHA256 under this key (secret),", indent: 4)
                out.line("secret_file", string(webhook.secretFile), indent: 4)
                out.comment("and tried again this many times when it fails (\(ControllerConfig.Webhook.retriesRange.lowerBound)–\(ControllerConfig.Webhook.retriesRange.upperBound)).", indent: 4)
                out.line("retries", "\(webhook.retries)", indent: 4)
            } else {
                out.comment("\(webhookExample)  (default: none)", indent: 2)
            }
            if let script = notifications.script {
                out.comment("Run for each event: KIND NODE VERSION, the event as JSON on its standard input.", indent: 2)
                out.line("script", string(script), indent: 2)
            } else {
                out.comment("script: /etc/lb/notify.sh  (run for each event; default: none)", indent: 2)
            }
        }
        out.blank()
        out.logLevel(config.logLevel)
        return out.text
    }
}
