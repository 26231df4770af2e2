import XCTest
import Foundation
import LBSpec
import LBSpecYAML
import LBAgentConfig
import LBTestKit

/// docs/agent.md shows real files and real output; these tests keep it that way.
final class AgentConfigDocsTests: XCTestCase {
    /// The refused file in "How errors are shown".
    static let refusedYAML = """
    node: rs1
    cluster: web
    gossip:
      listen: 0.0.0.0:7946
      seeds: [192.168.1.100:7946, 192.168.1.101, 192.168.1.103:7946]
      profle: fast
    trust:
      keys: operators.pub
    status:
      listen: 0.0.0.0:9110
    log_level: warn
    drift:
      sysctl_interval: 10ms

    """

    /// What the loader says about it, read as /etc/lb/agent.yaml.
    static let refusedOutput = """
    /etc/lb/agent.yaml:4:11: error: gossip listen address 0.0.0.0:7946 is a wildcard, which peers cannot reach; add advertise: with this host's address and port, or listen on that address
    /etc/lb/agent.yaml:5:31: error: '192.168.1.101' has no port; write ADDRESS:PORT, e.g. 192.168.1.101:7946
    /etc/lb/agent.yaml:6:3: error: unknown key 'profle'; did you mean 'profile'? (allowed here: listen, advertise, seeds, profile)
    /etc/lb/agent.yaml:8:9: error: trusted keys path 'operators.pub' is not absolute; write the full path, e.g. /etc/lb/operators.pub
    /etc/lb/agent.yaml:10:11: warning: status listen address 0.0.0.0:9110 is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:9110 unless a firewall guards it
    /etc/lb/agent.yaml:11:12: error: unknown log level 'warn'; did you mean 'warning'? expected one of trace, debug, info, notice, warning, error, critical
    /etc/lb/agent.yaml:13:20: error: drift.sysctl_interval 10ms is out of range 50ms–1m

    """

    func docs() throws -> String {
        try String(contentsOf: repositoryRoot.appendingPathComponent("docs/agent.md"), encoding: .utf8)
    }

    func testExampleIsTheWriterOutputForRS1() throws {
        XCTAssertTrue(try docs().contains("```yaml\n" + rs1YAML + "```\n"), "docs/agent.md must show rs1YAML, exactly as AgentConfigWriter writes it")
        XCTAssertEqual(AgentConfigWriter.yaml(rs1Config), rs1YAML)
    }

    /// The lb-agent package's placeholder /etc/lb/agent.yaml: the writer's example commented out, so it shows the
    /// format and can never start a daemon by itself.
    func testPackagedPlaceholderIsTheExampleCommentedOutAndIsRefused() throws {
        let file = repositoryRoot.appendingPathComponent("Agent/agent.yaml").path
        let text = try String(contentsOfFile: file, encoding: .utf8)
        let example = rs1YAML.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            .map { $0.isEmpty ? "#\n" : "# \($0)\n" }.joined()
        XCTAssertTrue(text.hasSuffix("#\n" + example), "Agent/agent.yaml must end with the example, each line commented out")
        let loaded = AgentConfigLoader.load(file: file)
        XCTAssertNil(loaded.config)
        XCTAssertEqual(loaded.diagnostics.map(\.description), ["\(file):1:1: error: the agent configuration is empty; it needs at least node, cluster and gossip.listen (docs/agent.md shows an example)"])
    }

    func testRefusedExampleIsRealOutput() throws {
        let loaded = AgentConfigLoader.load(yaml: Self.refusedYAML, file: "/etc/lb/agent.yaml")
        XCTAssertNil(loaded.config)
        let output = loaded.diagnostics.map(\.description).joined(separator: "\n") + "\n"
        XCTAssertEqual(output, Self.refusedOutput)
        let text = try docs()
        XCTAssertTrue(text.contains("```yaml\n" + Self.refusedYAML + "```\n"), "docs/agent.md must show the refused file")
        XCTAssertTrue(text.contains("```\n" + Self.refusedOutput + "```\n"), "docs/agent.md must show the loader's output for it")
    }

    /// Every key the loader reads has a row in the table, and the table has no others.
    func testKeyTableListsEveryKey() throws {
        let keys = try XCTUnwrap(MarkdownTable.codeKeys(in: try docs(), section: "Keys"))
        XCTAssertEqual(keys, ["node", "cluster", "gossip.listen", "gossip.advertise", "gossip.seeds", "gossip.profile", "keyring",
                              "trust.keys", "trust.threshold", "state_dir", "status.listen", "log_level",
                              "drift.sysctl_interval", "drift.ipvs_interval", "drift.retry_max"])
    }
}
