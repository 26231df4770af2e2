import XCTest
import Foundation
import LBSpec
import LBSpecYAML
import LBAgentConfig
import LBTestKit

final class AgentConfigLoaderTests: XCTestCase {
    let allowedTop = "(allowed here: node, cluster, gossip, keyring, trust, state_dir, status, log_level, drift)"
    let notEndpoint = "is not ADDRESS:PORT; write an IP address (not a host name) and a port, e.g. 192.168.1.102:7946 or \"[2001:db8::1]:7946\""

    // MARK: valid files

    func testRS1ExampleLoads() throws {
        let config = try loadValid(rs1YAML)
        XCTAssertEqual(config, rs1Config)
        XCTAssertEqual(config.node, "rs1")
        XCTAssertEqual(config.cluster, "web")
        XCTAssertEqual(config.gossip.listen, endpoint("192.168.1.102:7946"))
        XCTAssertNil(config.gossip.advertise)
        XCTAssertEqual(config.gossip.advertised, endpoint("192.168.1.102:7946"))
        XCTAssertEqual(config.gossip.seeds.map(\.description), ["192.168.1.100:7946", "192.168.1.101:7946", "192.168.1.103:7946"])
        // docs/agent.md: the four keys that differ from the defaults alone give the same configuration.
        XCTAssertEqual(try loadValid(minimalYAML + "  seeds: [192.168.1.100:7946, 192.168.1.101:7946, 192.168.1.103:7946]\n"), rs1Config)
    }

    func testDefaults() throws {
        let config = try loadValid(minimalYAML)
        XCTAssertEqual(config.gossip.advertise, nil)
        XCTAssertEqual(config.gossip.seeds, [])
        XCTAssertEqual(config.gossip.profile, .lan)
        XCTAssertEqual(config.keyring, "/etc/lb/cluster.keyring")
        XCTAssertEqual(config.trust.keys, "/etc/lb/operators.pub")
        XCTAssertEqual(config.trust.threshold, 1)
        XCTAssertEqual(config.stateDirectory, "/var/lib/lb")
        XCTAssertEqual(config.status.listen, endpoint("127.0.0.1:9110"))
        XCTAssertEqual(config.logLevel, .info)
        XCTAssertEqual(config.drift.sysctlInterval, .milliseconds(250))
        XCTAssertEqual(config.drift.ipvsInterval, .seconds(1))
        XCTAssertEqual(config.drift.retryMax, .seconds(30))
        // The initialiser's defaults are the loader's.
        XCTAssertEqual(config, AgentConfig(node: "rs1", cluster: "web", gossip: .init(listen: endpoint("192.168.1.102:7946"))))
        XCTAssertEqual(AgentConfig.defaultPath, "/etc/lb/agent.yaml")
    }

    func testEveryKeySet() throws {
        let yaml = """
        node: lvs1
        cluster: web
        gossip:
          listen: "[::]:7000"
          advertise: "[2001:db8::100]:7000"
          seeds: ["[2001:db8::101]:7000", 192.168.1.102:7946]
          profile: fast
        keyring: /srv/lb/keys/cluster.keyring
        trust: { keys: /srv/lb/keys/trusted.pub, threshold: 2 }
        state_dir: /srv/lb/state
        status: { listen: "[::1]:9999" }
        log_level: debug
        drift: { sysctl_interval: 0.05, ipvs_interval: 10m, retry_max: 1s }

        """
        let config = try loadValid(yaml)
        XCTAssertEqual(config, AgentConfig(
            node: "lvs1", cluster: "web",
            gossip: .init(listen: endpoint("[::]:7000"), advertise: endpoint("[2001:db8::100]:7000"),
                          seeds: [endpoint("[2001:db8::101]:7000"), endpoint("192.168.1.102:7946")], profile: .fast),
            keyring: "/srv/lb/keys/cluster.keyring",
            trust: .init(keys: "/srv/lb/keys/trusted.pub", threshold: 2),
            stateDirectory: "/srv/lb/state",
            status: .init(listen: endpoint("[::1]:9999")),
            logLevel: .debug,
            drift: .init(sysctlInterval: .milliseconds(50), ipvsInterval: .seconds(600), retryMax: .seconds(1))))
        XCTAssertEqual(config.gossip.advertised, endpoint("[2001:db8::100]:7000"))
    }

    // MARK: the file as a whole

    func testEmptyFile() {
        for yaml in ["", "\n\n", "# nothing here\n", "   \n# still nothing\n"] {
            assertDiagnostics(yaml, ["agent.yaml:1:1: error: the agent configuration is empty; it needs at least node, cluster and gossip.listen (docs/agent.md shows an example)"])
        }
    }

    func testRootMustBeAMapping() {
        let keys = "node, cluster, gossip, keyring, trust, state_dir, status, log_level, drift"
        assertDiagnostics("- node: rs1\n", ["agent.yaml:1:1: error: expected a mapping with keys \(keys), found a list"])
        assertDiagnostics("rs1\n", ["agent.yaml:1:1: error: expected a mapping with keys \(keys), found 'rs1'"])
    }

    func testYAMLSyntaxErrorsHavePositions() {
        assertDiagnostics("node: rs1\n\tcluster: web\n",
                          ["agent.yaml:2:1: error: YAML syntax: found a tab character that violates indentation (while scanning a plain scalar at line 1, column 7)"])
        assertDiagnostics("node: 'rs1\n",
                          ["agent.yaml:2:1: error: YAML syntax: found unexpected end of stream (while scanning a quoted scalar at line 1, column 7)"])
    }

    func testUnquotedBracketedIPv6IsExplained() {
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: [::]:7946")),
                          [#"agent.yaml:10:12: error: YAML syntax: did not find expected node content (while parsing a flow node at line 10, column 12); an IPv6 ADDRESS:PORT must be quoted: "[::]:7946""#])
        // Without the port, YAML reads a list of one address.
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: [2001:db8::102]")),
                          [#"agent.yaml:10:11: error: expected ADDRESS:PORT, found a list: [2001:db8::102] without quotes is a YAML list; write "[2001:db8::102]:7946""#])
    }

    func testDuplicateKeys() {
        assertDiagnostics("node: rs1\nnode: rs2\ncluster: web\ngossip: { listen: 192.168.1.102:7946 }\n",
                          ["agent.yaml:1:1: error: duplicate key 'node' in one mapping"])
    }

    func testAliasAsAKeyIsRefused() {
        assertDiagnostics("a: &k [x]\n*k : 1\n",
                          ["agent.yaml:2:1: error: YAML alias as a key '*k' is not allowed in an agent configuration: mapping keys are plain words"])
    }

    func testAliasesAsValuesAreRead() throws {
        let yaml = "node: rs1\ncluster: web\ngossip:\n  listen: &me 192.168.1.102:7946\n  advertise: *me\n"
        XCTAssertEqual(try loadValid(yaml).gossip.advertise, endpoint("192.168.1.102:7946"))
    }

    /// A value budget caps what a file can make the reader walk (here a list of 10,001 seeds).
    func testValueBudget() {
        let yaml = minimalYAML + "  seeds:\n" + (0...10_000).map { "    - 10.0.\($0 / 256).\($0 % 256):7946\n" }.joined()
        XCTAssertLessThan(yaml.utf8.count, AgentConfigLoader.maxBytes)
        assertDiagnostics(yaml, ["agent.yaml:1:1: error: the agent configuration expands to more than 10000 values (aliases?); refusing to read further"])
    }

    /// Nested aliases that would expand a thousandfold per level are not walked.
    func testAliasBombFailsFast() throws {
        var yaml = minimalYAML + "  seeds:\n    - &a [x, x, x, x, x, x, x, x, x, x]\n"
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            yaml += "    - &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let bomb = yaml
        let loaded = try XCTUnwrap(finishes(within: 10) { AgentConfigLoader.load(yaml: bomb, file: "agent.yaml") }, "an alias bomb must not hang")
        XCTAssertEqual(loaded.diagnostics.map(\.description),
                       (6...14).map { "agent.yaml:\($0):7: error: expected ADDRESS:PORT, found a list" })
        XCTAssertNil(loaded.config)
    }

    // MARK: keys

    func testMissingRequiredKeys() {
        // Each is shown at the mapping that lacks it.
        assertDiagnostics(rs1(("node: rs1\n", "")),
                          ["agent.yaml:5:1: error: missing key 'node': this host's name among the spec's nodes, e.g. node: rs1"])
        assertDiagnostics(rs1(("cluster: web\n", "")),
                          ["agent.yaml:4:1: error: missing key 'cluster': the cluster's name as the spec's cluster key gives it, e.g. cluster: web"])
        assertDiagnostics("node: rs1\ncluster: web\n",
                          ["agent.yaml:1:1: error: missing key 'gossip': at least the gossip listener, e.g. gossip: { listen: 192.168.1.102:7946 }"])
        assertDiagnostics(rs1(("  listen: 192.168.1.102:7946\n", "")),
                          ["agent.yaml:12:3: error: missing key 'listen': the ADDRESS:PORT gossip listens on (UDP and TCP), e.g. listen: 192.168.1.102:7946"])
    }

    func testUnknownKeys() {
        assertDiagnostics(rs1(("state_dir:", "statedir:")),
                          ["agent.yaml:30:1: error: unknown key 'statedir'; did you mean 'state_dir'? \(allowedTop)"])
        assertDiagnostics(rs1(("  seeds:", "  sedes:")),
                          ["agent.yaml:13:3: error: unknown key 'sedes'; did you mean 'seeds'? (allowed here: listen, advertise, seeds, profile)"])
        assertDiagnostics(rs1(("sysctl_interval:", "sysctl_intervall:")),
                          ["agent.yaml:41:3: error: unknown key 'sysctl_intervall'; did you mean 'sysctl_interval'? (allowed here: sysctl_interval, ipvs_interval, retry_max)"])
        assertDiagnostics(rs1(("  threshold: 1", "  treshold: 1")),
                          ["agent.yaml:27:3: error: unknown key 'treshold'; did you mean 'threshold'? (allowed here: keys, threshold)"])
        // No hint when nothing is close, and never a key that is already there.
        assertDiagnostics(rs1YAML + "colour: red\n", ["agent.yaml:46:1: error: unknown key 'colour' \(allowedTop)"])
        assertDiagnostics(rs1YAML + "nodes: rs2\n", ["agent.yaml:46:1: error: unknown key 'nodes' \(allowedTop)"])
    }

    func testWrongTypes() {
        assertDiagnostics(rs1(("node: rs1", "node: [rs1]")), ["agent.yaml:4:7: error: expected a string, found a list"])
        assertDiagnostics(rs1(("state_dir: /var/lib/lb", "state_dir: { path: /var/lib/lb }")), ["agent.yaml:30:12: error: expected a string, found a mapping"])
        assertDiagnostics(rs1(("  threshold: 1", "  threshold: two")), ["agent.yaml:27:14: error: 'two' is not a whole number"])
        assertDiagnostics(rs1(("  threshold: 1", "  threshold: 1.5")), ["agent.yaml:27:14: error: '1.5' is not a whole number"])
        assertDiagnostics("node: rs1\ncluster: web\ngossip: 192.168.1.102:7946\n",
                          ["agent.yaml:3:9: error: expected a mapping with keys listen, advertise, seeds, profile, found '192.168.1.102:7946'"])
        assertDiagnostics(minimalYAML + "trust: /etc/lb/operators.pub\n",
                          ["agent.yaml:5:8: error: expected a mapping with keys keys, threshold, found '/etc/lb/operators.pub'"])
        assertDiagnostics(minimalYAML + "status: 127.0.0.1:9110\n",
                          ["agent.yaml:5:9: error: expected a mapping with keys listen, found '127.0.0.1:9110'"])
        assertDiagnostics(minimalYAML + "drift: 5s\n",
                          ["agent.yaml:5:8: error: expected a mapping with keys sysctl_interval, ipvs_interval, retry_max, found '5s'"])
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: { address: 192.168.1.102, port: 7946 }")),
                          ["agent.yaml:10:11: error: expected ADDRESS:PORT, found a mapping"])
    }

    // MARK: names

    func testNames() {
        assertDiagnostics(rs1(("node: rs1", "node: rs 1")),
                          ["agent.yaml:4:7: error: node name 'rs 1' must be 1–63 characters of letters, digits, '-', '_' and '.'"])
        assertDiagnostics(rs1(("cluster: web", "cluster: \"\"")), ["agent.yaml:6:10: error: cluster name is empty"])
        assertDiagnostics(rs1(("cluster: web", "cluster: " + String(repeating: "w", count: 64))),
                          ["agent.yaml:6:10: error: cluster name '\(String(repeating: "w", count: 64))' must be 1–63 characters of letters, digits, '-', '_' and '.'"])
    }

    // MARK: addresses

    func testBadAddresses() {
        func listen(_ written: String) -> String { rs1(("listen: 192.168.1.102:7946", "listen: \(written)")) }
        assertDiagnostics(listen("192.168.1.102"),
                          ["agent.yaml:10:11: error: '192.168.1.102' has no port; write ADDRESS:PORT, e.g. 192.168.1.102:7946"])
        assertDiagnostics(listen("\"[2001:db8::102]\""),
                          [#"agent.yaml:10:11: error: '[2001:db8::102]' has no port; write ADDRESS:PORT with the IPv6 address in brackets, e.g. "[2001:db8::102]:7946""#])
        // Unbracketed, an IPv6 address swallows the port.
        assertDiagnostics(listen("2001:db8::102:7946"),
                          [#"agent.yaml:10:11: error: '2001:db8::102:7946' has no port; write ADDRESS:PORT with the IPv6 address in brackets, e.g. "[2001:db8::102:7946]:7946""#])
        for bad in ["rs1.example.com:7946", "192.168.1.300:7946", "192.168.1.102:gossip", "\"192.168.1.102:\"", ":7946", "\"\""] {
            let shown = bad.replacingOccurrences(of: "\"", with: "")
            assertDiagnostics(listen(bad), ["agent.yaml:10:11: error: '\(shown)' \(notEndpoint)"])
        }
        // Each endpoint's example uses its own port.
        assertDiagnostics(rs1(("listen: 127.0.0.1:9110", "listen: 127.0.0.1")),
                          ["agent.yaml:34:11: error: '127.0.0.1' has no port; write ADDRESS:PORT, e.g. 127.0.0.1:9110"])
    }

    func testPortRange() {
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: 192.168.1.102:0")),
                          ["agent.yaml:10:11: error: port 0 is out of range 1–65535"])
        assertDiagnostics(rs1(("listen: 127.0.0.1:9110", "listen: 127.0.0.1:65536")),
                          ["agent.yaml:34:11: error: port 65536 is out of range 1–65535"])
        assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - 192.168.1.101:-1")),
                          ["agent.yaml:15:7: error: port -1 is out of range 1–65535"])
        XCTAssertEqual(loadAgent(rs1(("listen: 192.168.1.102:7946", "listen: 192.168.1.102:65535"))).diagnostics, [])
    }

    func testWildcardListenNeedsAdvertise() throws {
        let hint = "is a wildcard, which peers cannot reach; add advertise: with this host's address and port, or listen on that address"
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: 0.0.0.0:7946")),
                          ["agent.yaml:10:11: error: gossip listen address 0.0.0.0:7946 \(hint)"])
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: \"[::]:7946\"")),
                          ["agent.yaml:10:11: error: gossip listen address [::]:7946 \(hint)"])
        let config = try loadValid(rs1(("listen: 192.168.1.102:7946", "listen: 0.0.0.0:7946"),
                                       ("  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", "  advertise: 192.168.1.102:7946")))
        XCTAssertEqual(config.gossip.listen, endpoint("0.0.0.0:7946"))
        XCTAssertEqual(config.gossip.advertised, endpoint("192.168.1.102:7946"))
    }

    func testAdvertiseMustBeReachable() throws {
        func advertise(_ written: String, listen: String = "192.168.1.102:7946") -> String {
            rs1(("listen: 192.168.1.102:7946", "listen: \(listen)"),
                ("  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", "  advertise: \(written)"))
        }
        assertDiagnostics(advertise("0.0.0.0:7946", listen: "0.0.0.0:7946"),
                          ["agent.yaml:11:14: error: advertise address 0.0.0.0:7946 is a wildcard, which peers cannot reach; advertise this host's own address"])
        assertDiagnostics(advertise("\"[2001:db8::102]:7946\""),
                          ["agent.yaml:11:14: error: advertise address [2001:db8::102]:7946 is IPv6 but gossip listens on IPv4 (192.168.1.102:7946), so peers could not reach it; advertise an IPv4 address or listen on IPv6"])
        assertDiagnostics(advertise("192.168.1.102:7946", listen: "\"[2001:db8::102]:7946\""),
                          ["agent.yaml:11:14: error: advertise address 192.168.1.102:7946 is IPv4 but gossip listens on IPv6 ([2001:db8::102]:7946), so peers could not reach it; advertise an IPv6 address or listen on IPv4"])
        // [::] takes IPv4 too (dual-stack), and NAT may change the port.
        XCTAssertEqual(try loadValid(advertise("192.168.1.102:7946", listen: "\"[::]:7946\"")).gossip.advertised, endpoint("192.168.1.102:7946"))
        XCTAssertEqual(try loadValid(advertise("203.0.113.7:17946")).gossip.advertised, endpoint("203.0.113.7:17946"))
    }

    func testMulticastAndBroadcastAreRefused() {
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: 224.0.0.18:7946")),
                          ["agent.yaml:10:11: error: gossip listen address 224.0.0.18 is a multicast address, not a host's; listen on this host's own address"])
        assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - 255.255.255.255:7946")),
                          ["agent.yaml:15:7: error: seed 255.255.255.255 is the broadcast address, not a host's; list the other nodes' gossip addresses"])
        assertDiagnostics(rs1(("listen: 127.0.0.1:9110", "listen: \"[ff02::1]:9110\"")),
                          ["agent.yaml:34:11: error: status listen address ff02::1 is a multicast address, not a host's; use 127.0.0.1:9110"])
    }

    // MARK: seeds

    func testOwnAddressSeedIsDroppedWithAWarning() throws {
        let loaded = assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - 192.168.1.102:7946")),
                                       ["agent.yaml:15:7: warning: seed 192.168.1.102:7946 is this node's own gossip address; dropped (list the other nodes)"])
        XCTAssertEqual(loaded.config?.gossip.seeds.map(\.description), ["192.168.1.100:7946", "192.168.1.103:7946"])
        // Behind NAT the advertised address is this node's too; so is the listen address.
        let nat = rs1(("  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", "  advertise: 203.0.113.7:7946"),
                      ("    - 192.168.1.101:7946", "    - 203.0.113.7:7946"), ("    - 192.168.1.103:7946", "    - 192.168.1.102:7946"))
        let natLoaded = assertDiagnostics(nat, [
            "agent.yaml:15:7: warning: seed 203.0.113.7:7946 is this node's own gossip address; dropped (list the other nodes)",
            "agent.yaml:16:7: warning: seed 192.168.1.102:7946 is this node's own gossip address; dropped (list the other nodes)",
        ])
        XCTAssertEqual(natLoaded.config?.gossip.seeds.map(\.description), ["192.168.1.100:7946"])
        // Another port on the same host is another member.
        XCTAssertEqual(try loadValid(rs1(("    - 192.168.1.101:7946", "    - 192.168.1.102:7947"))).gossip.seeds.count, 3)
    }

    func testRepeatedSeedIsDroppedWithAWarning() {
        let loaded = assertDiagnostics(rs1(("    - 192.168.1.103:7946", "    - 192.168.1.100:7946")),
                                       ["agent.yaml:16:7: warning: seed 192.168.1.100:7946 is listed twice (first at gossip.seeds[0]); dropped"])
        XCTAssertEqual(loaded.config?.gossip.seeds.map(\.description), ["192.168.1.100:7946", "192.168.1.101:7946"])
    }

    func testBadSeeds() {
        assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - 0.0.0.0:7946")),
                          ["agent.yaml:15:7: error: seed 0.0.0.0:7946 is a wildcard, which cannot be contacted; list the other nodes' gossip addresses"])
        assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - 192.168.1.101")),
                          ["agent.yaml:15:7: error: '192.168.1.101' has no port; write ADDRESS:PORT, e.g. 192.168.1.101:7946"])
        assertDiagnostics(minimalYAML + "  seeds: 192.168.1.100:7946\n",
                          ["agent.yaml:5:10: error: expected a list of ADDRESS:PORT, found '192.168.1.100:7946'; write seeds: [192.168.1.100:7946]"])
        assertDiagnostics(minimalYAML + "  seeds:\n",
                          ["agent.yaml:5:9: error: expected a list of ADDRESS:PORT, found nothing; write seeds: [] for none, or e.g. seeds: [192.168.1.100:7946]"])
        assertDiagnostics(minimalYAML + "  seeds: { a: 192.168.1.100:7946 }\n",
                          ["agent.yaml:5:10: error: expected a list, found a mapping"])
    }

    // MARK: choices

    func testProfiles() throws {
        XCTAssertEqual(try loadValid(rs1(("profile: lan", "profile: fast"))).gossip.profile, .fast)
        assertDiagnostics(rs1(("profile: lan", "profile: lna")),
                          ["agent.yaml:18:12: error: unknown gossip profile 'lna'; did you mean 'lan'? expected one of lan, fast"])
        assertDiagnostics(rs1(("profile: lan", "profile: slow")),
                          ["agent.yaml:18:12: error: unknown gossip profile 'slow'; expected one of lan, fast"])
    }

    func testLogLevels() throws {
        for level in AgentConfig.LogLevel.allCases {
            XCTAssertEqual(try loadValid(rs1(("log_level: info", "log_level: \(level.rawValue)"))).logLevel, level)
        }
        XCTAssertEqual(AgentConfig.LogLevel.allCases.map(\.rawValue), ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        let expected = "expected one of trace, debug, info, notice, warning, error, critical"
        assertDiagnostics(rs1(("log_level: info", "log_level: warn")),
                          ["agent.yaml:37:12: error: unknown log level 'warn'; did you mean 'warning'? \(expected)"])
        assertDiagnostics(rs1(("log_level: info", "log_level: crit")),
                          ["agent.yaml:37:12: error: unknown log level 'crit'; did you mean 'critical'? \(expected)"])
        assertDiagnostics(rs1(("log_level: info", "log_level: INFO")),
                          ["agent.yaml:37:12: error: unknown log level 'INFO'; did you mean 'info'? \(expected)"])
        assertDiagnostics(rs1(("log_level: info", "log_level: verbose")),
                          ["agent.yaml:37:12: error: unknown log level 'verbose'; \(expected)"])
        assertDiagnostics(rs1(("log_level: info", "log_level: [info]")),
                          ["agent.yaml:37:12: error: expected one of trace, debug, info, notice, warning, error, critical, found a list"])
    }

    // MARK: trust and paths

    func testTrustThreshold() throws {
        XCTAssertEqual(try loadValid(rs1(("  threshold: 1", "  threshold: 3"))).trust.threshold, 3)
        for bad in ["0", "-1"] {
            assertDiagnostics(rs1(("  threshold: 1", "  threshold: \(bad)")),
                              ["agent.yaml:27:14: error: trust threshold \(bad) must be at least 1: the number of trusted keys that must sign a document"])
        }
    }

    func testPathsMustBeAbsolute() throws {
        let reason = "is not absolute; write the full path, e.g."
        assertDiagnostics(rs1(("keyring: /etc/lb/cluster.keyring", "keyring: cluster.keyring")),
                          ["agent.yaml:21:10: error: keyring path 'cluster.keyring' \(reason) /etc/lb/cluster.keyring"])
        assertDiagnostics(rs1(("keys: /etc/lb/operators.pub", "keys: ./operators.pub")),
                          ["agent.yaml:25:9: error: trusted keys path './operators.pub' \(reason) /etc/lb/operators.pub"])
        assertDiagnostics(rs1(("state_dir: /var/lib/lb", "state_dir: ~/lb")),
                          ["agent.yaml:30:12: error: state directory '~/lb' \(reason) /var/lib/lb"])
        assertDiagnostics(rs1(("state_dir: /var/lib/lb", "state_dir:")),
                          ["agent.yaml:30:11: error: state directory is empty; write the full path, e.g. /var/lib/lb"])
        assertDiagnostics(rs1(("keyring: /etc/lb/cluster.keyring", #"keyring: "/etc/lb/\0""#)),
                          ["agent.yaml:21:10: error: keyring path contains a NUL character; write the full path, e.g. /etc/lb/cluster.keyring"])
        // Any absolute path, spaces and all.
        XCTAssertEqual(try loadValid(rs1(("state_dir: /var/lib/lb", "state_dir: \"/srv/lb state\""))).stateDirectory, "/srv/lb state")
    }

    // MARK: status

    func testStatusOffLoopbackIsAWarning() throws {
        for address in ["0.0.0.0:9110", "192.168.1.102:9110", "\"[::]:9110\""] {
            let shown = address.replacingOccurrences(of: "\"", with: "")
            let loaded = assertDiagnostics(rs1(("listen: 127.0.0.1:9110", "listen: \(address)")), [
                "agent.yaml:34:11: warning: status listen address \(shown) is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:9110 unless a firewall guards it",
            ])
            XCTAssertEqual(loaded.config?.status.listen, endpoint(shown), "a warning does not refuse the file")
        }
        XCTAssertEqual(try loadValid(rs1(("listen: 127.0.0.1:9110", "listen: \"[::1]:9110\""))).status.listen, endpoint("[::1]:9110"))
        XCTAssertEqual(try loadValid(rs1(("listen: 127.0.0.1:9110", "listen: 127.0.0.53:80"))).status.listen, endpoint("127.0.0.53:80"))
    }

    // MARK: drift

    func testDriftRanges() throws {
        func drift(_ key: String, _ written: String) -> String {
            let defaults = ["sysctl_interval": "250ms", "ipvs_interval": "1s", "retry_max": "30s"]
            return rs1(("\(key): \(defaults[key]!)", "\(key): \(written)"))
        }
        let cases: [(String, Int, String, String, String)] = [
            ("sysctl_interval", 41, "50ms–1m", "49ms", "61s"),
            ("ipvs_interval", 43, "100ms–10m", "99ms", "601s"),
            ("retry_max", 45, "1s–10m", "999ms", "11m"),
        ]
        for (key, line, range, low, high) in cases {
            let column = key.count + 5
            for bad in [low, high, "0"] {
                let shown = bad == "0" ? "0s" : bad
                assertDiagnostics(drift(key, bad), ["agent.yaml:\(line):\(column): error: drift.\(key) \(shown) is out of range \(range)"])
            }
            let bounds = range.components(separatedBy: "–")
            for ok in bounds { XCTAssertNoThrow(try loadValid(drift(key, ok)), "\(key): \(ok)") }
        }
        let d = try loadValid(rs1(("sysctl_interval: 250ms", "sysctl_interval: 0.05"), ("ipvs_interval: 1s", "ipvs_interval: 1m"),
                                  ("retry_max: 30s", "retry_max: 2.5")))
        XCTAssertEqual(d.drift, AgentConfig.Drift(sysctlInterval: .milliseconds(50), ipvsInterval: .seconds(60), retryMax: .milliseconds(2500)))
    }

    func testBadDurations() {
        let hint = "is not a duration; write seconds (5, 0.5) or with a unit (100ms, 5s, 2m, 1h)"
        for bad in ["fast", "-1s", "1h30m", "1.5ms", "0.0005", "5 s", "1e3"] {
            assertDiagnostics(rs1(("ipvs_interval: 1s", "ipvs_interval: \(bad)")), ["agent.yaml:43:18: error: '\(bad)' \(hint)"])
        }
    }

    // MARK: many problems at once

    func testEveryProblemAtOnceInFileOrder() {
        let loaded = loadAgent(rs1(("retry_max: 30s", "retry_max: 1h"), ("node: rs1", "node: \"rs/1\""),
                                   ("    - 192.168.1.103:7946", "    - 192.168.1.102:7946"), ("log_level: info", "log_level: loud"),
                                   ("listen: 127.0.0.1:9110", "listen: 0.0.0.0:9110")))
        XCTAssertEqual(loaded.diagnostics.map(\.description), [
            "agent.yaml:4:7: error: node name 'rs/1' must be 1–63 characters of letters, digits, '-', '_' and '.'",
            "agent.yaml:16:7: warning: seed 192.168.1.102:7946 is this node's own gossip address; dropped (list the other nodes)",
            "agent.yaml:34:11: warning: status listen address 0.0.0.0:9110 is not loopback: whoever reaches it reads status and /metrics without authentication; use 127.0.0.1:9110 unless a firewall guards it",
            "agent.yaml:37:12: error: unknown log level 'loud'; expected one of trace, debug, info, notice, warning, error, critical",
            "agent.yaml:45:14: error: drift.retry_max 1h is out of range 1s–10m",
        ])
        XCTAssertNil(loaded.config)
    }

    /// A value that could not be read is not checked again, nor is anything that depends on it.
    func testUnreadableValuesDoNotCascade() {
        // No "wildcard needs advertise" from the placeholder of a missing gossip mapping or listen key.
        assertDiagnostics("node: rs1\ncluster: web\n",
                          ["agent.yaml:1:1: error: missing key 'gossip': at least the gossip listener, e.g. gossip: { listen: 192.168.1.102:7946 }"])
        // An unreadable listen address: no family check of advertise against it, no own-address check of seeds.
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: 192.168.1.102"),
                              ("  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", "  advertise: \"[2001:db8::1]:7946\"")),
                          ["agent.yaml:10:11: error: '192.168.1.102' has no port; write ADDRESS:PORT, e.g. 192.168.1.102:7946"])
        // A wildcard listen with an unreadable advertise: only the advertise error.
        assertDiagnostics(rs1(("listen: 192.168.1.102:7946", "listen: 0.0.0.0:7946"),
                              ("  # advertise: ADDRESS:PORT  (the address peers are told to use; default: listen)", "  advertise: 0.0.0.0")),
                          ["agent.yaml:11:14: error: '0.0.0.0' has no port; write ADDRESS:PORT, e.g. 0.0.0.0:7946"])
        // An unreadable seed keeps its place: the repeat after it is still reported at the right index.
        assertDiagnostics(rs1(("    - 192.168.1.101:7946", "    - [x]"), ("    - 192.168.1.103:7946", "    - 192.168.1.100:7946")), [
            "agent.yaml:15:7: error: expected ADDRESS:PORT, found a list",
            "agent.yaml:16:7: warning: seed 192.168.1.100:7946 is listed twice (first at gossip.seeds[0]); dropped",
        ])
        // A drift mapping that is not one: no range checks of defaults.
        assertDiagnostics(minimalYAML + "drift: [1s]\n",
                          ["agent.yaml:5:8: error: expected a mapping with keys sysctl_interval, ipvs_interval, retry_max, found a list"])
    }

    // MARK: files

    func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lbagent-\(UUID().uuidString).yaml")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testFileDiagnosticsNameTheFile() throws {
        let url = try temporaryFile(Array(rs1(("  threshold: 1", "  threshold: 0")).utf8))
        XCTAssertEqual(AgentConfigLoader.load(file: url.path).diagnostics.map(\.description),
                       ["\(url.path):27:14: error: trust threshold 0 must be at least 1: the number of trusted keys that must sign a document"])
        let good = try temporaryFile(Array(rs1YAML.utf8))
        XCTAssertEqual(AgentConfigLoader.load(file: good.path).config, rs1Config)
        XCTAssertEqual(AgentConfigLoader.load(yaml: "node: [x]\ncluster: web\ngossip: { listen: 10.0.0.1:7946 }\n").diagnostics.map(\.description),
                       ["<agent.yaml>:1:7: error: expected a string, found a list"], "the default file name")
    }

    func testMissingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/agent.yaml"
        assertFileError(AgentConfigLoader.load(file: path), "\(path):1:1: error: cannot read: no such file (docs/agent.md shows an example)")
    }

    func testDirectory() {
        let dir = FileManager.default.temporaryDirectory.path
        assertFileError(AgentConfigLoader.load(file: dir), "\(dir):1:1: error: cannot read: it is a directory; give the path of an agent configuration file")
    }

    func testUnreadableFile() throws {
        try XCTSkipIf(getuid() == 0, "root reads a mode-000 file anyway")
        let url = try temporaryFile(Array(rs1YAML.utf8))
        try FileManager.default.setAttributes([.posixPermissions: 0], ofItemAtPath: url.path)
        assertFileError(AgentConfigLoader.load(file: url.path), "\(url.path):1:1: error: cannot read: permission denied")
    }

    func testNonUTF8File() throws {
        let url = try temporaryFile(Array("node: rs".utf8) + [0xFF, 0xFE, 0x0A])
        assertFileError(AgentConfigLoader.load(file: url.path), "\(url.path):1:1: error: file is not UTF-8 text")
    }

    func testOversizedFile() throws {
        XCTAssertEqual(AgentConfigLoader.maxBytes, 1_048_576)
        let url = try temporaryFile(Array(repeating: UInt8(ascii: "#"), count: AgentConfigLoader.maxBytes + 1))
        assertFileError(AgentConfigLoader.load(file: url.path), "\(url.path):1:1: error: file is 1048577 bytes; an agent configuration is at most 1048576")
        let loaded = try XCTUnwrap(finishes(within: 20) { AgentConfigLoader.load(file: "/dev/zero") }, "reading /dev/zero must stop")
        assertFileError(loaded, "/dev/zero:1:1: error: file is more than 1048576 bytes; an agent configuration is at most 1048576")
        assertDiagnostics(minimalYAML + String(repeating: "#", count: AgentConfigLoader.maxBytes),
                          ["agent.yaml:1:1: error: agent configuration is 1048636 bytes; at most 1048576"])
    }

    func assertFileError(_ loaded: LoadedAgentConfig, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(loaded.diagnostics.map(\.description), [expected], file: file, line: line)
        XCTAssertNil(loaded.config, file: file, line: line)
    }
}
