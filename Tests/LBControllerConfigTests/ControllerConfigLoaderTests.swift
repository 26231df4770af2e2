import XCTest
import Foundation
import LBSpec
import LBSpecYAML
import LBControllerConfig
import LBTestKit

final class ControllerConfigLoaderTests: XCTestCase {
    // MARK: valid files

    func testCtl1ExampleLoads() throws {
        XCTAssertEqual(try loadValid(ctl1YAML), ctl1Config)
    }

    func testDefaults() throws {
        let config = try loadValid(minimalYAML)
        XCTAssertEqual(config, ControllerConfig(name: hostDefaultName, cluster: "web", gossip: .init(listen: endpoint("192.168.1.10:7946"))))
        XCTAssertEqual(config.keyring, "/etc/lb/cluster.keyring")
        XCTAssertEqual(config.trust, .init(keys: "/etc/lb/operators.pub", threshold: 1))
        XCTAssertEqual(config.stateDirectory, "/var/lib/lb-controller")
        XCTAssertEqual(config.api.listen, endpoint("127.0.0.1:9120"))
        XCTAssertNil(config.api.tls)
        XCTAssertFalse(config.api.insecureWithoutTLS)
        XCTAssertEqual(config.api.clockWindow, .seconds(30))
        XCTAssertEqual(config.status.listen, endpoint("127.0.0.1:9121"))
        XCTAssertNil(config.notifications.webhook)
        XCTAssertNil(config.notifications.script)
        XCTAssertEqual(config.logLevel, .info)
        XCTAssertEqual(ControllerConfig.defaultPath, "/etc/lb/controller.yaml")
        let webhook = try loadValid(minimalYAML + "notifications: { webhook: { url: https://h/x, secret_file: /etc/lb/webhook.secret } }\n")
        XCTAssertEqual(webhook.notifications.webhook?.retries, 5)
    }

    func testDefaultName() throws {
        XCTAssertEqual(ControllerConfig.defaultName(hostName: "lb1.example.com"), "controller-lb1")
        XCTAssertEqual(ControllerConfig.defaultName(hostName: "ctl"), "controller-ctl")
        XCTAssertEqual(ControllerConfig.defaultName(hostName: ""), "controller-localhost")
        XCTAssertEqual(ControllerConfig.defaultName(hostName: String(repeating: "h", count: 63)).count, 63)
        XCTAssertTrue(ControllerConfig.defaultName().hasPrefix("controller-"))
        XCTAssertEqual(ControllerConfigValidator.validate(ControllerConfig(cluster: "web", gossip: .init(listen: endpoint("10.0.0.1:7946")))), [],
                       "this host's default name is a valid name")
    }

    // MARK: the file as a whole

    func testEmptyFile() {
        assertDiagnostics("# nothing\n", ["controller.yaml:1:1: error: the controller configuration is empty; it needs at least cluster and gossip.listen (docs/controller.md shows an example)"])
    }

    func testMissingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/controller.yaml"
        XCTAssertEqual(ControllerConfigLoader.load(file: path).diagnostics.map(\.description),
                       ["\(path):1:1: error: cannot read: no such file (docs/controller.md shows an example)"])
    }

    func testMissingRequiredKeys() {
        assertDiagnostics("name: ctl1\n", [
            "controller.yaml:1:1: error: missing key 'cluster': the cluster's name as the spec's cluster key gives it, e.g. cluster: web",
            "controller.yaml:1:1: error: missing key 'gossip': at least the gossip listener, e.g. gossip: { listen: 192.168.1.10:7946 }",
        ])
    }

    func testUnknownKeys() {
        assertDiagnostics(minimalYAML + "stat_dir: /x\napi: { insecure_without_ttls: true }\n", [
            "controller.yaml:4:1: error: unknown key 'stat_dir'; did you mean 'state_dir'? (allowed here: name, cluster, gossip, keyring, trust, state_dir, api, status, notifications, log_level)",
            "controller.yaml:5:8: error: unknown key 'insecure_without_ttls'; did you mean 'insecure_without_tls'? (allowed here: listen, tls, insecure_without_tls, clock_window)",
        ])
    }

    func testWrongTypes() {
        assertDiagnostics(minimalYAML + "api: { insecure_without_tls: maybe, clock_window: soon, tls: [a] }\nnotifications: { webhook: { url: https://h, secret_file: /s, retries: five } }\n", [
            "controller.yaml:4:30: error: 'maybe' is not true or false",
            "controller.yaml:4:51: error: 'soon' is not a duration; write seconds (5, 0.5) or with a unit (100ms, 5s, 2m, 1h)",
            "controller.yaml:4:62: error: expected a mapping with keys certificate, key, found a list",
            "controller.yaml:5:71: error: 'five' is not a whole number",
        ])
    }

    func testRanges() {
        assertDiagnostics(ctl1(("clock_window: 30s", "clock_window: 500ms"), ("retries: 5", "retries: 21")), [
            "controller.yaml:43:17: error: api.clock_window 500ms is out of range 1s–10m",
            "controller.yaml:56:14: error: notifications.webhook.retries 21 is out of range 0–20",
        ])
        assertDiagnostics(ctl1(("clock_window: 30s", "clock_window: 11m"), ("retries: 5", "retries: -1")), [
            "controller.yaml:43:17: error: api.clock_window 11m is out of range 1s–10m",
            "controller.yaml:56:14: error: notifications.webhook.retries -1 is out of range 0–20",
        ])
        XCTAssertNotNil(loadController(ctl1(("clock_window: 30s", "clock_window: 10m"), ("retries: 5", "retries: 0"))).config)
    }

    func testNameIsValidatedLikeANode() {
        assertDiagnostics(ctl1(("name: ctl1", "name: \"ctl 1\"")), [
            "controller.yaml:4:7: error: controller name 'ctl 1' must be 1–63 characters of letters, digits, '-', '_' and '.'",
        ])
    }

    func testSharedSectionsAreTheAgents() {
        assertDiagnostics(ctl1(("listen: 192.168.1.10:7946", "listen: 0.0.0.0:7946"), ("threshold: 1", "threshold: 0"),
                               ("keyring: /etc/lb/cluster.keyring", "keyring: cluster.keyring"), ("log_level: info", "log_level: warn")), [
            "controller.yaml:10:11: error: gossip listen address 0.0.0.0:7946 is a wildcard, which peers cannot reach; add advertise: with this host's address and port, or listen on that address",
            "controller.yaml:22:10: error: keyring path 'cluster.keyring' is not absolute; write the full path, e.g. /etc/lb/cluster.keyring",
            "controller.yaml:28:14: error: trust threshold 0 must be at least 1: the number of trusted keys that must sign a document",
            "controller.yaml:61:12: error: unknown log level 'warn'; did you mean 'warning'? expected one of trace, debug, info, notice, warning, error, critical",
        ])
        let loaded = assertDiagnostics(ctl1(("    - 192.168.1.100:7946\n", "    - 192.168.1.10:7946\n")), [
            "controller.yaml:14:7: warning: seed 192.168.1.10:7946 is this node's own gossip address; dropped (list the other nodes)",
        ])
        XCTAssertEqual(loaded.config?.gossip.seeds.count, 3)
    }

    func testStatusOffLoopbackIsAWarning() {
        assertDiagnostics(ctl1(("listen: 127.0.0.1:9121", "listen: 192.168.1.10:9121")), [
            "controller.yaml:47:11: warning: status listen address 192.168.1.10:9121 is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:9121 unless a firewall guards it",
        ])
    }

    // MARK: the API's TLS rule

    let noTLS = ("  tls:\n    # The PEM certificate chain and its private key (secret).\n    certificate: /etc/lb/controller.crt\n    key: /etc/lb/controller.key\n", "")

    func testNonLoopbackAPIWithoutTLSIsAnError() {
        assertDiagnostics(ctl1(noTLS), [
            "controller.yaml:35:11: error: API listen address 192.168.1.10:9120 is not loopback and the API has no TLS; set api.tls.certificate and api.tls.key, listen on 127.0.0.1:9120, or write insecure_without_tls: true if something else encrypts the path",
        ])
        assertDiagnostics(ctl1(noTLS, ("listen: 192.168.1.10:9120", "listen: \"[::]:9120\"")), [
            "controller.yaml:35:11: error: API listen address [::]:9120 is not loopback and the API has no TLS; set api.tls.certificate and api.tls.key, listen on 127.0.0.1:9120, or write insecure_without_tls: true if something else encrypts the path",
        ])
    }

    func testInsecureWithoutTLSIsAWarning() {
        assertDiagnostics(ctl1(noTLS, ("insecure_without_tls: false", "insecure_without_tls: true")), [
            "controller.yaml:37:25: warning: the API is reachable without TLS: 192.168.1.10:9120 is not loopback, so operators' requests and the answers cross the network in clear; set api.tls unless something else encrypts the path",
        ])
    }

    func testLoopbackNeedsNoTLS() throws {
        _ = try loadValid(ctl1(noTLS, ("listen: 192.168.1.10:9120", "listen: \"[::1]:9120\"")))
        _ = try loadValid(ctl1(noTLS, ("listen: 192.168.1.10:9120", "listen: 127.0.0.1:9120"), ("insecure_without_tls: false", "insecure_without_tls: true")))
    }

    func testInsecureWithTLSHasNoEffect() {
        assertDiagnostics(ctl1(("insecure_without_tls: false", "insecure_without_tls: true")), [
            "controller.yaml:41:25: warning: insecure_without_tls: true has no effect: the API has TLS; remove it",
        ])
    }

    func testTLSNeedsBothFiles() {
        // One message: the missing file, not also the TLS rule it would otherwise break.
        assertDiagnostics(ctl1(("    key: /etc/lb/controller.key\n", "")), [
            "controller.yaml:38:5: error: missing key 'key': the PEM private key's absolute path, e.g. key: /etc/lb/controller.key (certificate and key go together)",
        ])
        assertDiagnostics(ctl1(("    certificate: /etc/lb/controller.crt\n", "")), [
            "controller.yaml:38:5: error: missing key 'certificate': the PEM certificate chain's absolute path, e.g. certificate: /etc/lb/controller.crt (certificate and key go together)",
        ])
        assertDiagnostics(ctl1(("key: /etc/lb/controller.key", "key: controller.key")), [
            "controller.yaml:39:10: error: TLS key path 'controller.key' is not absolute; write the full path, e.g. /etc/lb/controller.key",
        ])
    }

    func testFilesAreCheckedOnlyWhenAsked() throws {
        XCTAssertNotNil(loadController(ctl1YAML).config, "validate does not look at the disk")
        assertDiagnostics(ctl1YAML, [
            "controller.yaml:38:18: error: TLS certificate /etc/lb/controller.crt cannot be read: no such file",
            "controller.yaml:39:10: error: TLS key /etc/lb/controller.key cannot be read: no such file",
            "controller.yaml:54:18: error: webhook secret file /etc/lb/webhook.secret cannot be read: no such file",
            "controller.yaml:58:11: error: notify script /etc/lb/notify.sh cannot be run: no such file",
        ], checkingFiles: true)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lbctl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
        for name in ["c.pem", "k.pem", "secret", "notify.sh"] { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        let script = dir.appendingPathComponent("notify.sh").path
        let present = ctl1(("/etc/lb/controller.crt", dir.appendingPathComponent("c.pem").path), ("/etc/lb/controller.key", dir.appendingPathComponent("k.pem").path),
                           ("/etc/lb/webhook.secret", dir.path), ("/etc/lb/notify.sh", script))
        assertDiagnostics(present, [
            "controller.yaml:54:18: error: webhook secret file \(dir.path) cannot be read: it is a directory",
            "controller.yaml:58:11: error: notify script \(script) cannot be run: it is not executable; run chmod +x \(script)",
        ], checkingFiles: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: script)
        assertDiagnostics(ctl1(("/etc/lb/controller.crt", dir.appendingPathComponent("c.pem").path), ("/etc/lb/controller.key", dir.appendingPathComponent("k.pem").path),
                               ("/etc/lb/webhook.secret", dir.appendingPathComponent("secret").path), ("/etc/lb/notify.sh", script)), [], checkingFiles: true)
        assertDiagnostics(ctl1(("/etc/lb/controller.crt", dir.appendingPathComponent("c.pem").path), ("/etc/lb/controller.key", dir.appendingPathComponent("k.pem").path),
                               ("/etc/lb/webhook.secret", dir.appendingPathComponent("secret").path), ("/etc/lb/notify.sh", dir.path)),
                          ["controller.yaml:58:11: error: notify script \(dir.path) cannot be run: it is a directory"], checkingFiles: true)
    }

    func testUnreadableTLSKey() throws {
        try XCTSkipIf(getuid() == 0, "root reads a mode-000 file anyway")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lbctl-\(UUID().uuidString).key")
        try Data("x".utf8).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        var config = ctl1Config
        config.api.tls = .init(certificate: url.path, key: url.path)
        config.notifications = .init()
        XCTAssertEqual(ControllerConfigValidator.fileProblems(config).map(\.description), [
            "api.tls.certificate: error: TLS certificate \(url.path) cannot be read: permission denied",
            "api.tls.key: error: TLS key \(url.path) cannot be read: permission denied",
        ])
    }

    // MARK: webhook

    func testWebhook() {
        assertDiagnostics(ctl1(("url: \"https://hooks.example.com/lb\"", "url: ftp://hooks.example.com/lb")), [
            "controller.yaml:52:10: error: webhook url 'ftp://hooks.example.com/lb' is not an http or https URL; write an http or https URL, e.g. https://hooks.example.com/lb",
        ])
        assertDiagnostics(ctl1(("url: \"https://hooks.example.com/lb\"", "url: \"https:///lb\"")), [
            "controller.yaml:52:10: error: webhook url 'https:///lb' has no host; write an http or https URL, e.g. https://hooks.example.com/lb",
        ])
        assertDiagnostics(ctl1(("    secret_file: /etc/lb/webhook.secret\n", "")), [
            "controller.yaml:52:5: error: missing key 'secret_file': the absolute path of the HMAC key that signs each delivery, e.g. secret_file: /etc/lb/webhook.secret",
        ])
        assertDiagnostics(ctl1(("secret_file: /etc/lb/webhook.secret", "secret_file: webhook.secret")), [
            "controller.yaml:54:18: error: webhook secret file 'webhook.secret' is not absolute; write the full path, e.g. /etc/lb/webhook.secret",
        ])
        let loaded = assertDiagnostics(ctl1(("    url: \"https://hooks.example.com/lb\"\n", "")), [
            "controller.yaml:53:5: warning: notifications.webhook has no url, so no webhook is sent; add url: with an http or https URL, e.g. url: https://hooks.example.com/lb",
        ])
        XCTAssertNil(loaded.config?.notifications.webhook)
    }

    // MARK: script

    func testScript() throws {
        assertDiagnostics(ctl1(("script: /etc/lb/notify.sh", "script: notify.sh")), [
            "controller.yaml:58:11: error: notify script 'notify.sh' is not absolute; write the full path, e.g. /etc/lb/notify.sh",
        ])
        assertDiagnostics(ctl1(("script: /etc/lb/notify.sh", "script: [a]")), [
            "controller.yaml:58:11: error: expected a string, found a list",
        ])
        // A script alone, without a webhook.
        let alone = try loadValid(minimalYAML + "notifications: { script: /usr/local/bin/page-me }\n")
        XCTAssertEqual(alone.notifications, .init(webhook: nil, script: "/usr/local/bin/page-me"))
    }
}
