import XCTest
import Foundation
import LBSpec
import LBSpecYAML
import LBControllerConfig

/// /etc/lb/controller.yaml for ctl1 at 192.168.1.10 in the reference scenario, as `ControllerConfigWriter`
/// writes it and docs/controller.md shows it; embedded so the positions the tests assert stay put.
let ctl1YAML = """
# lb-controller configuration; docs/controller.md explains every key and its default.

# The controller's gossip member name.
name: ctl1
# Documents signed for any other cluster are refused.
cluster: web

gossip:
  # UDP and TCP on one port. A wildcard (0.0.0.0, "[::]") needs advertise.
  listen: 192.168.1.10:7946
  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)
  # Members to join through; none for the first member.
  seeds:
    - 192.168.1.100:7946
    - 192.168.1.101:7946
    - 192.168.1.102:7946
    - 192.168.1.103:7946
  # lan (memberlist's LAN timing) or fast (one rack or a lab).
  profile: lan

# The cluster keyring that seals gossip (secret, mode 0600).
keyring: /etc/lb/cluster.keyring

trust:
  # Trusted operator public keys, one lb-public-key line each.
  keys: /etc/lb/operators.pub
  # How many of them must have signed a document.
  threshold: 1

# Where the history database lives.
state_dir: /var/lib/lb-controller

api:
  # The HTTP API lbctl talks to. Off loopback it needs tls, or insecure_without_tls.
  listen: 192.168.1.10:9120
  tls:
    # The PEM certificate chain and its private key (secret).
    certificate: /etc/lb/controller.crt
    key: /etc/lb/controller.key
  # Plain HTTP off loopback, asked for by name (a warning).
  insecure_without_tls: false
  # How far a signed request's time may be from this clock (1s–10m).
  clock_window: 30s

status:
  # Status and /metrics over HTTP without authentication: keep it on loopback.
  listen: 127.0.0.1:9121

notifications:
  webhook:
    # Each event is POSTed here as JSON,
    url: "https://hooks.example.com/lb"
    # signed with HMAC-SHA256 under this key (secret),
    secret_file: /etc/lb/webhook.secret
    # and tried again this many times when it fails (0–20).
    retries: 5
  # Run for each event: KIND NODE VERSION, the event as JSON on its standard input.
  script: /etc/lb/notify.sh

# trace, debug, info, notice, warning, error or critical.
log_level: info

"""

/// The value `ctl1YAML` holds.
let ctl1Config = ControllerConfig(
    name: "ctl1", cluster: "web",
    gossip: .init(listen: endpoint("192.168.1.10:7946"),
                  seeds: ["192.168.1.100:7946", "192.168.1.101:7946", "192.168.1.102:7946", "192.168.1.103:7946"].map { endpoint($0) }),
    api: .init(listen: endpoint("192.168.1.10:9120"), tls: .init(certificate: "/etc/lb/controller.crt", key: "/etc/lb/controller.key")),
    notifications: .init(webhook: .init(url: "https://hooks.example.com/lb", secretFile: "/etc/lb/webhook.secret"), script: "/etc/lb/notify.sh"))

/// The smallest file the loader accepts.
let minimalYAML = """
cluster: web
gossip:
  listen: 192.168.1.10:7946

"""

/// The name the tests' loads default to, instead of this machine's.
let hostDefaultName = "controller-ctl1"

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func endpoint(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Endpoint {
    guard let e = Endpoint(text) else {
        XCTFail("not ADDRESS:PORT: \(text)", file: file, line: line)
        return Endpoint(address: .v4(0), port: 0)
    }
    return e
}

/// The ctl1 example with each `old` (which must occur exactly once) replaced by `new`.
func ctl1(_ edits: (String, String)..., file: StaticString = #filePath, line: UInt = #line) -> String {
    edits.reduce(ctl1YAML) { text, edit in
        XCTAssertEqual(text.components(separatedBy: edit.0).count, 2, "edit target must occur exactly once: \(edit.0.debugDescription)", file: file, line: line)
        return text.replacingOccurrences(of: edit.0, with: edit.1)
    }
}

func loadController(_ yaml: String, checkingFiles: Bool = false) -> LoadedControllerConfig {
    ControllerConfigLoader.load(yaml: yaml, file: "controller.yaml", defaultName: hostDefaultName, checkingFiles: checkingFiles)
}

/// Loads `yaml` as "controller.yaml" and asserts the exact diagnostics, in order, and that a
/// configuration comes back exactly when none of them is an error.
@discardableResult
func assertDiagnostics(_ yaml: String, _ expected: [String], checkingFiles: Bool = false,
                       file: StaticString = #filePath, line: UInt = #line) -> LoadedControllerConfig {
    let loaded = loadController(yaml, checkingFiles: checkingFiles)
    XCTAssertEqual(loaded.diagnostics.map(\.description), expected, file: file, line: line)
    let expectErrors = expected.contains { $0.contains(": error: ") }
    XCTAssertEqual(loaded.config == nil, expectErrors, file: file, line: line)
    XCTAssertEqual(loaded.hasErrors, expectErrors, file: file, line: line)
    return loaded
}

func loadValid(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> ControllerConfig {
    let loaded = loadController(yaml)
    XCTAssertEqual(loaded.diagnostics.map(\.description), [], file: file, line: line)
    return try XCTUnwrap(loaded.config, file: file, line: line)
}
