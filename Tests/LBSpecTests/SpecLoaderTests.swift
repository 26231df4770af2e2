import XCTest
import Foundation
@testable import LBSpec
import LBSpecYAML
import LBTestKit

final class SpecLoaderTests: XCTestCase {

    // MARK: the reference example

    func testReferenceExampleFileLoads() throws {
        let path = repositoryRoot.appendingPathComponent("examples/reference.yaml").path
        let loaded = SpecLoader.load(file: path)
        XCTAssertEqual(loaded.diagnostics.map(\.description), [])
        let spec = try XCTUnwrap(loaded.spec)

        XCTAssertEqual(spec.cluster, "web")
        XCTAssertEqual(spec.nodes.map(\.name), ["lvs1", "lvs2", "rs1", "rs2"])
        XCTAssertEqual(spec.nodes.map(\.address.description),
                       ["192.168.1.100/24", "192.168.1.101/24", "192.168.1.102/24", "192.168.1.103/24"])
        XCTAssertEqual(spec.nodes.map(\.interface), ["eth0", "eth0", "eth0", "eth0"])

        XCTAssertEqual(spec.vips.count, 1)
        let vip = try XCTUnwrap(spec.vips.first)
        XCTAssertEqual(vip.name, "web")
        XCTAssertEqual(vip.address, cidr("192.168.1.200/24"))

        let vrrp = vip.vrrp
        XCTAssertEqual(vrrp.routerID, 51)
        XCTAssertEqual(vrrp.version, 2)
        XCTAssertEqual(vrrp.advertIntervalCentiseconds, 100)
        XCTAssertEqual(vrrp.authPassword, "s3cret")
        XCTAssertTrue(vrrp.preempt)
        XCTAssertEqual(vrrp.preemptDelaySeconds, 0)
        XCTAssertFalse(vrrp.unicast)
        XCTAssertEqual(vrrp.gratuitousARP, GratuitousARP(count: 5, repeatDelaySeconds: 5, refreshSeconds: 0))
        XCTAssertEqual(vrrp.directors, [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)])

        XCTAssertEqual(vip.services.count, 1)
        let service = try XCTUnwrap(vip.services.first)
        XCTAssertEqual(service.port, 80)
        XCTAssertEqual(service.protocol, .tcp)
        XCTAssertEqual(service.scheduler, .wrr)
        XCTAssertEqual(service.schedulerFlags, [])
        XCTAssertEqual(service.forwarding, .dr)
        XCTAssertEqual(service.persistence?.timeoutSeconds, 3600)
        XCTAssertEqual(service.persistence?.netmask, ip("255.255.255.255"))
        XCTAssertEqual(service.quorum, 1)
        XCTAssertNil(service.sorryServer)
        let hc = try XCTUnwrap(service.healthCheck)
        XCTAssertEqual(hc.kind, .tcp)
        XCTAssertEqual(hc.intervalMilliseconds, 5000)
        XCTAssertEqual(hc.connectTimeoutMilliseconds, 3000)
        XCTAssertEqual(hc.retries, 3)
        XCTAssertNil(hc.port)
        XCTAssertEqual(service.realServers.map(\.node), ["rs1", "rs2"])
        XCTAssertEqual(service.realServers.map(\.weight), [1, 1])
        XCTAssertEqual(service.realServers.map(\.port), [nil, nil])
        XCTAssertEqual(service.realServers.map(\.address), [nil, nil])

        XCTAssertEqual(spec.ipvs, IPVSSettings())
        XCTAssertEqual(spec.notifications, Notifications())

        // The embedded copy the other tests edit is the same spec.
        XCTAssertEqual(loadSpec(referenceYAML).spec, spec)
    }

    func testDefaultsApplied() throws {
        let yaml = """
        cluster: c
        nodes:
          - { name: a, address: 10.0.0.1/24 }
          - { name: b, address: 10.0.0.2/24 }
          - { name: r, address: 10.0.0.3/24 }
        vips:
          - address: 10.0.0.100/24
            vrrp:
              router_id: 7
              directors: [ { node: a, priority: 100 }, { node: b, priority: 50 } ]
            services:
              - port: 80
                health_check: { type: http }
                real_servers: [ { node: r } ]
              - port: 81
                health_check: { type: websocket }
                real_servers: [ { node: r } ]

        """
        let spec = try loadValid(yaml)
        XCTAssertEqual(loadSpec(yaml).diagnostics.map(\.description), [])
        XCTAssertEqual(spec.nodes.map(\.interface), ["eth0", "eth0", "eth0"])
        let vip = try XCTUnwrap(spec.vips.first)
        XCTAssertEqual(vip.name, "10.0.0.100", "a VIP without a name is named by its address")
        XCTAssertEqual(vip.vrrp, VRRPGroup(routerID: 7, version: 2, advertIntervalCentiseconds: 100, authPassword: nil,
                                           preempt: true, preemptDelaySeconds: 0, unicast: false,
                                           gratuitousARP: GratuitousARP(count: 5, repeatDelaySeconds: 5, refreshSeconds: 0),
                                           directors: [Director(node: "a", priority: 100), Director(node: "b", priority: 50)]))
        let http = vip.services[0]
        XCTAssertEqual(http.protocol, .tcp)
        XCTAssertEqual(http.scheduler, .wrr)
        XCTAssertEqual(http.schedulerFlags, [])
        XCTAssertEqual(http.forwarding, .dr)
        XCTAssertNil(http.persistence)
        XCTAssertEqual(http.quorum, 1)
        XCTAssertNil(http.sorryServer)
        XCTAssertEqual(http.realServers, [RealServer(node: "r", address: nil, port: nil, weight: 1, drain: false, drainDeadline: nil, inhibitOnFailure: nil)])
        XCTAssertFalse(http.inhibitOnFailure)
        let check = try XCTUnwrap(http.healthCheck)
        XCTAssertNil(check.port)
        XCTAssertEqual(check.path, "/")
        XCTAssertEqual(check.expectStatus, 200)
        XCTAssertNil(check.host)
        XCTAssertNil(check.command)
        XCTAssertEqual(check.intervalMilliseconds, 5000)
        XCTAssertEqual(check.connectTimeoutMilliseconds, 3000)
        XCTAssertEqual(check.retries, 3)
        XCTAssertEqual(check.retryDelayMilliseconds, 1000)
        XCTAssertEqual(vip.services[1].healthCheck?.expectStatus, 101, "a WebSocket check expects 101 by default")
        XCTAssertEqual(spec.ipvs.timeouts, IPVSTimeouts(tcp: 7260, tcpFin: 120, udp: 300))
        XCTAssertEqual(spec.ipvs.sync, ConnectionSync(enabled: true, syncID: 0, interface: nil))
        XCTAssertEqual(spec.notifications, Notifications(email: nil, webhook: nil, script: nil))
        // An IPv6 VIP's default name cannot keep the colons (names are letters, digits, '-', '_' and '.').
        XCTAssertEqual(try loadValid(edited(ipv6YAML, [("  - name: web6\n    address", "  - address")])).vips.first?.name, "2001-db8--200")
    }

    func testPersistenceShorthandAndAuthForms() throws {
        var spec = try loadValid(reference(("{ timeout: 3600, netmask: 255.255.255.255 }", "1h")))
        XCTAssertEqual(spec.vips[0].services[0].persistence, Persistence(timeoutSeconds: 3600, netmask: .v4(.max)))
        spec = try loadValid(reference(("{ timeout: 3600, netmask: 255.255.255.255 }", "{ timeout: 600, netmask: 255.255.255.0 }")))
        XCTAssertEqual(spec.vips[0].services[0].persistence, Persistence(timeoutSeconds: 600, netmask: ip("255.255.255.0")))
        spec = try loadValid(reference(("auth: { password: s3cret }", "auth: none")))
        XCTAssertNil(spec.vips[0].vrrp.authPassword)
        spec = try loadValid(reference(("auth: { password: s3cret }", "auth: { type: pass, password: pw }")))
        XCTAssertEqual(spec.vips[0].vrrp.authPassword, "pw")
        spec = try loadValid(reference(("auth: { password: s3cret }", "auth: { type: none }")))
        XCTAssertNil(spec.vips[0].vrrp.authPassword)
    }

    func testAuthMistakes() {
        assertDiagnostics(reference(("auth: { password: s3cret }", "auth: { type: pass }")),
                          ["spec.yaml:18:13: error: auth type pass needs a password"])
        assertDiagnostics(reference(("auth: { password: s3cret }", "auth: { type: none, password: s3cret }")),
                          ["spec.yaml:18:37: error: a password with auth type none is ignored; remove one of them"])
        assertDiagnostics(reference(("auth: { password: s3cret }", "auth: secret")),
                          ["spec.yaml:18:13: error: auth must be 'none' or a mapping with a password"])
        assertDiagnostics(reference(("auth: { password: s3cret }", "auth: { type: md5, password: s3cret }")),
                          ["spec.yaml:18:21: error: unknown auth type 'md5'; expected one of none, pass"])
    }

    // MARK: scalars

    /// The health check interval is read in milliseconds; its value starts at column 46 of line 27.
    func interval(_ written: String) -> String {
        reference(("{ type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }",
                   "{ type: tcp, interval: \(written), connect_timeout: 1ms, retries: 3 }"))
    }

    func testDurations() throws {
        let cases: [(String, Int)] = [("5", 5000), ("0.5", 500), ("100ms", 100), ("5s", 5000), ("2m", 120_000),
                                      ("1h", 3_600_000), ("1.5s", 1500), ("0.25m", 15_000), ("250ms", 250), (#""7s""#, 7000)]
        for (written, ms) in cases {
            let spec = try loadValid(interval(written))
            XCTAssertEqual(spec.vips[0].services[0].healthCheck?.intervalMilliseconds, ms, "interval: \(written)")
        }
        // Seconds settings: whole seconds, any unit.
        let spec = try loadValid(referenceYAML + "ipvs:\n  timeouts: { tcp: 2h, tcpfin: 90, udp: 5m }\n")
        XCTAssertEqual(spec.ipvs.timeouts, IPVSTimeouts(tcp: 7200, tcpFin: 90, udp: 300))
    }

    func testBadDurations() {
        let hint = "is not a duration; write seconds (5, 0.5) or with a unit (100ms, 5s, 2m, 1h)"
        for (written, shown) in [("5x", "5x"), ("-1s", "-1s"), ("1.2.3", "1.2.3"), ("five", "five"), ("5 s", "5 s"),
                                 ("1e3", "1e3"), (#""""#, ""), ("ms", "ms"), ("0x10", "0x10"), ("1d", "1d")] {
            assertDiagnostics(interval(written), ["spec.yaml:27:46: error: '\(shown)' \(hint)"])
        }
    }

    func testDurationResolution() {
        assertDiagnostics(reference(("advert_interval: 1s", "advert_interval: 5ms")),
                          ["spec.yaml:17:24: error: '5ms' is finer than this setting's resolution of 10ms"])
        assertDiagnostics(reference(("      advert_interval: 1s", "      preempt_delay: 1.5")),
                          ["spec.yaml:17:22: error: '1.5' is finer than this setting's resolution of 1000ms"])
        assertDiagnostics(referenceYAML + "ipvs:\n  timeouts: { tcp: 7200500ms }\n",
                          ["spec.yaml:32:20: error: '7200500ms' is finer than this setting's resolution of 1000ms"])
    }

    func testBooleans() throws {
        for (written, value) in [("true", true), ("yes", true), ("on", true), ("True", true), ("TRUE", true),
                                 ("false", false), ("no", false), ("off", false), ("Off", false)] {
            let spec = try loadValid(reference(("      advert_interval: 1s", "      preempt: \(written)")))
            XCTAssertEqual(spec.vips[0].vrrp.preempt, value, "preempt: \(written)")
        }
        for written in ["maybe", "1", "0", "y"] {
            assertDiagnostics(reference(("      advert_interval: 1s", "      preempt: \(written)")),
                              ["spec.yaml:17:16: error: '\(written)' is not true or false"])
        }
    }

    func testDrainAndInhibitOnFailure() throws {
        // Line 25 (forwarding: dr, a default) takes the service key; lines 29 and 30 are the real servers.
        let spec = try loadValid(reference(
            ("        forwarding: dr", "        inhibit_on_failure: yes"),
            ("{ node: rs1, weight: 1 }", "{ node: rs1, weight: 3, drain: true, drain_deadline: 2026-12-02T03:00:00Z }"),
            ("{ node: rs2, weight: 1 }", "{ node: rs2, inhibit_on_failure: off }")))
        let s = spec.vips[0].services[0]
        XCTAssertTrue(s.inhibitOnFailure)
        XCTAssertEqual(s.realServers, [
            RealServer(node: "rs1", weight: 3, drain: true, drainDeadline: 1_796_180_400),
            RealServer(node: "rs2", inhibitOnFailure: false),
        ])
        XCTAssertEqual(s.realServers.map(s.inhibitsOnFailure), [true, false])
        // An offset is read as the instant it names; quoting changes nothing.
        let offset = try loadValid(reference(("{ node: rs1, weight: 1 }", #"{ node: rs1, drain: on, drain_deadline: "2026-12-02T04:00:00+01:00" }"#)))
        XCTAssertEqual(offset.vips[0].services[0].realServers[0].drainDeadline, 1_796_180_400)
        // Drain without a deadline waits for the connections.
        let open = try loadValid(reference(("{ node: rs1, weight: 1 }", "{ node: rs1, drain: true }")))
        XCTAssertEqual(open.vips[0].services[0].realServers[0], RealServer(node: "rs1", drain: true))
    }

    func testDrainAndInhibitMistakes() {
        func rs1(_ written: String) -> String { reference(("{ node: rs1, weight: 1 }", written)) }
        assertDiagnostics(rs1("{ node: rs1, drain: maybe }"), ["spec.yaml:29:33: error: 'maybe' is not true or false"])
        assertDiagnostics(rs1("{ node: rs1, inhibit_on_failure: 1 }"), ["spec.yaml:29:46: error: '1' is not true or false"])
        assertDiagnostics(reference(("        forwarding: dr", "        inhibit_on_failure: [true]")),
                          ["spec.yaml:25:29: error: expected true or false, found a list"])
        let example = "is not an RFC 3339 timestamp such as 2026-12-02T03:00:00Z"
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: tomorrow }"),
                          ["spec.yaml:29:55: error: 'tomorrow' \(example): expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset such as +01:00"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: 2026-12-02T03:00:00 }"),
                          ["spec.yaml:29:55: error: '2026-12-02T03:00:00' \(example): no time zone: end with Z for UTC, or an offset such as +01:00"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: 2026-02-29T03:00:00Z }"),
                          ["spec.yaml:29:55: error: '2026-02-29T03:00:00Z' \(example): day 29 does not exist in 2026-02, which has 28 days"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: 2026-13-02T03:00:00Z }"),
                          ["spec.yaml:29:55: error: '2026-13-02T03:00:00Z' \(example): month 13 is not 01–12"])
        assertDiagnostics(rs1(#"{ node: rs1, drain: true, drain_deadline: "2026-12-02 03:00:00Z" }"#),
                          ["spec.yaml:29:55: error: '2026-12-02 03:00:00Z' \(example): separate the date and the time with T, not a space"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: 1796180400 }"),
                          ["spec.yaml:29:55: error: '1796180400' \(example): expected YYYY-MM-DDTHH:MM:SS followed by Z or an offset such as +01:00"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_deadline: { at: now } }"),
                          ["spec.yaml:29:55: error: expected a timestamp such as 2026-12-02T03:00:00Z, found a mapping"])
        assertDiagnostics(rs1("{ node: rs1, drain: true, drain_dealine: 2026-12-02T03:00:00Z }"),
                          ["spec.yaml:29:39: error: unknown key 'drain_dealine'; did you mean 'drain_deadline'? (allowed here: node, address, port, weight, drain, drain_deadline, inhibit_on_failure, forwarding)"])
        assertDiagnostics(rs1("{ node: rs1, inhibit_on_failures: true }"),
                          ["spec.yaml:29:26: error: unknown key 'inhibit_on_failures'; did you mean 'inhibit_on_failure'? (allowed here: node, address, port, weight, drain, drain_deadline, inhibit_on_failure, forwarding)"])
        assertDiagnostics(reference(("        forwarding: dr", "        inhibit_on_fail: true")),
                          ["spec.yaml:25:9: error: unknown key 'inhibit_on_fail'; did you mean 'inhibit_on_failure'? (allowed here: port, protocol, scheduler, scheduler_flags, forwarding, persistence, quorum, sorry_server, health_check, inhibit_on_failure, ops, hysteresis, quorum_up, quorum_down, alpha, omega, fwmark, real_servers)"])
    }

    func testEndpointForms() throws {
        // NAT, so the sorry server may use another port; sorry_server replaces line 25.
        func sorry(_ written: String) -> String {
            reference(("        scheduler: wrr", "        forwarding: nat"), ("        forwarding: dr", "        sorry_server: \(written)"))
        }
        let cases: [(String, String, Int)] = [
            ("192.168.1.50:8080", "192.168.1.50", 8080),
            ("192.168.1.50", "192.168.1.50", 80),
            ("{ address: 192.168.1.50, port: 8080 }", "192.168.1.50", 8080),
            ("{ address: 192.168.1.50 }", "192.168.1.50", 80),
        ]
        for (written, address, port) in cases {
            let spec = try loadValid(sorry(written))
            XCTAssertEqual(spec.vips[0].services[0].sorryServer, Endpoint(address: ip(address), port: port), written)
        }
        let v6 = [(#""[2001:db8::50]:8443""#, 8443), ("2001:db8::50", 443), (#""[2001:db8::50]:443""#, 443)]
        for (written, port) in v6 {
            let spec = try loadValid(edited(ipv6YAML, [("        forwarding: dr", "        forwarding: nat\n        sorry_server: \(written)")]))
            XCTAssertEqual(spec.vips[0].services[0].sorryServer, Endpoint(address: ip("2001:db8::50"), port: port), written)
        }
        let hint = "is not address:port (e.g. 192.168.1.50:80 or [2001:db8::1]:80)"
        // An unbracketed IPv6 address with a port is ambiguous: 1:2:3:4:5:6:7:8 port 80, or nine groups?
        for bad in ["192.168.1.50:http", "sorry.example.com:80", "192.168.1.500:80", "[2001:db8::1]", "1:2:3:4:5:6:7:8:80"] {
            assertDiagnostics(sorry("\"\(bad)\""), ["spec.yaml:25:23: error: '\(bad)' \(hint)"])
        }
        assertDiagnostics(sorry("{ port: 80 }"), ["spec.yaml:25:23: error: missing key 'address': the address"])
    }

    // MARK: YAML structure

    func testYAMLSyntaxErrorsHavePositions() {
        // An unclosed flow mapping on line 7: "eth0" continues as a plain scalar onto line 8 up to the '{'.
        assertDiagnostics(reference(("interface: eth0 }\n  - { name: lvs2", "interface: eth0\n  - { name: lvs2")),
                          ["spec.yaml:8:5: error: YAML syntax: did not find expected ',' or '}' (while parsing a flow mapping at line 7, column 5)"])
        // A tab used for indentation.
        assertDiagnostics("cluster: web\nnodes:\n\t- a\n",
                          ["spec.yaml:3:1: error: YAML syntax: found character that cannot start any token (while scanning for the next token at line 3, column 1)"])
        // A key indented deeper than its sibling.
        assertDiagnostics("cluster: web\n  nodes: []\n",
                          ["spec.yaml:2:8: error: YAML syntax: mapping values are not allowed in this context"])
        // An unterminated quoted string.
        assertDiagnostics("cluster: 'web\n",
                          ["spec.yaml:2:1: error: YAML syntax: found unexpected end of stream (while scanning a quoted scalar at line 1, column 10)"])
        assertDiagnostics("cluster: web\nnodes: []\nvips: *x\n",
                          ["spec.yaml:3:7: error: YAML syntax: found undefined alias"])
        assertDiagnostics("cluster: web\nnodes: []\nvips: []\n---\ncluster: x\n",
                          ["spec.yaml:4:1: error: YAML syntax: but found another document (expected a single document in the stream at line 1, column 1)"])
    }

    /// libyaml reports the offset of a character it cannot read; the diagnostic should point at it.
    func testReaderErrorPointsAtTheCharacter() {
        let yaml = "cluster: web\nnodes: []\nvips: []\nipvs: \u{7}\n"
        let loaded = loadSpec(yaml)
        XCTAssertEqual(loaded.diagnostics.map(\.diagnostic.message), ["YAML reader: control characters are not allowed"])
        XCTAssertEqual(loaded.diagnostics.map(\.description), ["spec.yaml:4:7: error: YAML reader: control characters are not allowed"])
    }

    func testDuplicateKeys() {
        // The position is the first occurrence of the repeated key (what Yams reports).
        assertDiagnostics("cluster: web\ncluster: api\n", ["spec.yaml:1:1: error: duplicate key 'cluster' in one mapping"])
        assertDiagnostics(reference(("{ node: lvs1, priority: 100 }", "{ node: lvs1, priority: 100, priority: 101 }")),
                          ["spec.yaml:20:25: error: duplicate key 'priority' in one mapping"])
        assertDiagnostics(reference(("        forwarding: dr", "        scheduler: rr")),
                          ["spec.yaml:24:9: error: duplicate key 'scheduler' in one mapping"])
    }

    func testEmptyFile() {
        for yaml in ["", "\n\n", "# nothing here\n", "   \n# still nothing\n"] {
            assertDiagnostics(yaml, ["spec.yaml:1:1: error: the spec is empty; it needs at least cluster, nodes and vips"])
        }
    }

    func testWrongTypes() {
        assertDiagnostics("- a\n- b\n",
                          ["spec.yaml:1:1: error: expected a mapping with keys cluster, nodes, vips, ipvs, notifications, found a list"])
        assertDiagnostics("just words\n",
                          ["spec.yaml:1:1: error: expected a mapping with keys cluster, nodes, vips, ipvs, notifications, found 'just words'"])
        assertDiagnostics(reference(("router_id: 51", "router_id: [51]")),
                          ["spec.yaml:16:18: error: expected a whole number, found a list"])
        assertDiagnostics(reference(("router_id: 51", "router_id: fifty-one")),
                          ["spec.yaml:16:18: error: 'fifty-one' is not a whole number"])
        assertDiagnostics(reference(("- port: 80", "- port: { number: 80 }")),
                          ["spec.yaml:23:15: error: expected a whole number, found a mapping"])
        assertDiagnostics(reference(("auth: { password: s3cret }", "auth: [s3cret]")),
                          ["spec.yaml:18:13: error: expected a mapping with keys type, password, found a list"])
        assertDiagnostics(reference(("        real_servers:\n          - { node: rs1, weight: 1 }\n          - { node: rs2, weight: 1 }\n",
                                     "        real_servers: { node: rs1 }\n")),
                          ["spec.yaml:28:23: error: expected a list, found a mapping"])
        assertDiagnostics(reference(("{ timeout: 3600, netmask: 255.255.255.255 }", "[3600]")),
                          ["spec.yaml:26:22: error: expected a mapping with keys timeout, netmask, found a list"])
        assertDiagnostics(referenceYAML + "ipvs: [tcp]\n",
                          ["spec.yaml:31:7: error: expected a mapping with keys timeouts, sync, found a list"])
        assertDiagnostics(reference(("cluster: web", "cluster: [web]")),
                          ["spec.yaml:4:10: error: expected a string, found a list"])
        assertDiagnostics(reference(("{ node: rs1, weight: 1 }", "{ node: rs1, weight: heavy }")),
                          ["spec.yaml:29:34: error: 'heavy' is not a whole number"])
        assertDiagnostics(reference(("{ timeout: 3600, netmask: 255.255.255.255 }", "{ timeout: 3600, netmask: 255.255.255.256 }")),
                          ["spec.yaml:26:48: error: '255.255.255.256' is not an IPv4 or IPv6 address"])
        assertDiagnostics("cluster: web\n? [a, b]\n: x\n",
                          ["spec.yaml:2:1: error: YAML complex key '?' is not allowed in a spec: mapping keys are plain words"])
    }

    func testUnknownEnumValues() {
        assertDiagnostics(reference(("        scheduler: wrr", "        scheduler: wrrr")),
                          ["spec.yaml:24:20: error: unknown scheduler 'wrrr'; did you mean 'wrr'? expected one of rr, wrr, lc, wlc, sh, mh"])
        assertDiagnostics(reference(("        forwarding: dr", "        forwarding: direct")),
                          ["spec.yaml:25:21: error: unknown forwarding method 'direct'; expected one of dr, nat, tun"])
        assertDiagnostics(reference(("{ type: tcp, interval", "{ type: icmp, interval")),
                          ["spec.yaml:27:31: error: unknown health check type 'icmp'; did you mean 'tcp'? expected one of tcp, http, https, websocket, exec, udp, dns, smtp, ping"])
    }

    func testUnknownKeys() {
        assertDiagnostics(reference(("advert_interval: 1s", "advert_intervall: 1s")),
                          ["spec.yaml:17:7: error: unknown key 'advert_intervall'; did you mean 'advert_interval'? (allowed here: router_id, version, advert_interval, auth, preempt, preempt_delay, unicast, gratuitous_arp, track_scripts, track_interfaces, notify, sync_group, email, directors)"])
        assertDiagnostics(reference(("{ node: rs1, weight: 1 }", "{ node: rs1, wieght: 1 }")),
                          ["spec.yaml:29:26: error: unknown key 'wieght'; did you mean 'weight'? (allowed here: node, address, port, weight, drain, drain_deadline, inhibit_on_failure, forwarding)"])
        // No hint when nothing is close, and never a key that is already there.
        assertDiagnostics(reference(("{ type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }", "{ type: tcp, colour: red }")),
                          ["spec.yaml:27:36: error: unknown key 'colour' (allowed here: type, port, path, expect_status, host, urls, sni, verify_certificate, ca_file, command, dynamic_weight, payload, require_reply, reply, min_reply_length, max_reply_length, query_type, query_name, helo_name, interval, connect_timeout, retries, retry_delay)"])
        assertDiagnostics(reference(("{ node: rs1, weight: 1 }", "{ node: rs1, nod: rs2 }")),
                          ["spec.yaml:29:26: error: unknown key 'nod' (allowed here: node, address, port, weight, drain, drain_deadline, inhibit_on_failure, forwarding)"])
        assertDiagnostics(reference(("vips:", "vipz:")), [
            "spec.yaml:4:1: warning: no vips: agents will hold nothing",
            "spec.yaml:12:1: error: unknown key 'vipz'; did you mean 'vips'? (allowed here: cluster, nodes, vips, ipvs, notifications)",
        ])
    }

    func testMissingRequiredKeys() {
        assertDiagnostics(reference(("      router_id: 51\n", "")),
                          ["spec.yaml:16:7: error: missing key 'router_id': the virtual router id, 1–255"])
        assertDiagnostics(reference(("cluster: web\n", "")),
                          ["spec.yaml:5:1: error: missing key 'cluster': a cluster name"])
        assertDiagnostics("cluster: web\nvips: []\n",
                          ["spec.yaml:1:1: error: missing key 'nodes': list the cluster's hosts"])
        assertDiagnostics(reference(("      - port: 80", "      - quorum: 1")),
                          ["spec.yaml:23:9: error: missing key 'port': the service port"])
        assertDiagnostics(reference(("{ node: lvs2, priority: 99 }", "{ node: lvs2 }")),
                          ["spec.yaml:21:11: error: missing key 'priority': a VRRP priority, 1–254"])
        assertDiagnostics(reference(("{ node: rs2, weight: 1 }", "{ weight: 1, port: 80 }")),
                          ["spec.yaml:30:13: error: a real server needs a node or an address"])
        assertDiagnostics(reference(("{ type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }", "{ interval: 5s }")),
                          ["spec.yaml:27:23: error: missing key 'type': the check type: tcp, http, https, websocket, exec, udp, dns, smtp or ping"])
        assertDiagnostics(reference(("{ timeout: 3600, netmask: 255.255.255.255 }", "{ netmask: 255.255.255.255 }")),
                          ["spec.yaml:26:22: error: missing key 'timeout': the persistence timeout in seconds"])
        assertDiagnostics(reference(("      directors:\n        - { node: lvs1, priority: 100 }\n        - { node: lvs2, priority: 99 }\n", "")),
                          ["spec.yaml:16:7: error: missing key 'directors': the directors with their priorities"])
    }

    /// A structural warning at the top level ("no vips") must not hide the validator's errors, and a spec with
    /// errors must never be returned.
    func testTopLevelWarningDoesNotHideValidationErrors() {
        let yaml = """
        cluster: web
        nodes:
          - { name: a, address: 10.0.0.1/24 }
          - { name: a, address: 10.0.0.2/24 }

        """
        let loaded = loadSpec(yaml)
        XCTAssertEqual(loaded.diagnostics.map(\.description), [
            "spec.yaml:1:1: warning: no vips: agents will hold nothing",
            "spec.yaml:4:13: error: duplicate node name 'a' (first defined at nodes[0])",
        ])
        XCTAssertNil(loaded.spec, "a spec with a duplicate node name must not be accepted")
    }

    /// An unreadable item of a list is kept as a placeholder, so the items after it keep their indices and
    /// the list its length (no "single director" warning here).
    func testUnreadableListItemsKeepTheirPlace() {
        assertDiagnostics(reference(("        - { node: lvs2, priority: 99 }", "        - lvs2")),
                          ["spec.yaml:21:11: error: expected a mapping with keys node, priority, interface, found 'lvs2'"])
        assertDiagnostics(reference(("          - { node: rs1, weight: 1 }", "          - rs1")),
                          ["spec.yaml:29:13: error: expected a mapping with keys node, address, port, weight, drain, drain_deadline, inhibit_on_failure, forwarding, found 'rs1'"])
    }

    /// A value that cannot be read is replaced by a placeholder (0.0.0.0/32, port 0) whose own checks are
    /// suppressed; checks elsewhere that use the placeholder must not report it either.
    func testPlaceholdersDoNotCascade() {
        // An unreadable node address: the director subnet check compares the VIP with 0.0.0.0.
        assertDiagnostics(reference(("192.168.1.100/24", "192.168.1.300/24")),
                          ["spec.yaml:7:28: error: '192.168.1.300/24' is not an address or address/prefix (e.g. 192.168.1.200/24)"])
        // An unreadable VIP address: both directors' subnet checks see VIP 0.0.0.0/32.
        assertDiagnostics(reference(("    address: 192.168.1.200/24", "    address: 192.168.1.200/33")),
                          ["spec.yaml:14:14: error: '192.168.1.200/33' is not an address or address/prefix (e.g. 192.168.1.200/24)"])
        // A missing VIP address, likewise.
        assertDiagnostics(reference(("    address: 192.168.1.200/24\n", "")),
                          ["spec.yaml:13:5: error: missing key 'address': the VIP with its prefix, e.g. 192.168.1.200/24"])
        // A missing service port: the sorry server inherits port 0.
        assertDiagnostics(reference(("      - port: 80", "      - quorum: 1"), ("        forwarding: dr", "        sorry_server: 192.168.1.50")),
                          ["spec.yaml:23:9: error: missing key 'port': the service port"])
    }

    // MARK: hostile input

    /// The classic "billion laughs": each list expands the one before tenfold; none of it is walked.
    func testBillionLaughsInValuesFailsFast() throws {
        var yaml = "cluster: web\nnodes: []\nvips:\n  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            yaml += "  - &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        let bomb = yaml
        let loaded = try XCTUnwrap(finishes(within: 10) { SpecLoader.load(yaml: bomb, file: "spec.yaml") },
                                   "loading an alias bomb must not hang")
        XCTAssertEqual(loaded.diagnostics.map(\.description),
                       (4...12).map { "spec.yaml:\($0):5: error: expected a mapping with keys name, address, interface, vrrp, services, found a list" })
        XCTAssertNil(loaded.spec)
    }

    /// Aliases that multiply through the schema itself (vips × services × real servers = 10⁹ reads) hit the budget.
    func testAliasBombThroughTheSchemaHitsTheBudget() throws {
        var yaml = """
        cluster: web
        nodes:
          - { name: lvs1, address: 192.168.1.100/24 }
          - { name: lvs2, address: 192.168.1.101/24 }
          - { name: rs1, address: 192.168.1.102/24 }
        vips:
          - &v
            name: web
            address: 192.168.1.200/24
            vrrp: { router_id: 51, directors: [ { node: lvs1, priority: 100 }, { node: lvs2, priority: 99 } ] }
            services:
              - &s
                port: 80
                real_servers: [ &r { node: rs1 }

        """
        yaml.removeLast() // continue the flow sequence on the same line
        yaml += String(repeating: ", *r", count: 999) + " ]\n"
        yaml += String(repeating: "      - *s\n", count: 999)
        yaml += String(repeating: "  - *v\n", count: 999)
        XCTAssertLessThan(yaml.utf8.count, 30_000)
        let started = Date()
        let bomb = yaml
        let loaded = try XCTUnwrap(finishes(within: 20) { SpecLoader.load(yaml: bomb, file: "spec.yaml") },
                                   "loading an alias bomb must not hang")
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertEqual(loaded.diagnostics.map(\.description),
                       ["spec.yaml:1:1: error: the spec expands to more than 200000 values (aliases?); refusing to read further"])
        XCTAssertNil(loaded.spec)
    }

    /// The bomb as a mapping key: Yams hashes every key of a mapping to find duplicates, and hashing an aliased
    /// tree visits all 10⁹ leaves. A 500-byte file must not take minutes of CPU.
    func testAliasBombAsMappingKeyFailsFast() {
        var yaml = "cluster: web\nnodes: []\nvips: []\nx:\n  - &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for (previous, name) in zip("abcdefgh", "bcdefghi") {
            yaml += "  - &\(name) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        yaml += "? *i\n: boom\n"
        XCTAssertLessThan(yaml.utf8.count, 600)
        let bomb = yaml
        let loaded = finishes(within: 10) { SpecLoader.load(yaml: bomb, file: "spec.yaml") }
        XCTAssertNotNil(loaded, "a mapping key that expands to 10⁹ values must be refused quickly, not hashed")
        XCTAssertEqual(loaded?.hasErrors, true)
    }

    func testOversizedSpec() {
        let yaml = "cluster: web\n" + String(repeating: "#", count: SpecLoader.maxBytes)
        assertDiagnostics(yaml, ["spec.yaml:1:1: error: spec is 4194317 bytes; at most 4194304"])
    }

    // MARK: files

    func temporaryFile(_ bytes: [UInt8]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lbspec-\(UUID().uuidString).yaml")
        try Data(bytes).write(to: url)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testMissingFile() {
        let path = "/nonexistent-\(UUID().uuidString)/spec.yaml"
        let loaded = SpecLoader.load(file: path)
        XCTAssertNil(loaded.spec)
        XCTAssertEqual(loaded.diagnostics.count, 1)
        let d = loaded.diagnostics.first
        XCTAssertEqual(d?.file, path)
        XCTAssertEqual(d.map { "\($0.location.line):\($0.location.column)" }, "1:1")
        XCTAssertEqual(d?.diagnostic.severity, .error)
        XCTAssertEqual(d?.description, "\(path):1:1: error: cannot read: no such file")
    }

    func testDirectoryIsRefused() {
        let dir = FileManager.default.temporaryDirectory.path
        XCTAssertEqual(SpecLoader.load(file: dir).diagnostics.map(\.description),
                       ["\(dir):1:1: error: cannot read: it is a directory; give the path of a spec file"])
    }

    /// A device or pipe has no size to check first; reading stops just past the limit.
    func testEndlessFileIsRefused() throws {
        let loaded = try XCTUnwrap(finishes(within: 20) { SpecLoader.load(file: "/dev/zero") }, "reading /dev/zero must stop")
        XCTAssertEqual(loaded.diagnostics.map(\.description),
                       ["/dev/zero:1:1: error: file is more than 4194304 bytes; a spec is at most 4194304"])
    }

    func testNonUTF8File() throws {
        let url = try temporaryFile(Array("cluster: w".utf8) + [0xFF, 0xFE, 0x0A])
        let loaded = SpecLoader.load(file: url.path)
        XCTAssertEqual(loaded.diagnostics.map(\.description), ["\(url.path):1:1: error: file is not UTF-8 text"])
        XCTAssertNil(loaded.spec)
    }

    func testOversizedFile() throws {
        let url = try temporaryFile(Array(repeating: UInt8(ascii: "#"), count: SpecLoader.maxBytes + 1))
        XCTAssertEqual(SpecLoader.load(file: url.path).diagnostics.map(\.description),
                       ["\(url.path):1:1: error: file is 4194305 bytes; a spec is at most 4194304"])
    }

    func testFileDiagnosticsNameTheFile() throws {
        let url = try temporaryFile(Array(reference(("router_id: 51", "router_id: 300")).utf8))
        XCTAssertEqual(SpecLoader.load(file: url.path).diagnostics.map(\.description),
                       ["\(url.path):16:18: error: virtual router id 300 is out of range 1–255"])
        XCTAssertEqual(SpecLoader.load(yaml: "cluster: web\nnodes: []\nvips: []\n").diagnostics, [], "default file name, no diagnostics")
        XCTAssertEqual(SpecLoader.load(yaml: "cluster: [x]\nnodes: []\nvips: []\n").diagnostics.map(\.description),
                       ["<spec>:1:10: error: expected a string, found a list"])
    }

    func testDiagnosticsAreInFileOrder() {
        let loaded = loadSpec(reference(("router_id: 51", "router_id: 0"),
                                        ("{ node: rs2, weight: 1 }", "{ node: rs2, weight: -1 }"),
                                        ("cluster: web", "cluster: \"\"")))
        XCTAssertEqual(loaded.diagnostics.map(\.description), [
            "spec.yaml:4:10: error: cluster name is empty",
            "spec.yaml:16:18: error: virtual router id 0 is out of range 1–255",
            "spec.yaml:30:34: error: weight -1 is out of range 0–65535",
        ])
    }
}

final class AliasScanTests: XCTestCase {
    /// Text that merely contains '&' or '*' is not an anchor or alias.
    func testQuotedAndCommentedMarksAreNotAliases() {
        let yaml = """
        cluster: web # a & b *c
        nodes: []
        vips: []
        notifications: { script: "/usr/bin/notify *all", webhook: 'https://h/?a=1&b=2' }

        """
        let loaded = SpecLoader.load(yaml: yaml, file: "spec.yaml")
        XCTAssertEqual(loaded.diagnostics.map(\.description), [])
        XCTAssertEqual(loaded.spec?.notifications.script, "/usr/bin/notify *all")
    }
}

final class SharedBlockTests: XCTestCase {
    /// docs/spec.md: VIPs sharing a router id write the vrrp block once, with an anchor.
    func testAnchorsShareAVRRPBlock() throws {
        let yaml = """
        cluster: web
        nodes:
          - { name: lvs1, address: 192.168.1.100/24 }
          - { name: lvs2, address: 192.168.1.101/24 }
        vips:
          - name: web
            address: 192.168.1.200/24
            vrrp: &vrrp51
              router_id: 51
              directors: [ { node: lvs1, priority: 100 }, { node: lvs2, priority: 99 } ]
          - name: api
            address: 192.168.1.201/24
            vrrp: *vrrp51
        notifications: { script: "/bin/notify \\" *notakey: x" }

        """
        let loaded = SpecLoader.load(yaml: yaml, file: "spec.yaml")
        XCTAssertEqual(loaded.diagnostics.map(\.description).filter { $0.contains("error") }, [])
        let spec = try XCTUnwrap(loaded.spec)
        XCTAssertEqual(spec.vips[1].vrrp, spec.vips[0].vrrp)
        XCTAssertEqual(spec.notifications.script, "/bin/notify \" *notakey: x")
    }

    func testAnAliasAsAKeyIsRefusedBeforeParsing() {
        let loaded = SpecLoader.load(yaml: "a: &k [x]\n*k : 1\n", file: "spec.yaml")
        XCTAssertEqual(loaded.diagnostics.map(\.description),
                       ["spec.yaml:2:1: error: YAML alias as a key '*k' is not allowed in a spec: mapping keys are plain words"])
    }
}
