import XCTest
import Foundation
import LBSpec
import LBSpecYAML
import LBAgentConfig
import LBTestKit

/// /etc/lb/agent.yaml for the reference scenario's rs1, as `AgentConfigWriter` writes it and docs/agent.md
/// shows it; embedded so the line and column numbers the tests assert do not move when the docs change.
/// `AgentConfigDocsTests` checks that the docs and the writer still give exactly this text.
let rs1YAML = """
# lb-agent configuration; docs/agent.md explains every key and its default.

# This host's name among the spec's nodes.
node: rs1
# Documents signed for any other cluster are refused.
cluster: web

gossip:
  # UDP and TCP on one port. A wildcard (0.0.0.0, "[::]") needs advertise.
  listen: 192.168.1.102:7946
  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)
  # Members to join through; none for the first member.
  seeds:
    - 192.168.1.100:7946
    - 192.168.1.101:7946
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

# What must survive a restart: the newest verified document.
state_dir: /var/lib/lb

status:
  # Status and /metrics over HTTP without authentication: keep it on loopback.
  listen: 127.0.0.1:9110

# trace, debug, info, notice, warning, error or critical.
log_level: info

drift:
  # The longest the agent goes without checking sysctls and addresses (50ms–1m),
  sysctl_interval: 250ms
  # without checking IPVS (100ms–10m),
  ipvs_interval: 1s
  # and between retries of a failing action (1s–10m).
  retry_max: 30s

"""

/// The value `rs1YAML` holds: rs1 at 192.168.1.102, the other three nodes as seeds, every other key at its default.
let rs1Config = AgentConfig(
    node: "rs1", cluster: "web",
    gossip: AgentConfig.Gossip(listen: endpoint("192.168.1.102:7946"),
                               seeds: ["192.168.1.100:7946", "192.168.1.101:7946", "192.168.1.103:7946"].map { endpoint($0) }))

/// The smallest file the loader accepts.
let minimalYAML = """
node: rs1
cluster: web
gossip:
  listen: 192.168.1.102:7946

"""

/// The repository root, found from this file's path (Tests/LBAgentConfigTests/TestSupport.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func endpoint(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> Endpoint {
    guard let e = Endpoint(text) else {
        XCTFail("not ADDRESS:PORT: \(text)", file: file, line: line)
        return Endpoint(address: .v4(0), port: 0)
    }
    return e
}

/// `text` with each `old` (which must occur exactly once) replaced by `new`.
func edited(_ text: String, _ edits: [(String, String)], file: StaticString = #filePath, line: UInt = #line) -> String {
    var out = text
    for (old, new) in edits {
        let count = out.components(separatedBy: old).count - 1
        XCTAssertEqual(count, 1, "edit target must occur exactly once: \(old.debugDescription)", file: file, line: line)
        out = out.replacingOccurrences(of: old, with: new)
    }
    return out
}

/// The rs1 example with edits applied.
func rs1(_ edits: (String, String)..., file: StaticString = #filePath, line: UInt = #line) -> String {
    edited(rs1YAML, edits, file: file, line: line)
}

func loadAgent(_ yaml: String) -> LoadedAgentConfig {
    AgentConfigLoader.load(yaml: yaml, file: "agent.yaml")
}

/// Loads `yaml` as "agent.yaml" and asserts the exact diagnostics (`FILE:LINE:COLUMN: severity: message`, in
/// order) and that a configuration comes back exactly when none of them is an error.
@discardableResult
func assertDiagnostics(_ yaml: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) -> LoadedAgentConfig {
    let loaded = loadAgent(yaml)
    XCTAssertEqual(loaded.diagnostics.map(\.description), expected, file: file, line: line)
    let expectErrors = expected.contains { $0.contains(": error: ") }
    XCTAssertEqual(loaded.config == nil, expectErrors,
                   expectErrors ? "a configuration with errors must not be returned" : "a configuration without errors must be returned",
                   file: file, line: line)
    XCTAssertEqual(loaded.hasErrors, expectErrors, file: file, line: line)
    return loaded
}

/// Loads `yaml`, failing the test on any diagnostic, and returns the configuration.
func loadValid(_ yaml: String, file: StaticString = #filePath, line: UInt = #line) throws -> AgentConfig {
    let loaded = loadAgent(yaml)
    XCTAssertEqual(loaded.diagnostics.map(\.description), [], file: file, line: line)
    return try XCTUnwrap(loaded.config, file: file, line: line)
}
