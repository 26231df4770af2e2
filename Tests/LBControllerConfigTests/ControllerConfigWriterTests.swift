import LBControllerConfig
import LBSpec
import LBTestKit
import XCTest

final class ControllerConfigWriterTests: XCTestCase {
    func testWritesTheCtl1Example() {
        XCTAssertEqual(ControllerConfigWriter.yaml(ctl1Config), ctl1YAML)
    }

    /// Each part of `notifications` that is not set is written as a comment showing it.
    func testNotificationsWhenPartlySet() {
        func notifications(_ n: ControllerConfig.Notifications) -> String {
            let yaml = ControllerConfigWriter.yaml(ControllerConfig(name: "c", cluster: "c", gossip: .init(listen: endpoint("10.0.0.1:1")), notifications: n))
            let lines = yaml.components(separatedBy: "\n")
            let start = lines.firstIndex { $0.hasPrefix("notifications") || $0.hasPrefix("# notifications") }!
            let end = lines[start...].firstIndex { $0.isEmpty }!
            return lines[start..<end].joined(separator: "\n")
        }
        XCTAssertEqual(notifications(.init()), """
            # notifications: { webhook: { url: https://hooks.example.com/lb, secret_file: /etc/lb/webhook.secret }, script: /etc/lb/notify.sh }  (default: none)
            """)
        XCTAssertEqual(notifications(.init(script: "/usr/local/bin/page-me")), """
            notifications:
              # webhook: { url: https://hooks.example.com/lb, secret_file: /etc/lb/webhook.secret }  (default: none)
              # Run for each event: KIND NODE VERSION, the event as JSON on its standard input.
              script: /usr/local/bin/page-me
            """)
        XCTAssertEqual(notifications(.init(webhook: .init(url: "https://h/x", secretFile: "/s"))).components(separatedBy: "\n").last,
                       "  # script: /etc/lb/notify.sh  (run for each event; default: none)")
    }

    func testRoundTrip() throws {
        let configs = [
            ctl1Config,
            ControllerConfig(name: "c", cluster: "c", gossip: .init(listen: endpoint("10.0.0.1:1"))),
            ControllerConfig(name: "c", cluster: "c", gossip: .init(listen: endpoint("10.0.0.1:1")), notifications: .init(script: "/bin/true")),
            ControllerConfig(name: "null", cluster: "123", gossip: .init(listen: endpoint("[::]:7000"), advertise: endpoint("[2001:db8::1]:7000"), profile: .fast),
                             keyring: "/srv/#k: x", trust: .init(keys: "/srv/\"t\".pub", threshold: 3), stateDirectory: "/srv/état\t",
                             api: .init(listen: endpoint("[2001:db8::1]:443"), insecureWithoutTLS: true, clockWindow: .milliseconds(1001)),
                             status: .init(listen: endpoint("[::1]:1")),
                             notifications: .init(webhook: .init(url: "http://10.0.0.9:8080/hook?a=1#x", secretFile: "/s p", retries: 0), script: "/x: y #z"),
                             logLevel: .critical),
        ]
        for config in configs {
            XCTAssertEqual(ControllerConfigValidator.validate(config).filter { $0.severity == .error }, [], "\(config)")
            let yaml = ControllerConfigWriter.yaml(config)
            let loaded = ControllerConfigLoader.load(yaml: yaml, file: "written.yaml", defaultName: "unused")
            XCTAssertFalse(loaded.hasErrors, "\(loaded.diagnostics.map(\.description))\n\(yaml)")
            XCTAssertEqual(loaded.config, config, yaml)
        }
    }

    /// Random valid configurations, written and read back.
    func testRandomRoundTrips() {
        var rng = SplitMix64(seed: 0xC7_1)
        for _ in 0..<500 {
            let config = randomConfig(&rng)
            let yaml = ControllerConfigWriter.yaml(config)
            let loaded = ControllerConfigLoader.load(yaml: yaml, file: "written.yaml", defaultName: "unused")
            XCTAssertFalse(loaded.hasErrors, "\(loaded.diagnostics.map(\.description))\n\(yaml)")
            XCTAssertEqual(loaded.config, config, yaml)
        }
    }

    func randomConfig(_ rng: inout SplitMix64) -> ControllerConfig {
        func name() -> String { String((0..<(1 + rng.below(12))).map { _ in rng.pick(Array("abcXYZ019-_.")) }) }
        func path() -> String { "/" + String((0..<rng.below(20)).map { _ in rng.pick(Array("abc /#:'\"\\é-_.\t")) }) }
        func endpoint(loopback: Bool = false) -> Endpoint {
            Endpoint(address: loopback ? .v4(0x7F00_0001) : .v4(0x0A00_0000 | UInt32(1 + rng.below(0xFF_FFFE))), port: 1 + rng.below(65_535))
        }
        var gossip = ControllerConfig.Gossip(listen: endpoint(), profile: rng.pick(ControllerConfig.Gossip.Profile.allCases))
        gossip.seeds = (0..<rng.below(5)).map { _ in endpoint() }
        gossip.seeds = gossip.usefulSeeds
        let tls = rng.below(2) == 0 ? ControllerConfig.TLS(certificate: path(), key: path()) : nil
        let window = Int64(1000 + rng.below(599_001))
        let api = ControllerConfig.API(listen: endpoint(loopback: tls == nil && rng.below(2) == 0), tls: tls,
                                       insecureWithoutTLS: tls == nil, clockWindow: .milliseconds(window))
        let webhook = rng.below(2) == 0 ? nil : ControllerConfig.Webhook(url: rng.pick(["https://h/x", "http://[2001:db8::1]:80/", "HTTPS://e.com"]),
                                                                           secretFile: path(), retries: rng.below(21))
        return ControllerConfig(name: name(), cluster: name(), gossip: gossip, keyring: path(),
                                trust: .init(keys: path(), threshold: 1 + rng.below(5)), stateDirectory: path(), api: api,
                                status: .init(listen: endpoint(loopback: true)), notifications: .init(webhook: webhook, script: rng.below(2) == 0 ? nil : path()),
                                logLevel: rng.pick(ControllerConfig.LogLevel.allCases))
    }
}
