import Foundation
import LBSpec
import LBSpecYAML
import LBTestKit
import XCTest

/// The YAML writer the import uses: reference style, deterministic, and read back to the same spec.
final class SpecYAMLWriterTests: XCTestCase {
    func testTheReferenceSpecIsWrittenAsTheReferenceFile() throws {
        let text = try String(contentsOf: Fixtures.referenceURL, encoding: .utf8)
        let withoutComments = text.split(separator: "\n", omittingEmptySubsequences: false).drop { $0.hasPrefix("#") }.joined(separator: "\n")
        XCTAssertEqual(SpecYAMLWriter.yaml(try Fixtures.reference()), withoutComments)
    }

    func testHeaderAndOptionalSections() throws {
        var spec = try Fixtures.reference()
        spec.ipvs.sync.enabled = false
        spec.ipvs.timeouts.tcp = 3600
        spec.notifications.webhook = "https://hooks.example.com/lb"
        let yaml = SpecYAMLWriter.yaml(spec, header: ["first", "", "second"])
        XCTAssertTrue(yaml.hasPrefix("# first\n#\n# second\ncluster: web\n"), yaml)
        XCTAssertTrue(yaml.hasSuffix("""

        ipvs:
          timeouts: { tcp: 3600, tcpfin: 120, udp: 300 }
          sync: { enabled: false }

        notifications: { webhook: "https://hooks.example.com/lb" }

        """), yaml)
        XCTAssertEqual(SpecLoader.load(yaml: yaml).spec, spec)
    }

    func testStringsThatNeedQuotesReadBackUnchanged() throws {
        var rng = SplitMix64(seed: 2024)
        let pieces = ["a", "Z", "0", " ", ": ", ":", "#", " #", "{", "}", "[", "]", ",", "\"", "'", "\\", "&", "*", "!", "|", ">", "%",
                      "@", "`", "-", "- ", "?", "\t", "\n", "ü", "负", "✓", "\u{0}", "\u{7F}", "\u{85}", "\u{2028}", "😀", "~", "null", "true", "0x10", "1e3"]
        let base = try Fixtures.reference()
        for _ in 0..<300 {
            let s = (0..<(1 + rng.below(8))).map { _ in rng.pick(pieces) }.joined()
            var spec = base
            spec.notifications.script = "/" + s
            spec.vips[0].services[0].healthCheck = HealthCheck(kind: .http, path: "/" + s, host: s)
            spec.vips[0].services[0].realServers[0].port = nil
            let yaml = SpecYAMLWriter.yaml(spec)
            let back = SpecLoader.load(yaml: yaml)
            XCTAssertEqual(back.spec?.notifications.script, spec.notifications.script, "\(s.unicodeScalars.map { $0.value })\n\(yaml)\n\(back.diagnostics)")
            XCTAssertEqual(back.spec?.vips[0].services[0].healthCheck, spec.vips[0].services[0].healthCheck, "\(s.debugDescription)")
            XCTAssertEqual(SpecYAMLWriter.yaml(spec), yaml, "deterministic")
        }
    }

    func testIPv6AddressesStayPlain() throws {
        let loaded = SpecLoader.load(yaml: RoundTripTests.mixed, file: "mixed.yaml")
        let spec = try XCTUnwrap(loaded.spec)
        let yaml = SpecYAMLWriter.yaml(spec)
        XCTAssertTrue(yaml.contains("  - { name: a,   address: 2001:db8::a/64, interface: eth0 }\n"), yaml)
        XCTAssertEqual(SpecLoader.load(yaml: yaml).spec, spec)
    }
}

extension SpecYAMLWriterTests {
    /// Drain, its deadline (in UTC, plain like an address) and inhibit_on_failure are written only when set
    /// and read back; a short real server stays on one line.
    func testDrainAndInhibitOnFailure() throws {
        var spec = try Fixtures.reference()
        spec.vips[0].services[0].inhibitOnFailure = true
        spec.vips[0].services[0].realServers[0].drain = true
        spec.vips[0].services[0].realServers[0].drainDeadline = 1_796_180_400
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = false
        let yaml = SpecYAMLWriter.yaml(spec)
        XCTAssertTrue(yaml.contains("""
                health_check: { type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }
                inhibit_on_failure: true
                real_servers:
                  - { node: rs1, weight: 1, drain: true, drain_deadline: 2026-12-02T03:00:00Z }
                  - { node: rs2, weight: 1, inhibit_on_failure: false }

        """), yaml)
        XCTAssertEqual(SpecLoader.load(yaml: yaml).spec, spec)

        // In block style too, where a long entry goes.
        spec.vips[0].services[0].realServers[0].inhibitOnFailure = true
        let block = SpecYAMLWriter.yaml(spec)
        XCTAssertTrue(block.contains("""
                  - node: rs1
                    weight: 1
                    drain: true
                    drain_deadline: 2026-12-02T03:00:00Z
                    inhibit_on_failure: true

        """), block)
        XCTAssertEqual(SpecLoader.load(yaml: block).spec, spec)
        XCTAssertFalse(SpecYAMLWriter.yaml(try Fixtures.reference()).contains("drain"))
        XCTAssertFalse(SpecYAMLWriter.yaml(try Fixtures.reference()).contains("inhibit"))
    }
}
