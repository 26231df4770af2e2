import Foundation
import LBAgentConfig
import LBSpec
import LBSpecYAML
import LBTestKit
import XCTest

final class AgentConfigWriterTests: XCTestCase {
    func testWritesTheRS1Example() {
        XCTAssertEqual(AgentConfigWriter.yaml(rs1Config), rs1YAML)
    }

    func testDeterministic() {
        XCTAssertEqual(AgentConfigWriter.yaml(rs1Config), AgentConfigWriter.yaml(rs1Config))
        var copy = rs1Config
        copy.gossip.seeds = rs1Config.gossip.seeds
        XCTAssertEqual(AgentConfigWriter.yaml(copy), AgentConfigWriter.yaml(rs1Config))
    }

    func testRoundTrip() throws {
        let configs = [
            rs1Config,
            AgentConfig(node: "n", cluster: "c", gossip: .init(listen: endpoint("10.0.0.1:1"))),
            AgentConfig(node: "lvs1", cluster: "web",
                        gossip: .init(listen: endpoint("[::]:7000"), advertise: endpoint("[2001:db8::100]:7000"),
                                      seeds: [endpoint("[2001:db8::101]:7000"), endpoint("192.168.1.102:7946")], profile: .fast),
                        keyring: "/srv/lb keys/#cluster: keyring", trust: .init(keys: "/srv/\"trusted\".pub", threshold: 7),
                        stateDirectory: "/srv/état\\lb\t", status: .init(listen: endpoint("[::1]:65535")), logLevel: .critical,
                        drift: .init(sysctlInterval: .milliseconds(50), ipvsInterval: .seconds(600), retryMax: .milliseconds(1001))),
            // Names that YAML 1.1 would read as numbers, booleans or null; the reader takes text as written.
            AgentConfig(node: "123", cluster: "null", gossip: .init(listen: endpoint("0.0.0.0:7946"), advertise: endpoint("10.0.0.1:7946"))),
            AgentConfig(node: "true", cluster: "-web.", gossip: .init(listen: endpoint("10.0.0.1:7946")), logLevel: .trace),
            AgentConfig(node: "1e3", cluster: "0x10", gossip: .init(listen: endpoint("10.0.0.1:7946")), logLevel: .notice),
        ]
        for config in configs {
            XCTAssertEqual(AgentConfigValidator.validate(config).filter { $0.severity == .error }, [], "\(config)")
            let yaml = AgentConfigWriter.yaml(config)
            let loaded = AgentConfigLoader.load(yaml: yaml, file: "written.yaml")
            XCTAssertEqual(loaded.diagnostics.filter { $0.diagnostic.severity == .error }.map(\.description), [], yaml)
            XCTAssertEqual(loaded.config, config, yaml)
        }
    }

    /// Random valid configurations, written and read back.
    func testRandomRoundTrips() {
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<500 {
            let config = randomConfig(&rng)
            let yaml = AgentConfigWriter.yaml(config)
            let loaded = AgentConfigLoader.load(yaml: yaml, file: "written.yaml")
            XCTAssertFalse(loaded.hasErrors, "\(loaded.diagnostics.map(\.description))\n\(yaml)")
            XCTAssertEqual(loaded.config, config, yaml)
        }
    }

    func testQuotesWhatYAMLWouldMisread() {
        let config = AgentConfig(node: "n", cluster: "c",
                                 gossip: .init(listen: endpoint("[2001:db8::1]:7946"), seeds: [endpoint("[2001:db8::2]:7946")]),
                                 keyring: "/etc/lb/my keyring # old")
        let yaml = AgentConfigWriter.yaml(config)
        XCTAssertTrue(yaml.contains("  listen: \"[2001:db8::1]:7946\"\n"), yaml)
        XCTAssertTrue(yaml.contains("    - \"[2001:db8::2]:7946\"\n"), yaml)
        XCTAssertTrue(yaml.contains("keyring: \"/etc/lb/my keyring # old\"\n"), yaml)
        XCTAssertTrue(yaml.contains("  seeds:\n    - "), yaml)
        XCTAssertTrue(AgentConfigWriter.yaml(AgentConfig(node: "n", cluster: "c", gossip: .init(listen: endpoint("10.0.0.1:1")))).contains("  seeds: []\n"))
    }

    /// The writer writes what it is given; the loader then refuses what the validator refuses.
    func testInvalidValuesAreRefusedOnReading() {
        var config = rs1Config
        config.drift.sysctlInterval = .microseconds(1500)
        config.trust.threshold = 0
        XCTAssertEqual(AgentConfigValidator.validate(config).map(\.description), [
            "trust.threshold: error: trust threshold 0 must be at least 1: the number of trusted keys that must sign a document",
            "drift.sysctl_interval: error: drift.sysctl_interval 0.0015 seconds is not a whole number of milliseconds",
        ])
        let yaml = AgentConfigWriter.yaml(config)
        XCTAssertTrue(yaml.contains("  sysctl_interval: 1.5ms\n"), yaml)
        XCTAssertEqual(AgentConfigLoader.load(yaml: yaml, file: "written.yaml").diagnostics.map(\.description), [
            "written.yaml:27:14: error: trust threshold 0 must be at least 1: the number of trusted keys that must sign a document",
            "written.yaml:41:20: error: '1.5ms' is not a duration; write seconds (5, 0.5) or with a unit (100ms, 5s, 2m, 1h)",
        ])
    }

    func testValidatorOnABuiltConfig() {
        XCTAssertEqual(AgentConfigValidator.validate(rs1Config), [])
        var config = rs1Config
        config.gossip.listen = endpoint("0.0.0.0:7946")
        config.gossip.seeds.append(endpoint("192.168.1.100:7946"))
        XCTAssertEqual(AgentConfigValidator.validate(config).map(\.description), [
            "gossip.listen: error: gossip listen address 0.0.0.0:7946 is a wildcard, which peers cannot reach; add advertise: with this host's address and port, or listen on that address",
            "gossip.seeds[3]: warning: seed 192.168.1.100:7946 is listed twice (first at gossip.seeds[0]); dropped",
        ])
        XCTAssertEqual(AgentConfigValidator.usefulSeeds(config.gossip), rs1Config.gossip.seeds)
    }

    // MARK: random configurations

    func randomConfig(_ rng: inout SplitMix64) -> AgentConfig {
        func pick<T>(_ options: [T]) -> T { options[Int(rng.next() % UInt64(options.count))] }
        func name() -> String {
            let chars = Array("abcXYZ019-_.")
            return String((0..<(1 + Int(rng.next() % 12))).map { _ in pick(chars) })
        }
        func address(v6: Bool) -> IPAddress {
            v6 ? .v6(0x2001_0db8_0000_0000 | rng.next() % 0xFFFF, 1 + rng.next() % 0xFFFF) : .v4(0x0A00_0000 | UInt32(1 + rng.next() % 0xFF_FFFE))
        }
        func endpoint(v6: Bool) -> Endpoint { Endpoint(address: address(v6: v6), port: 1 + Int(rng.next() % 65_535)) }
        func path() -> String {
            let chars = Array("abc /#:'\"\\é-_.\t")
            return "/" + String((0..<Int(rng.next() % 20)).map { _ in pick(chars) })
        }
        func duration(_ range: ClosedRange<Duration>) -> Duration {
            let low = Int64(range.lowerBound / .milliseconds(1)), high = Int64(range.upperBound / .milliseconds(1))
            return .milliseconds(low + Int64(rng.next() % UInt64(high - low + 1)))
        }
        let v6 = rng.next() % 2 == 0
        let listen = endpoint(v6: v6)
        var gossip = AgentConfig.Gossip(listen: listen, advertise: rng.next() % 3 == 0 ? endpoint(v6: v6) : nil,
                                        profile: pick(AgentConfig.Gossip.Profile.allCases))
        gossip.seeds = (0..<Int(rng.next() % 6)).map { _ in endpoint(v6: rng.next() % 2 == 0) }
        gossip.seeds = AgentConfigValidator.usefulSeeds(gossip)
        return AgentConfig(
            node: name(), cluster: name(), gossip: gossip, keyring: path(),
            trust: .init(keys: path(), threshold: 1 + Int(rng.next() % 5)), stateDirectory: path(),
            status: .init(listen: Endpoint(address: .v4(0x7F00_0001), port: 1 + Int(rng.next() % 65_535))),
            logLevel: pick(AgentConfig.LogLevel.allCases),
            drift: .init(sysctlInterval: duration(AgentConfig.Drift.sysctlIntervalRange),
                         ipvsInterval: duration(AgentConfig.Drift.ipvsIntervalRange),
                         retryMax: duration(AgentConfig.Drift.retryMaxRange)))
    }
}

