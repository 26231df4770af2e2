import XCTest
import Foundation
@testable import LBSpec
import LBSpecYAML

final class HostPlanTests: XCTestCase {

    func plan(_ spec: ClusterSpec, _ node: String, file: StaticString = #filePath, line: UInt = #line) throws -> HostPlan {
        try XCTUnwrap(HostPlanner.plan(spec, node: node), "no plan for \(node)", file: file, line: line)
    }

    static let referenceCheck = HealthCheck(kind: .tcp, port: nil, path: "/", expectStatus: 200, host: nil, command: nil,
                                            intervalMilliseconds: 5000, connectTimeoutMilliseconds: 3000, retries: 3,
                                            retryDelayMilliseconds: 1000)

    static let arpSysctls: [(String, String)] = [
        ("net.ipv4.conf.all.arp_ignore", "1"), ("net.ipv4.conf.all.arp_announce", "2"),
        ("net.ipv4.conf.eth0.arp_ignore", "1"), ("net.ipv4.conf.eth0.arp_announce", "2"),
    ]

    func assertSysctls(_ sysctls: [Sysctl], _ expected: [(String, String)], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(sysctls.map { "\($0.key)=\($0.value)" }, expected.map { "\($0.0)=\($0.1)" }, file: file, line: line)
        for s in sysctls { XCTAssertFalse(s.purpose.isEmpty, "\(s.key) explains itself", file: file, line: line) }
    }

    // MARK: the reference scenario

    func assertDirector(_ p: HostPlan, node: String, priority: Int, state: String, source: String,
                        file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(p.node, node, file: file, line: line)
        XCTAssertEqual(p.roles, [.director], file: file, line: line)
        XCTAssertEqual(p.addresses, [], "a director holds the VIP through VRRP, not permanently", file: file, line: line)
        // DR with wrr needs no sysctl; persistence needs one, so a drained real server loses its persistent clients' new connections.
        assertSysctls(p.sysctls, [("net.ipv4.vs.expire_quiescent_template", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")], file: file, line: line)

        XCTAssertEqual(p.vrrpInstances.count, 1, file: file, line: line)
        let vi = try XCTUnwrap(p.vrrpInstances.first, file: file, line: line)
        XCTAssertEqual(vi.name, "VI_51", file: file, line: line)
        XCTAssertEqual(vi.interface, "eth0", file: file, line: line)
        XCTAssertEqual(vi.routerID, 51, file: file, line: line)
        XCTAssertEqual(vi.version, 2, file: file, line: line)
        XCTAssertEqual(vi.priority, priority, file: file, line: line)
        XCTAssertEqual(vi.advertIntervalCentiseconds, 100, file: file, line: line)
        XCTAssertEqual(vi.authPassword, "s3cret", file: file, line: line)
        XCTAssertTrue(vi.preempt, file: file, line: line)
        XCTAssertEqual(vi.preemptDelaySeconds, 0, file: file, line: line)
        XCTAssertEqual(vi.sourceAddress, ip(source), file: file, line: line)
        XCTAssertEqual(vi.unicastPeers, [], file: file, line: line)
        XCTAssertEqual(vi.virtualAddresses, [cidr("192.168.1.200/24")], file: file, line: line)
        XCTAssertEqual(vi.gratuitousARP, GratuitousARP(count: 5, repeatDelaySeconds: 5, refreshSeconds: 0), file: file, line: line)
        XCTAssertEqual(vi.expectedState, state, file: file, line: line)

        XCTAssertEqual(p.ipvsServices.count, 1, file: file, line: line)
        let s = try XCTUnwrap(p.ipvsServices.first, file: file, line: line)
        XCTAssertEqual(s.vip, "web", file: file, line: line)
        XCTAssertEqual(s.address, ip("192.168.1.200"), file: file, line: line)
        XCTAssertEqual(s.port, 80, file: file, line: line)
        XCTAssertEqual(s.protocol, .tcp, file: file, line: line)
        XCTAssertEqual(s.key, "192.168.1.200:80/tcp", file: file, line: line)
        XCTAssertEqual(s.scheduler, .wrr, file: file, line: line)
        XCTAssertEqual(s.schedulerFlags, [], file: file, line: line)
        XCTAssertEqual(s.persistence, Persistence(timeoutSeconds: 3600, netmask: ip("255.255.255.255")), file: file, line: line)
        XCTAssertEqual(s.quorum, 1, file: file, line: line)
        XCTAssertNil(s.sorryServer, file: file, line: line)
        XCTAssertEqual(s.destinations, [
            IPVSDestinationPlan(address: ip("192.168.1.102"), port: 80, weight: 1, forwarding: .dr, node: "rs1"),
            IPVSDestinationPlan(address: ip("192.168.1.103"), port: 80, weight: 1, forwarding: .dr, node: "rs2"),
        ], file: file, line: line)

        XCTAssertEqual(p.healthChecks, [
            HealthCheckPlan(service: "192.168.1.200:80/tcp", target: Endpoint(address: ip("192.168.1.102"), port: 80), check: Self.referenceCheck),
            HealthCheckPlan(service: "192.168.1.200:80/tcp", target: Endpoint(address: ip("192.168.1.103"), port: 80), check: Self.referenceCheck),
        ], file: file, line: line)
        XCTAssertEqual(p.ipvsTimeouts, IPVSTimeouts(tcp: 7260, tcpFin: 120, udp: 300), file: file, line: line)
        XCTAssertEqual(p.syncDaemons, [
            SyncDaemonPlan(state: .master, interface: "eth0", syncID: 0),
            SyncDaemonPlan(state: .backup, interface: "eth0", syncID: 0),
        ], file: file, line: line)
    }

    func testReferenceDirectors() throws {
        let spec = try loadValid(referenceYAML)
        try assertDirector(plan(spec, "lvs1"), node: "lvs1", priority: 100, state: "MASTER", source: "192.168.1.100")
        try assertDirector(plan(spec, "lvs2"), node: "lvs2", priority: 99, state: "BACKUP", source: "192.168.1.101")
    }

    func testReferenceRealServers() throws {
        let spec = try loadValid(referenceYAML)
        for name in ["rs1", "rs2"] {
            let p = try plan(spec, name)
            XCTAssertEqual(p.node, name)
            XCTAssertEqual(p.roles, [.realServer])
            XCTAssertEqual(p.addresses.count, 1)
            let a = try XCTUnwrap(p.addresses.first)
            XCTAssertEqual(a.interface, "lo")
            XCTAssertEqual(a.address, cidr("192.168.1.200/32"), "a host route, not the subnet's /24")
            XCTAssertEqual(a.label, "lo:0")
            XCTAssertTrue(a.purpose.contains("VIP 'web'"), a.purpose)
            assertSysctls(p.sysctls, Self.arpSysctls)
            XCTAssertEqual(p.vrrpInstances, [])
            XCTAssertEqual(p.ipvsServices, [])
            XCTAssertNil(p.ipvsTimeouts)
            XCTAssertEqual(p.syncDaemons, [])
            XCTAssertEqual(p.healthChecks, [])
        }
    }

    func testPlansForEveryNodeInOrder() throws {
        let spec = try loadValid(referenceYAML)
        let plans = HostPlanner.plans(spec)
        XCTAssertEqual(plans.map(\.node), ["lvs1", "lvs2", "rs1", "rs2"])
        XCTAssertEqual(plans.map(\.roles), [[.director], [.director], [.realServer], [.realServer]])
        XCTAssertEqual(plans[0], HostPlanner.plan(spec, node: "lvs1"), "planning is pure")
    }

    func testUnknownNodeHasNoPlan() throws {
        let spec = try loadValid(referenceYAML)
        XCTAssertNil(HostPlanner.plan(spec, node: "lvs3"))
        XCTAssertNil(HostPlanner.plan(spec, node: ""))
    }

    func testNodeWithoutRolesHasAnEmptyPlan() throws {
        let spec = try loadValid(reference(("  - { name: rs2,  address: 192.168.1.103/24, interface: eth0 }\n",
                                            "  - { name: rs2,  address: 192.168.1.103/24, interface: eth0 }\n  - { name: spare, address: 192.168.1.104/24 }\n")))
        XCTAssertEqual(try plan(spec, "spare"), HostPlan(node: "spare"))
    }

    // MARK: VRRP variants

    func testUnicastPeersAreTheOtherDirectors() throws {
        var spec = try loadValid(reference(("      advert_interval: 1s", "      unicast: true")))
        XCTAssertEqual(try plan(spec, "lvs1").vrrpInstances.first?.unicastPeers, [ip("192.168.1.101")])
        XCTAssertEqual(try plan(spec, "lvs2").vrrpInstances.first?.unicastPeers, [ip("192.168.1.100")])
        spec = try loadValid(reference(("      advert_interval: 1s", "      unicast: true"),
                                       ("        - { node: lvs2, priority: 99 }\n",
                                        "        - { node: lvs2, priority: 99 }\n        - { node: rs1, priority: 50 }\n"),
                                       ("{ node: rs1, weight: 1 }", "{ node: rs2, port: 80 }"),
                                       ("          - { node: rs2, weight: 1 }\n", "")))
        XCTAssertEqual(try plan(spec, "lvs2").vrrpInstances.first?.unicastPeers, [ip("192.168.1.100"), ip("192.168.1.102")])
        XCTAssertEqual(try plan(spec, "rs1").vrrpInstances.first?.expectedState, "BACKUP")
    }

    func testDirectorInterfaceOverride() throws {
        let spec = try loadValid(reference(("{ node: lvs1, priority: 100 }", "{ node: lvs1, priority: 100, interface: eth1 }")))
        let p = try plan(spec, "lvs1")
        XCTAssertEqual(p.vrrpInstances.first?.interface, "eth1")
        XCTAssertEqual(p.syncDaemons.map(\.interface), ["eth0", "eth0"], "sync follows the node's interface unless ipvs.sync says otherwise")
        XCTAssertEqual(try plan(spec, "lvs2").vrrpInstances.first?.interface, "eth0")
    }

    /// A VIP on another interface than the adverts' goes there on each director whose adverts use another
    /// one; the plan's JSON carries it only then, so other plans keep the JSON they had.
    func testVIPOnItsOwnInterface() throws {
        let spec = try loadValid(reference(("    address: 192.168.1.200/24", "    address: 203.0.113.10/24\n    interface: eth1"),
                                           ("{ node: lvs2, priority: 99 }", "{ node: lvs2, priority: 99, interface: eth1 }")))
        let vip = ip("203.0.113.10")
        let one = try XCTUnwrap(try plan(spec, "lvs1").vrrpInstances.first)
        XCTAssertEqual(one.interface, "eth0")
        XCTAssertEqual(one.vipInterfaces, [vip: "eth1"])
        XCTAssertEqual(one.interface(of: vip), "eth1")
        let two = try XCTUnwrap(try plan(spec, "lvs2").vrrpInstances.first)
        XCTAssertEqual(two.interface, "eth1")
        XCTAssertEqual(two.vipInterfaces, [:], "lvs2 advertises on eth1 already")
        let json = String(decoding: try JSONEncoder().encode(one), as: UTF8.self)
        XCTAssertTrue(json.contains("\"vipInterfaces\":{\"203.0.113.10\":\"eth1\"}"), json)
        XCTAssertEqual(try JSONDecoder().decode(VRRPInstancePlan.self, from: Data(json.utf8)), one)
        XCTAssertFalse(String(decoding: try JSONEncoder().encode(two), as: UTF8.self).contains("vipInterfaces"))
        let bad = json.replacingOccurrences(of: "\"203.0.113.10\":", with: "\"eth1\":")
        XCTAssertThrowsError(try JSONDecoder().decode(VRRPInstancePlan.self, from: Data(bad.utf8)))
    }

    static let web2 = """
      - name: web2
        address: 192.168.1.201/24
        vrrp:
          router_id: 51
          advert_interval: 1s
          auth: { password: s3cret }
          directors:
            - { node: lvs1, priority: 100 }
            - { node: lvs2, priority: 99 }
        services:
          - port: 443
            real_servers:
              - { node: rs1 }
              - { node: rs2 }

    """

    func testVIPsSharingARouterIDShareOneInstance() throws {
        let spec = try loadValid(referenceYAML + Self.web2)
        for (name, priority) in [("lvs1", 100), ("lvs2", 99)] {
            let p = try plan(spec, name)
            XCTAssertEqual(p.vrrpInstances.count, 1)
            XCTAssertEqual(p.vrrpInstances.first?.name, "VI_51")
            XCTAssertEqual(p.vrrpInstances.first?.priority, priority)
            XCTAssertEqual(p.vrrpInstances.first?.virtualAddresses, [cidr("192.168.1.200/24"), cidr("192.168.1.201/24")])
            XCTAssertEqual(p.ipvsServices.map(\.key), ["192.168.1.200:80/tcp", "192.168.1.201:443/tcp"])
            XCTAssertEqual(p.ipvsServices.map(\.vip), ["web", "web2"])
            XCTAssertEqual(p.healthChecks.count, 2, "only the first service has a health check")
        }
    }

    func testRealServerOfTwoVIPsGetsOneLabelEach() throws {
        let spec = try loadValid(referenceYAML + Self.web2)
        let p = try plan(spec, "rs1")
        XCTAssertEqual(p.roles, [.realServer])
        XCTAssertEqual(p.addresses.map(\.interface), ["lo", "lo"])
        XCTAssertEqual(p.addresses.map(\.address), [cidr("192.168.1.200/32"), cidr("192.168.1.201/32")])
        XCTAssertEqual(p.addresses.map(\.label), ["lo:0", "lo:1"])
        assertSysctls(p.sysctls, Self.arpSysctls)
    }

    func testDirectorOfOneVIPAndRealServerOfAnother() throws {
        let api = """
          - name: api
            address: 192.168.1.210/24
            vrrp:
              router_id: 52
              directors:
                - { node: rs1, priority: 100 }
                - { node: rs2, priority: 99 }
            services:
              - port: 8080
                real_servers:
                  - { node: lvs1 }
                  - { node: lvs2 }

        """
        let spec = try loadValid(referenceYAML + api)

        let lvs1 = try plan(spec, "lvs1")
        XCTAssertEqual(lvs1.roles, [.director, .realServer])
        XCTAssertEqual(lvs1.vrrpInstances.map(\.name), ["VI_51"])
        XCTAssertEqual(lvs1.ipvsServices.map(\.key), ["192.168.1.200:80/tcp"])
        XCTAssertEqual(lvs1.addresses.map(\.address), [cidr("192.168.1.210/32")])
        XCTAssertEqual(lvs1.addresses.map(\.label), ["lo:0"])
        assertSysctls(lvs1.sysctls, [("net.ipv4.vs.expire_quiescent_template", "1")] + Self.arpSysctls + [("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertNotNil(lvs1.ipvsTimeouts)
        XCTAssertEqual(lvs1.syncDaemons.count, 2)

        let rs1 = try plan(spec, "rs1")
        XCTAssertEqual(rs1.roles, [.director, .realServer])
        XCTAssertEqual(rs1.vrrpInstances.map(\.name), ["VI_52"])
        XCTAssertEqual(rs1.vrrpInstances.first?.priority, 100)
        XCTAssertEqual(rs1.vrrpInstances.first?.expectedState, "MASTER")
        XCTAssertEqual(rs1.vrrpInstances.first?.virtualAddresses, [cidr("192.168.1.210/24")])
        XCTAssertEqual(rs1.ipvsServices.map(\.key), ["192.168.1.210:8080/tcp"])
        XCTAssertEqual(rs1.ipvsServices.first?.destinations.map(\.node), ["lvs1", "lvs2"])
        XCTAssertEqual(rs1.addresses.map(\.address), [cidr("192.168.1.200/32")])
        XCTAssertEqual(rs1.addresses.map(\.label), ["lo:0"])
        XCTAssertEqual(rs1.ipvsTimeouts, IPVSTimeouts())
        XCTAssertEqual(rs1.syncDaemons.map(\.state), [.master, .backup])
    }

    // MARK: forwarding and schedulers

    func testNATAddsIPForwardOnDirectorsOnly() throws {
        let spec = try loadValid(reference(("        forwarding: dr", "        forwarding: nat")))
        let lvs1 = try plan(spec, "lvs1")
        assertSysctls(lvs1.sysctls, [("net.ipv4.ip_forward", "1"), ("net.ipv4.vs.expire_quiescent_template", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertEqual(lvs1.ipvsServices.first?.destinations.map(\.forwarding), [.nat, .nat])
        let rs1 = try plan(spec, "rs1")
        XCTAssertEqual(rs1.roles, [.realServer])
        XCTAssertEqual(rs1.addresses, [], "NAT real servers need no VIP")
        XCTAssertEqual(rs1.sysctls, [], "NAT real servers need no ARP sysctls")
    }

    /// keepalived's lvs_method per real server: each destination is forwarded its own way, each real
    /// server gets what its way needs (the VIP on lo for DR, nothing for NAT), and one NAT server is
    /// enough for the directors to forward.
    func testEachRealServerMayBeReachedItsOwnWay() throws {
        let spec = try loadValid(reference(("          - { node: rs2, weight: 1 }", "          - { node: rs2, weight: 1, port: 8080, forwarding: nat }")))
        let lvs1 = try plan(spec, "lvs1")
        XCTAssertEqual(lvs1.ipvsServices.first?.destinations.map { "\($0.address):\($0.port) \($0.forwarding)" }, ["192.168.1.102:80 dr", "192.168.1.103:8080 nat"])
        assertSysctls(lvs1.sysctls, [("net.ipv4.ip_forward", "1"), ("net.ipv4.vs.expire_quiescent_template", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertEqual(try plan(spec, "rs1").addresses.map(\.interface), ["lo"])
        let rs2 = try plan(spec, "rs2")
        XCTAssertEqual(rs2.roles, [.realServer])
        XCTAssertEqual(rs2.addresses, [], "a NAT real server needs no VIP")
        XCTAssertEqual(rs2.sysctls, [])
    }

    /// The sorry server's own forwarding (sorry_server_lvs_method) and inhibit reach the plan; without them
    /// it is reached as the service's real servers are.
    func testTheSorryServerIsPlannedWithItsForwardingAndInhibit() throws {
        let sorry = "        real_servers:"
        let plain = try plan(try loadValid(reference((sorry, "        sorry_server: 192.168.1.150:80\n" + sorry))), "lvs1").ipvsServices[0]
        XCTAssertEqual(plain.sorryServerForwarding, .dr)
        XCTAssertNil(plain.sorryServerInhibit)
        let own = try plan(try loadValid(reference((sorry, "        sorry_server: { address: 192.168.1.150, port: 8080, forwarding: nat, inhibit: true }\n" + sorry))), "lvs1")
        XCTAssertEqual(own.ipvsServices[0].sorryServer, Endpoint(address: ip("192.168.1.150"), port: 8080))
        XCTAssertEqual(own.ipvsServices[0].sorryServerForwarding, .nat)
        XCTAssertEqual(own.ipvsServices[0].sorryServerInhibit, true)
        XCTAssertTrue(own.sysctls.contains { $0.key == "net.ipv4.ip_forward" }, "a NAT sorry server is forwarded to")
    }

    func testNATOverIPv6EnablesIPv6Forwarding() throws {
        let spec = try loadValid(edited(ipv6YAML, [("        forwarding: dr", "        forwarding: nat")]))
        assertSysctls(try plan(spec, "lvs1").sysctls, [("net.ipv6.conf.all.forwarding", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertEqual(try plan(spec, "rs1").sysctls, [])
    }

    func testMaglevAddsSloppyTCP() throws {
        let spec = try loadValid(reference(("        scheduler: wrr", "        scheduler: mh")))
        let lvs1 = try plan(spec, "lvs1")
        assertSysctls(lvs1.sysctls, [("net.ipv4.vs.expire_quiescent_template", "1"), ("net.ipv4.vs.sloppy_tcp", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertEqual(lvs1.ipvsServices.first?.scheduler, .mh)
        assertSysctls(try plan(spec, "rs1").sysctls, Self.arpSysctls)
    }

    func testTunnellingUsesTunl0AndRelaxesReversePathFilter() throws {
        let spec = try loadValid(reference(("        forwarding: dr", "        forwarding: tun")))
        let rs1 = try plan(spec, "rs1")
        XCTAssertEqual(rs1.addresses.map(\.interface), ["tunl0"])
        XCTAssertEqual(rs1.addresses.map(\.address), [cidr("192.168.1.200/32")])
        XCTAssertEqual(rs1.addresses.map(\.label), [nil])
        assertSysctls(rs1.sysctls, [("net.ipv4.conf.tunl0.rp_filter", "0"), ("net.ipv4.conf.all.rp_filter", "0")] + Self.arpSysctls)
        assertSysctls(try plan(spec, "lvs1").sysctls, [("net.ipv4.vs.expire_quiescent_template", "1"), ("net.ipv4.vs.expire_nodest_conn", "1")])
        XCTAssertEqual(try plan(spec, "lvs1").ipvsServices.first?.destinations.map(\.forwarding), [.tun, .tun])
    }

    func testIPv6RealServerHasNoLabelAndNoARPSysctls() throws {
        let spec = try loadValid(ipv6YAML)
        let rs1 = try plan(spec, "rs1")
        XCTAssertEqual(rs1.addresses.map(\.address), [cidr("2001:db8::200/128")])
        XCTAssertEqual(rs1.addresses.map(\.label), [nil])
        XCTAssertEqual(rs1.sysctls, [])
        XCTAssertEqual(try plan(spec, "lvs1").vrrpInstances.first?.advertIntervalCentiseconds, 50)
    }

    // MARK: cluster-wide IPVS settings and health checks

    func testIPVSSettingsReachDirectors() throws {
        var spec = try loadValid(referenceYAML + "ipvs:\n  timeouts: { tcp: 2h, tcpfin: 60, udp: 30 }\n  sync: { sync_id: 7, interface: eth2 }\n")
        var lvs1 = try plan(spec, "lvs1")
        XCTAssertEqual(lvs1.ipvsTimeouts, IPVSTimeouts(tcp: 7200, tcpFin: 60, udp: 30))
        XCTAssertEqual(lvs1.syncDaemons, [SyncDaemonPlan(state: .master, interface: "eth2", syncID: 7),
                                          SyncDaemonPlan(state: .backup, interface: "eth2", syncID: 7)])
        spec = try loadValid(referenceYAML + "ipvs:\n  sync: { enabled: false }\n")
        lvs1 = try plan(spec, "lvs1")
        XCTAssertEqual(lvs1.syncDaemons, [])
        XCTAssertEqual(lvs1.ipvsTimeouts, IPVSTimeouts())
    }

    func testHealthCheckPortOverridesTarget() throws {
        let spec = try loadValid(reference(("{ type: tcp, interval: 5s, connect_timeout: 3s, retries: 3 }",
                                            "{ type: http, port: 8081, path: /healthz, host: web.example.com }")))
        let checks = try plan(spec, "lvs1").healthChecks
        XCTAssertEqual(checks.map(\.target.description), ["192.168.1.102:8081", "192.168.1.103:8081"])
        XCTAssertEqual(checks.map(\.destination.description), ["192.168.1.102:80", "192.168.1.103:80"], "results speak for the IPVS destination")
        XCTAssertEqual(checks.first?.check.path, "/healthz")
        XCTAssertEqual(checks.first?.check.host, "web.example.com")
        XCTAssertEqual(checks.first?.check.kind, .http)
    }

    func testDestinationsKeepWeightsAndBareAddresses() throws {
        let spec = try loadValid(reference(("        forwarding: dr", "        forwarding: nat"),
                                           ("{ node: rs1, weight: 1 }", "{ node: rs1, weight: 0, port: 8080 }"),
                                           ("{ node: rs2, weight: 1 }", "{ address: 192.168.1.150, weight: 3 }")))
        XCTAssertEqual(try plan(spec, "lvs1").ipvsServices.first?.destinations, [
            IPVSDestinationPlan(address: ip("192.168.1.102"), port: 8080, weight: 0, forwarding: .nat, node: "rs1"),
            IPVSDestinationPlan(address: ip("192.168.1.150"), port: 80, weight: 3, forwarding: .nat, node: nil),
        ])
    }

    /// The planned weight stays the spec's while draining (the agent applies 0 itself); inhibit_on_failure is
    /// resolved per destination: the real server's own setting, else the service's.
    func testDestinationsCarryDrainAndTheEffectiveInhibitOnFailure() throws {
        var spec = try loadValid(referenceYAML)
        spec.vips[0].services[0].inhibitOnFailure = true
        spec.vips[0].services[0].realServers[0].weight = 3
        spec.vips[0].services[0].realServers[0].drain = true
        spec.vips[0].services[0].realServers[0].drainDeadline = 1_796_180_400
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = false
        XCTAssertEqual(try plan(spec, "lvs1").ipvsServices.first?.destinations, [
            IPVSDestinationPlan(address: ip("192.168.1.102"), port: 80, weight: 3, forwarding: .dr, node: "rs1",
                                drain: true, drainDeadline: 1_796_180_400, inhibitOnFailure: true),
            IPVSDestinationPlan(address: ip("192.168.1.103"), port: 80, weight: 1, forwarding: .dr, node: "rs2",
                                drain: false, drainDeadline: nil, inhibitOnFailure: false),
        ])
        // A drained server is still checked: its health is reported while its connections drain.
        XCTAssertEqual(try plan(spec, "lvs1").healthChecks.count, 2)

        spec.vips[0].services[0].inhibitOnFailure = false
        spec.vips[0].services[0].realServers[0].inhibitOnFailure = true
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = nil
        XCTAssertEqual(try plan(spec, "lvs2").ipvsServices.first?.destinations.map(\.inhibitOnFailure), [true, false])
    }

    /// A real server may be written by the address of a cluster node; the validator accepts that without a
    /// warning (it is a node), so the planner must give that node its real-server part too.
    func testRealServerWrittenAsANodeAddressGetsTheVIP() throws {
        let spec = try loadValid(reference(("{ node: rs1, weight: 1 }", "{ address: 192.168.1.102, weight: 1 }")))
        XCTAssertEqual(loadSpec(reference(("{ node: rs1, weight: 1 }", "{ address: 192.168.1.102, weight: 1 }"))).diagnostics, [])
        let rs1 = try plan(spec, "rs1")
        XCTAssertEqual(rs1.roles, [.realServer], "rs1 is a DR real server and needs the VIP on lo")
        XCTAssertEqual(rs1.addresses.map(\.address), [cidr("192.168.1.200/32")])
        assertSysctls(rs1.sysctls, Self.arpSysctls)
    }

    // MARK: JSON

    func testPlanJSONUsesSnakeCase() throws {
        let spec = try loadValid(referenceYAML)
        let json = String(decoding: try SpecJSON.encoder().encode(try plan(spec, "lvs1")), as: UTF8.self)
        for key in [#""vrrp_instances":"#, #""ipvs_services":"#, #""advert_interval_centiseconds":100"#, #""router_id":51"#,
                    #""expected_state":"MASTER""#, #""virtual_addresses":["192.168.1.200/24"]"#, #""sync_daemons":"#] {
            XCTAssertTrue(json.contains(key), "\(key) in \(json)")
        }
        XCTAssertEqual(try SpecJSON.encoder().encode(try plan(spec, "lvs1")), try SpecJSON.encoder().encode(try plan(spec, "lvs1")),
                       "equal values give equal bytes")
    }

    /// Plans and specs that use neither drain nor inhibit_on_failure have the JSON they had before those
    /// existed, so earlier `lbctl plan -o json` output and signed documents still decode to the same values.
    func testDrainAndInhibitAreInTheJSONOnlyWhenSet() throws {
        var spec = try loadValid(referenceYAML)
        let plain = String(decoding: try SpecJSON.encoder().encode(try plan(spec, "lvs1")), as: UTF8.self)
        let plainSpec = String(decoding: try SpecJSON.encoder().encode(spec), as: UTF8.self)
        for json in [plain, plainSpec] {
            XCTAssertFalse(json.contains("drain"), json)
            XCTAssertFalse(json.contains("inhibit"), json)
        }
        XCTAssertTrue(plain.contains(#"{"address":"192.168.1.102","forwarding":"dr","node":"rs1","port":80,"weight":1}"#), plain)

        spec.vips[0].services[0].inhibitOnFailure = true
        spec.vips[0].services[0].realServers[0].drain = true
        spec.vips[0].services[0].realServers[0].drainDeadline = 1_796_180_400
        spec.vips[0].services[0].realServers[1].inhibitOnFailure = false
        let p = try plan(spec, "lvs1")
        let json = String(decoding: try SpecJSON.encoder().encode(p), as: UTF8.self)
        XCTAssertTrue(json.contains(#"{"address":"192.168.1.102","drain":true,"drain_deadline":1796180400,"forwarding":"dr","inhibit_on_failure":true,"node":"rs1","port":80,"weight":1}"#), json)
        XCTAssertTrue(json.contains(#"{"address":"192.168.1.103","forwarding":"dr","node":"rs2","port":80,"weight":1}"#), json)
        XCTAssertEqual(try SpecJSON.decoder().decode(HostPlan.self, from: Data(json.utf8)), p)

        let specJSON = String(decoding: try SpecJSON.encoder().encode(spec), as: UTF8.self)
        XCTAssertTrue(specJSON.contains(#"{"drain":true,"drain_deadline":1796180400,"node":"rs1","weight":1}"#), specJSON)
        XCTAssertTrue(specJSON.contains(#"{"inhibit_on_failure":false,"node":"rs2","weight":1}"#), specJSON)
        XCTAssertTrue(specJSON.contains(#""health_check":{"#) && specJSON.contains(#""inhibit_on_failure":true,"persistence""#), specJSON)
        XCTAssertEqual(try SpecJSON.decoder().decode(ClusterSpec.self, from: Data(specJSON.utf8)), spec)
    }

    func testPlanJSONRoundTrips() throws {
        let spec = try loadValid(referenceYAML + Self.web2)
        for p in HostPlanner.plans(spec) {
            let data = try SpecJSON.encoder().encode(p)
            XCTAssertEqual(try SpecJSON.decoder().decode(HostPlan.self, from: data), p, "plan of \(p.node)")
        }
    }

    func testSpecJSONRoundTrips() throws {
        let spec = try loadValid(referenceYAML + "notifications:\n  webhook: https://hooks.example.com/lb\n")
        let data = try SpecJSON.encoder(pretty: true).encode(spec)
        XCTAssertEqual(try SpecJSON.decoder().decode(ClusterSpec.self, from: data), spec)
    }
}
