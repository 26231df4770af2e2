import Foundation
import LBKeepalived
import LBSpec
import LBSpecYAML
import XCTest

/// Export each director's keepalived.conf, check it with the real `keepalived -t`, import the files
/// back: the same spec. (keepalived.conf has no cluster or VIP names: the cluster comes back through
/// --cluster, VIPs are named by their address.)
final class RoundTripTests: XCTestCase {
    /// Directors with unicast and VRRPv3 centisecond adverts, two VIPs in one group, a group on another
    /// interface, HTTP checks with a host and port, sorry server, quorum in weights, notifications.
    static let busy = """
    cluster: busy
    nodes:
      - { name: d1, address: 10.1.0.11/24, interface: eth0 }
      - { name: d2, address: 10.1.0.12/24, interface: eth0 }
      - { name: rs1, address: 10.1.0.21/24, interface: eth0 }
      - { name: rs2, address: 10.1.0.22/24, interface: eth0 }
      - { name: rs3, address: 10.1.0.23/24, interface: eth0 }
    vips:
      - address: 10.1.0.100/24
        vrrp:
          router_id: 7
          version: 3
          advert_interval: 250ms
          preempt: false
          unicast: true
          gratuitous_arp: { count: 2, repeat_delay: 0, refresh: 60 }
          directors:
            - { node: d1, priority: 150 }
            - { node: d2, priority: 100 }
        services:
          - port: 443
            scheduler: sh
            scheduler_flags: [ fallback, port ]
            persistence: { timeout: 1800, netmask: 255.255.255.0 }
            quorum: 2
            sorry_server: 10.1.0.99:443
            health_check: { type: http, port: 8443, path: /healthz, expect_status: 204, host: www.example.com, interval: 2s, connect_timeout: 1500ms, retries: 2, retry_delay: 500ms }
            real_servers: [ { node: rs1, weight: 1 }, { node: rs2, weight: 2 }, { node: rs3, weight: 1 } ]
      - address: 10.1.0.101/24
        vrrp:
          router_id: 7
          version: 3
          advert_interval: 250ms
          preempt: false
          unicast: true
          gratuitous_arp: { count: 2, repeat_delay: 0, refresh: 60 }
          directors:
            - { node: d1, priority: 150 }
            - { node: d2, priority: 100 }
      - address: 10.1.0.102/24
        vrrp:
          router_id: 8
          directors:
            - { node: d1, priority: 100, interface: eth1 }
            - { node: d2, priority: 200, interface: eth1 }
    ipvs:
      timeouts: { tcp: 86400, tcpfin: 60, udp: 120 }
      sync: { sync_id: 7, interface: eth1 }
    notifications:
      email: { to: [ ops@example.com, noc@example.com ], from: lb@example.com, smtp_server: 192.0.2.25, smtp_port: 587, timeout: 20 }
      script: /usr/local/bin/lb-notify
    """

    /// NAT with port mapping, a UDP service with a TCP check port, exec checks, weights, sync off.
    static let nat = """
    cluster: nat
    nodes:
      - { name: gw1, address: 172.16.0.1/16, interface: eth0 }
      - { name: gw2, address: 172.16.0.2/16, interface: eth0 }
      - { name: rs1, address: 10.9.0.5, interface: eth0 }
      - { name: rs2, address: 10.9.0.6, interface: eth0 }
    vips:
      - address: 172.16.0.100/16
        vrrp:
          router_id: 200
          advert_interval: 3s
          auth: { password: "p#ss w!" }
          preempt_delay: 60
          directors: [ { node: gw1, priority: 200 }, { node: gw2, priority: 50 } ]
        services:
          - port: 80
            scheduler: lc
            forwarding: nat
            health_check: { type: exec, command: /usr/lib/lb/check-web, interval: 10s, connect_timeout: 4s, retries: 5, retry_delay: 2s }
            real_servers: [ { node: rs1, port: 8080, weight: 0 }, { node: rs2, port: 8081, weight: 3 } ]
          - port: 53
            protocol: udp
            scheduler: rr
            forwarding: nat
            health_check: { type: tcp, port: 53, interval: 5s, connect_timeout: 2s, retries: 3 }
            real_servers: [ { node: rs1, weight: 1 }, { node: rs2, weight: 1 } ]
    ipvs:
      sync: { enabled: false }
    """

    /// IPv6, tunnelling and maglev, a node that directs one VIP and serves another.
    static let mixed = """
    cluster: mixed
    nodes:
      - { name: a, address: 2001:db8::a/64, interface: eth0 }
      - { name: b, address: 2001:db8::b/64, interface: eth0 }
      - { name: c, address: 192.0.2.3/24, interface: eth0 }
      - { name: d, address: 192.0.2.4/24, interface: eth0 }
      - { name: rs1, address: 2001:db8::21/64, interface: eth0 }
      - { name: rs2, address: 192.0.2.21/24, interface: eth0 }
    vips:
      - address: 2001:db8::100/64
        vrrp:
          router_id: 1
          version: 3
          advert_interval: 1s
          directors: [ { node: a, priority: 120 }, { node: b, priority: 110 } ]
        services:
          - port: 443
            scheduler: mh
            persistence: { timeout: 600 }
            real_servers: [ { node: rs1, weight: 1 } ]
      - address: 192.0.2.100/24
        vrrp:
          router_id: 2
          directors: [ { node: c, priority: 120 }, { node: d, priority: 110 } ]
        services:
          - port: 80
            scheduler: wlc
            forwarding: tun
            health_check: { type: tcp, interval: 3s, connect_timeout: 1s, retries: 1 }
            real_servers: [ { node: rs2, weight: 5 } ]
      - address: 192.0.2.101/24
        vrrp:
          router_id: 3
          directors: [ { node: c, priority: 100 } ]
        services:
          - port: 8000
            scheduler: rr
            real_servers: [ { node: d, weight: 1 }, { node: rs2, weight: 1 } ]
    """

    func testReferenceScenario() throws {
        try roundTrip(try Fixtures.reference(), directors: ["lvs1", "lvs2"])
    }

    func testBusyScenario() throws {
        try roundTrip(try load(Self.busy), directors: ["d1", "d2"], interfaces: ["eth0", "eth1"])
    }

    func testNATScenario() throws {
        try roundTrip(try load(Self.nat), directors: ["gw1", "gw2"])
    }

    func testMixedScenario() throws {
        try roundTrip(try load(Self.mixed), directors: ["a", "b", "c", "d"])
    }

    /// The service's inhibit_on_failure becomes the virtual_server's (keepalived's default for its real servers)
    /// and a server that differs says so in its own block; both come back as written.
    func testInhibitOnFailureRoundTrips() throws {
        var spec = try Fixtures.reference()
        spec.vips[0].services[0].inhibitOnFailure = true
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = false
        let export = try KeepalivedExporter.export(spec, node: "lvs1", source: "ref.yaml")
        XCTAssertTrue(export.text.contains("""
            delay_loop 5
            inhibit_on_failure
            real_server 192.168.1.102 80 {
                weight 1
                TCP_CHECK {
        """), export.text)
        XCTAssertTrue(export.text.contains("""
            real_server 192.168.1.103 80 {
                weight 1
                inhibit_on_failure false
        """), export.text)
        XCTAssertEqual(export.warnings, [])
        try roundTrip(spec, directors: ["lvs1", "lvs2"])

        spec.vips[0].services[0].inhibitOnFailure = false
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = true
        let other = try KeepalivedExporter.export(spec, node: "lvs1", source: "ref.yaml").text
        XCTAssertFalse(other.contains("    inhibit_on_failure\n"), other)
        XCTAssertTrue(other.contains("        weight 1\n        inhibit_on_failure true\n"), other)
        try roundTrip(spec, directors: ["lvs1", "lvs2"])
    }

    /// keepalived refuses a sorry server that is also a real server with another inhibit setting.
    func testASorryServerThatIsAnInhibitingRealServerInhibitsToo() throws {
        var spec = try Fixtures.reference()
        spec.vips[0].services[0].inhibitOnFailure = true
        spec.vips[0].services[0].sorryServer = Endpoint(address: IPAddress("192.168.1.103")!, port: 80)
        let export = try KeepalivedExporter.export(spec, node: "lvs1", source: "ref.yaml")
        XCTAssertTrue(export.text.contains("    sorry_server 192.168.1.103 80\n    sorry_server_inhibit\n"), export.text)
        try assertKeepalivedAccepts(export.text, interfaces: ["eth0"])
        spec.vips[0].services[0].inhibitOnFailure = false
        XCTAssertFalse(try KeepalivedExporter.export(spec, node: "lvs1", source: "ref.yaml").text.contains("sorry_server_inhibit"))
    }

    /// keepalived has no drain: a drained server is written with the weight 0 lb holds it at, with a comment
    /// and a warning, and imports back as weight 0 (a keepalived weight 0 is not a drain).
    func testDrainedRealServersExportWithWeightZero() throws {
        var spec = try Fixtures.reference()
        spec.vips[0].services[0].realServers[0].weight = 3
        spec.vips[0].services[0].realServers[0].drain = true
        spec.vips[0].services[0].realServers[0].drainDeadline = 1_796_180_400
        let export = try KeepalivedExporter.export(spec, node: "lvs1", source: "ref.yaml")
        let message = "real server 192.168.1.102:80 of 192.168.1.200:80/tcp is drained by lb (spec weight 3, deadline 2026-12-02T03:00:00Z): keepalived has no drain, so it is written with weight 0 and stays after its connections end"
        XCTAssertEqual(export.warnings, [message])
        XCTAssertTrue(export.text.contains("""
            real_server 192.168.1.102 80 {
                # \(message)
                weight 0
                TCP_CHECK {
        """), export.text)
        try assertKeepalivedAccepts(export.text, interfaces: ["eth0"])

        var expected = spec
        expected.vips[0].services[0].realServers[0] = RealServer(node: "rs1", weight: 0)
        try roundTrip(spec, directors: ["lvs1", "lvs2"], expecting: expected)
    }

    /// hysteresis, quorum_up, quorum_down, alpha and omega on a service, and ops on a UDP one.
    func testQuorumFamilyAndOpsRoundTrip() throws {
        var spec = try load(Self.busy)
        spec.vips[0].services[0].hysteresis = 1
        spec.vips[0].services[0].quorumUp = "/usr/bin/logger -t lb quorum up"
        spec.vips[0].services[0].quorumDown = "/usr/bin/logger -t lb quorum down"
        spec.vips[0].services[0].alpha = true
        spec.vips[0].services[0].omega = true
        var udp = VirtualService(port: 53, protocol: .udp, scheduler: .rr, healthCheck: HealthCheck(kind: .udp), ops: true)
        udp.realServers = [RealServer(node: "rs1"), RealServer(node: "rs3")]
        spec.vips[0].services.append(udp)
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        try roundTrip(spec, directors: ["d1", "d2"], interfaces: ["eth0", "eth1"])
    }

    /// keepalived counts quorum in the weights it is given, so a drained server's 0 counts there.
    func testQuorumIsCountedInTheExportedWeights() throws {
        var spec = try load(Self.busy)
        spec.vips[0].services[0].realServers[0].drain = true
        let export = try KeepalivedExporter.export(spec, node: "d1", source: "busy.yaml")
        XCTAssertTrue(export.warnings.contains("keepalived counts quorum in weight: quorum 2 (servers) of 10.1.0.100:443/tcp is written as 1, the weight any 2 of its real servers reach"), "\(export.warnings)")
        XCTAssertFalse(export.text.contains("quorum 1\n"), export.text)
        try assertKeepalivedAccepts(export.text, interfaces: ["eth0", "eth1"])
    }

    /// The udp, dns, smtp and ping checks, with their keys and without (keepalived's defaults then), export
    /// to checkers keepalived -t accepts silently and import back the same.
    func testProtocolChecksRoundTrip() throws {
        let checks = [
            HealthCheck(kind: .udp, port: 5060, payload: "4f 50", requireReply: true, reply: "53 xx", minReplyLength: 2, maxReplyLength: 900),
            HealthCheck(kind: .udp, requireReply: true),
            HealthCheck(kind: .dns, port: 53, retries: 4, queryType: "AAAA", queryName: "www.example.com."),
            HealthCheck(kind: .dns),
            HealthCheck(kind: .smtp, port: 25, heloName: "lvs.example.com"),
            HealthCheck(kind: .smtp),
            HealthCheck(kind: .ping, intervalMilliseconds: 2000, connectTimeoutMilliseconds: 500),
        ]
        for check in checks {
            var spec = try Fixtures.reference()
            spec.vips[0].services[0].healthCheck = check
            try roundTrip(spec, directors: ["lvs1", "lvs2"])
        }
    }

    func testWebSocketChecksBecomeTCPChecks() throws {
        var spec = try Fixtures.reference()
        spec.vips[0].services[0].healthCheck = HealthCheck(kind: .websocket, path: "/ws")
        let export = try KeepalivedExporter.export(spec, node: "lvs1", source: "ws.yaml")
        XCTAssertEqual(export.warnings, ["keepalived has no WebSocket check: the websocket health checks are exported as TCP connect checks"])
        XCTAssertTrue(export.text.contains("# keepalived has no WebSocket check"))
        try assertKeepalivedAccepts(export.text, interfaces: ["eth0"])
    }

    func testExportRefusesNodesThatAreNoDirector() throws {
        let spec = try Fixtures.reference()
        XCTAssertThrowsError(try KeepalivedExporter.export(spec, node: "rs1", source: "ref.yaml")) { error in
            XCTAssertEqual("\(error)", "node 'rs1' directs no VIP, so it runs no keepalived; for a real server use lbctl export realserver")
        }
        XCTAssertThrowsError(try KeepalivedExporter.export(spec, node: "lvs9", source: "ref.yaml")) { error in
            XCTAssertEqual("\(error)", "no node 'lvs9' in ref.yaml; did you mean 'lvs1'?")
        }
    }

    // MARK: helpers

    func load(_ yaml: String) throws -> ClusterSpec {
        let loaded = SpecLoader.load(yaml: yaml, file: "scenario.yaml")
        return try XCTUnwrap(loaded.spec, loaded.diagnostics.map(\.description).joined(separator: "\n"))
    }
}
