import Foundation
import LBKeepalived
import LBSpec
import XCTest

/// keepalived.conf files as operators have them (Resources/corpus), each one keepalived runs: `keepalived -t`
/// exits 0, or 5 for complaints that keepalived itself, when it runs, passes over. Each imports with the
/// warnings it deserves and no error, the spec validates, its export passes `keepalived -t` without a word,
/// and importing the export gives the spec back.
final class CorpusTests: XCTestCase {
    /// A tutorial's WebSocket setup for two directors: keepalived ignores `persistence_granularity
    /// SOURCE_IP` (per-client persistence stays), `nb_get_replies` (no such keyword) and TCP_CHECK's
    /// `nb_get_retry` (2.2.7 reads it in HTTP_GET only); notification_email goes to local mailboxes.
    func testWebSocketTutorial() throws {
        let granularity = "warning: persistence_granularity 'SOURCE_IP' is not a netmask such as 255.255.255.255 (per client): keepalived -t reports it, and keepalived, when it runs, ignores the line, so persistence, if any, is per client (netmask 255.255.255.255); imported as that"
        let replies = "warning: unknown keyword 'nb_get_replies' in TCP_CHECK: keepalived ignores the line when it runs (keepalived -t reports it); not imported"
        let retry = "warning: unknown keyword 'nb_get_retry' in TCP_CHECK: keepalived 2.2.7 reads it in HTTP_GET and SSL_GET only (it was renamed retry), so it ignores the line when it runs (keepalived -t reports it), and the checker keeps the enclosing block's retry, else its default 1; imported as that (write retry 3 to retry that often)"
        // The tutorial sets up notification_email but no smtp_alert, so keepalived mails no VRRP transition.
        let mail = "warning: keepalived mails no transition of vrrp_instance VI_1 without smtp_alert (off unless set, here or in global_defs); imported as vrrp.email: false (make it true to be mailed)"
        let spec = try check([("websocket-lvs1.conf", nil), ("websocket-lvs2.conf", nil)], [
            "websocket-lvs1.conf:18: \(mail)",
            "websocket-lvs1.conf:43: \(granularity)",
            "websocket-lvs1.conf:51: \(replies)",
            "websocket-lvs1.conf:52: \(retry)",
            "websocket-lvs1.conf:61: \(replies)",
            "websocket-lvs1.conf:62: \(retry)",
            "websocket-lvs2.conf:18: \(mail)",
            "websocket-lvs2.conf:43: \(granularity)",
            "websocket-lvs2.conf:51: \(replies)",
            "websocket-lvs2.conf:52: \(retry)",
            "websocket-lvs2.conf:61: \(replies)",
            "websocket-lvs2.conf:62: \(retry)",
        ])
        let service = try XCTUnwrap(spec.vips.first?.services.first)
        XCTAssertEqual(service.persistence, Persistence(timeoutSeconds: 3600, netmask: IPAddress("255.255.255.255")!))
        XCTAssertEqual(service.healthCheck?.retries, 2, "keepalived's retry 1: down after 2 failures")
        XCTAssertEqual(spec.notifications.email?.to, ["root", "admin"])
        XCTAssertEqual(spec.vips.first?.vrrp.email, false)
    }

    /// Misspelt keywords are ignored by keepalived, so the import goes on without them and names the
    /// keyword meant; a misspelt top-level block is dropped whole, as keepalived drops it.
    func testTypos() throws {
        let ignores = "keepalived ignores the line when it runs (keepalived -t reports it); not imported"
        let spec = try check([("typos.conf", nil)], [
            "typos.conf:6: warning: unknown keyword 'vrrp_garp_master_dealy' in global_defs (did you mean 'vrrp_garp_master_delay'?): \(ignores)",
            "typos.conf:9: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
            "typos.conf:14: warning: unknown keyword 'advert_intt' in vrrp_instance (did you mean 'advert_int'?): \(ignores)",
            "typos.conf:15: warning: unknown keyword 'nopremept' in vrrp_instance (did you mean 'nopreempt'?): \(ignores)",
            "typos.conf:27: warning: unknown keyword 'persistance_timeout' in virtual_server (did you mean 'persistence_timeout'?): \(ignores)",
            "typos.conf:30: warning: unknown keyword 'wieght' in real_server (did you mean 'weight'?): \(ignores)",
            "typos.conf:32: warning: unknown keyword 'conect_timeout' in TCP_CHECK (did you mean 'connect_timeout'?): \(ignores)",
            "typos.conf:37: warning: unknown keyword 'virtual_sever' in the top level (did you mean 'virtual_server'?): keepalived ignores the line when it runs, and its block (lines 38–44) as unknown top-level keywords too (keepalived -t reports them); not imported",
        ])
        let group = try XCTUnwrap(spec.vips.first?.vrrp)
        XCTAssertEqual(group.advertIntervalCentiseconds, 100, "advert_intt 2 is not read")
        XCTAssertTrue(group.preempt, "nopremept is not read")
        let services = spec.vips.flatMap(\.services)
        XCTAssertEqual(services.map(\.port), [80], "virtual_sever 443 is not read")
        XCTAssertNil(services[0].persistence)
        XCTAssertEqual(services[0].realServers.map(\.weight), [1])
        XCTAssertEqual(services[0].healthCheck?.connectTimeoutMilliseconds, 5000)
    }

    /// What lb does not carry is reported line by line and the rest imports.
    func testUnsupportedBlocks() throws {
        func ignored(_ what: String, _ why: String) -> String { "warning: ignored: \(what) (\(why))" }
        let priority = "a director's priority does not change"
        let spec = try check([("unsupported.conf", nil)], [
            "unsupported.conf:4: " + ignored("enable_dbus", "lb has no D-Bus interface; lbctl and the controller's API report state"),
            "unsupported.conf:5: " + ignored("enable_snmp_vrrp", "lb has no SNMP agent; lb-agent exports Prometheus metrics"),
            "unsupported.conf:12: " + ignored("static_ipaddress", "lb manages no static addresses on directors"),
            "unsupported.conf:16: " + ignored("static_routes", "lb manages no routes"),
            "unsupported.conf:20: " + ignored("static_rules", "lb manages no routing rules"),
            "unsupported.conf:24: " + ignored("linkbeat_interfaces", "lb watches no link beat: \(priority)"),
            "unsupported.conf:33: " + ignored("vrrp_track_process track_ws", "lb tracks no processes: \(priority)"),
            "unsupported.conf:38: " + ignored("bfd_instance peer", "lb has no BFD"),
            "unsupported.conf:42: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
            "unsupported.conf:52: " + ignored("virtual_routes", "lb manages no routes"),
            "unsupported.conf:55: " + ignored("virtual_rules", "lb manages no routing rules"),
            "unsupported.conf:61: " + ignored("track_process", "lb tracks no processes: \(priority)"),
            "unsupported.conf:64: " + ignored("track_bfd", "lb has no BFD"),
            "unsupported.conf:69: warning: VIP '192.168.1.201' has a single director: nothing takes over if it fails",
        ])
        XCTAssertEqual(spec.vips.map(\.address.description), ["192.168.1.200/24", "192.168.1.201/24"])
        XCTAssertEqual(spec.vips.flatMap(\.services).map(\.port), [80])
        XCTAssertEqual(spec.vips[0].vrrp.trackScripts, [TrackScript(name: "chk_ws", command: "/usr/bin/true", intervalSeconds: 2)],
                       "vrrp_script and track_script are imported: weight 0, so the instance faults while it fails")
        XCTAssertEqual(spec.vips.map(\.vrrp.syncGroup), ["VG_1", "VG_1"])
    }

    /// One file for both directors: each is read for its name, as keepalived reads it for its config id.
    func testConditionalConfiguration() throws {
        let spec = try check([("conditional.conf", "lvs1"), ("conditional.conf", "lvs2")], [])
        let group = try XCTUnwrap(spec.vips.first?.vrrp)
        XCTAssertEqual(group.directors, [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)])
        XCTAssertEqual(spec.nodes.prefix(2).map(\.address.description), ["192.168.1.100/24", "192.168.1.101/24"])
    }

    /// The same file read for one director only. Its unicast_peer is no director of the spec, so the
    /// export has no peer to write: it comes back as multicast.
    func testConditionalConfigurationForOneDirector() throws {
        let spec = try check([("conditional.conf", "lvs2")], roundTrip: { $0.vips[0].vrrp.unicast = false }, [
            "conditional.conf:10: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
            "conditional.conf:10: warning: unicast VRRP with one director has no peer to send to",
            "conditional.conf:21: warning: unicast_peer 192.168.1.100 is none of the imported directors of virtual_router_id 51 (import its keepalived.conf too); lb sends adverts only to the directors in the spec",
        ])
        XCTAssertEqual(spec.vips.first?.vrrp.directors, [Director(node: "lvs2", priority: 99)])
    }

    /// keepalived's preprocessor: definitions (from an included file, made per director with `@`, one of
    /// several lines) and ~SEQ give the spec of the file written out in full.
    func testDefinitionsAndSequences() throws {
        let spec = try check([("definitions.conf", "lvs1"), ("definitions.conf", "lvs2")], [])
        let vip = try XCTUnwrap(spec.vips.first)
        XCTAssertEqual(vip.address.description, "192.168.1.200/24")
        XCTAssertEqual(vip.vrrp.directors, [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)])
        XCTAssertEqual(spec.nodes.prefix(2).map(\.address.address.description), ["192.168.1.100", "192.168.1.101"])
        let service = try XCTUnwrap(vip.services.first)
        XCTAssertEqual(service.realServers.map { "\(($0.address ?? spec.node(named: $0.node ?? "")?.address.address).map(String.init(describing:)) ?? "?") \($0.weight)" },
                       ["192.168.1.102 2", "192.168.1.103 2", "192.168.1.104 2"])
        XCTAssertEqual(service.healthCheck?.connectTimeoutMilliseconds, 3000)
    }

    /// lvs_method per real server, and a sorry server with its own method and sorry_server_inhibit.
    func testForwardingPerRealServerAndSorryServer() throws {
        let spec = try check([("forwarding.conf", nil)], [
            "forwarding.conf:9: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
        ])
        let service = try XCTUnwrap(spec.vips.first?.services.first)
        XCTAssertEqual(service.forwarding, .dr)
        XCTAssertEqual(service.realServers.map(\.forwarding), [nil, .nat])
        XCTAssertEqual(service.realServers.map(\.port), [nil, 8080])
        XCTAssertEqual(service.sorryServer, Endpoint(address: IPAddress("192.168.1.150")!, port: 8080))
        XCTAssertEqual(service.sorryServerForwarding, .nat)
        XCTAssertTrue(service.sorryServerInhibit)
    }

    /// ops on a UDP service, quorum with hysteresis, quorum_up and quorum_down (quoted or not: the
    /// rest of the line either way), alpha and omega.
    func testQuorumFamily() throws {
        let spec = try check([("quorum.conf", nil)], [
            "quorum.conf:12: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
        ])
        let service = try XCTUnwrap(spec.vips.first?.services.first)
        XCTAssertEqual(service.protocol, .udp)
        XCTAssertTrue(service.ops)
        XCTAssertEqual(service.quorum, 2)
        XCTAssertEqual(service.hysteresis, 1)
        XCTAssertEqual(service.quorumUp, "/usr/bin/logger -t lb syslog quorum up")
        XCTAssertEqual(service.quorumDown, "/usr/bin/logger -t lb syslog quorum down")
        XCTAssertTrue(service.alpha)
        XCTAssertTrue(service.omega)
    }

    /// Track scripts and interfaces with keepalived's weights (an interface without one faults the
    /// instance while its link is down): a script's own weight, a track_script line's weight
    /// overriding it, and `weight 0 reverse` (FAULT while the script succeeds); rise, fall, interval and
    /// timeout as written, keepalived's defaults where not.
    func testTrackScripts() throws {
        let spec = try check([("vrrp-track-lvs1.conf", nil), ("vrrp-track-lvs2.conf", nil)], interfaces: ["eth0", "eth1", "eth2"], [])
        let group = try XCTUnwrap(spec.vips.first?.vrrp)
        XCTAssertEqual(group.trackScripts, [
            TrackScript(name: "chk_nginx", command: "/usr/bin/pidof nginx", intervalSeconds: 2, timeoutSeconds: 1, rise: 2, fall: 3, weight: -30),
            TrackScript(name: "chk_maintenance", command: "/usr/bin/test -e /etc/lb-maintenance", intervalSeconds: 5, weight: 0, reverse: true),
            TrackScript(name: "chk_uplink", command: "/usr/bin/test -e /run/lb-uplink-up", intervalSeconds: 3, weight: 20),
        ])
        XCTAssertEqual(group.trackInterfaces, [TrackInterface(interface: "eth1", weight: -40), TrackInterface(interface: "eth2")])
        XCTAssertEqual(group.directors.map(\.priority), [100, 99])
    }

    /// Adverts on the internal network, VIPs on the public interface (`dev eth1`, excluded ones too): the
    /// VIPs keep their interface, the one without `dev` stays on the adverts' interface.
    func testVIPsOnAnotherInterface() throws {
        let spec = try check([("front-interface-lvs1.conf", nil), ("front-interface-lvs2.conf", nil)], interfaces: ["eth0", "eth1"], [
            "front-interface-lvs1.conf:22: warning: virtual_ipaddress_excluded addresses are imported as ordinary VIPs (lb lists every VIP in its adverts)",
            "front-interface-lvs2.conf:22: warning: virtual_ipaddress_excluded addresses are imported as ordinary VIPs (lb lists every VIP in its adverts)",
        ])
        XCTAssertEqual(spec.vips.map(\.address.description), ["203.0.113.10/24", "192.168.1.200/24", "203.0.113.11/24"])
        XCTAssertEqual(spec.vips.map(\.interface), ["eth1", nil, "eth1"])
        XCTAssertEqual(spec.nodes.first { $0.name == "lvs1" }?.interface, "eth0")
        let plan = try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1")?.vrrpInstances.first)
        XCTAssertEqual(plan.vipInterfaces, [IPAddress("203.0.113.10")!: "eth1", IPAddress("203.0.113.11")!: "eth1"])
    }

    /// A NAT gateway's public and internal addresses as one vrrp_sync_group: both VRRP groups carry its
    /// name; what the sync group block says besides its members is reported.
    func testSyncGroup() throws {
        let notify = "warning: ignored: notify_master /usr/local/bin/gateway-up (a sync group's notify scripts are not imported; each VRRP group runs its own vrrp.notify, and notifications.script hears every instance)"
        let weight = "warning: keepalived tracks interface eth0 of VI_INTERNAL without its weight -10 in vrrp_sync_group VG_1 without sync_group_tracking_weight: FAULT while it is down; imported as that"
        let spec = try check([("sync-group-lvs1.conf", nil), ("sync-group-lvs2.conf", nil)], interfaces: ["eth0", "eth1"], [
            "sync-group-lvs1.conf:25: \(notify)",
            "sync-group-lvs1.conf:50: \(weight)",
            "sync-group-lvs2.conf:25: \(notify)",
            "sync-group-lvs2.conf:50: \(weight)",
        ], unlocated: ["(VI_INTERNAL) ignoring eth0 tracked interface weight due to SYNC group"])
        XCTAssertEqual(spec.vips.map(\.vrrp.routerID), [51, 52])
        XCTAssertEqual(spec.vips.map(\.vrrp.syncGroup), ["VG_1", "VG_1"])
        // The group's script goes to every member with its weight; a member's own interface weight is dropped.
        let uplink = TrackScript(name: "chk_uplink", command: "/usr/bin/test -e /run/uplink-up", intervalSeconds: 2, weight: -20)
        XCTAssertEqual(spec.vips.map(\.vrrp.trackScripts), [[uplink], [uplink]])
        XCTAssertEqual(spec.vips.map(\.vrrp.trackInterfaces), [[], [TrackInterface(interface: "eth0")]])
        XCTAssertEqual(HostPlanner.plan(spec, node: "lvs2")?.vrrpInstances.map(\.syncGroup), ["VG_1", "VG_1"])
    }

    /// keepalived's checkers beyond one URL: every url of an HTTP_GET with its status ranges and digest (hex
    /// in either case), SSL_GET with SNI, and MISC_CHECK's misc_dynamic, each carried by the spec and back.
    func testCheckers() throws {
        let spec = try check([("checkers.conf", nil)], [
            "checkers.conf:11: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
        ])
        let checks = spec.vips[0].services.map(\.healthCheck)
        XCTAssertEqual(checks[0]?.kind, .http)
        XCTAssertEqual(checks[0]?.urls, [HTTPURLCheck(path: "/healthz", status: [200...299, 301...301], digest: "444bcb3a3fcf8389296c49467f27e1d6"),
                                        HTTPURLCheck(path: "/ready")])
        XCTAssertEqual(checks[0]?.host, "www.example.com")
        XCTAssertEqual(checks[0]?.retries, 3)
        XCTAssertEqual(checks[1]?.kind, .https)
        XCTAssertEqual(checks[1]?.sni, true)
        XCTAssertEqual(checks[1]?.urls, [], "one url of one status is the short form")
        XCTAssertEqual(checks[1]?.expectStatus, 200)
        XCTAssertEqual(checks[2]?.kind, .exec)
        XCTAssertEqual(checks[2]?.command, "/usr/bin/true")
        XCTAssertEqual(checks[2]?.dynamicWeight, true)
    }

    /// UDP_CHECK, DNS_CHECK, SMTP_CHECK and PING_CHECK with their keywords, carried by the spec and back.
    func testProtocolCheckers() throws {
        let spec = try check([("protocol-checkers.conf", nil)], [
            "protocol-checkers.conf:8: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
        ])
        let checks = spec.vips[0].services.map(\.healthCheck)
        XCTAssertEqual(checks[0], HealthCheck(kind: .dns, intervalMilliseconds: 5000, connectTimeoutMilliseconds: 2000, retries: 4,
                                              retryDelayMilliseconds: 5000, queryType: "a", queryName: "www.example.com"),
                       "DNS_CHECK retries 3 times by default, after delay_loop")
        XCTAssertEqual(checks[1], HealthCheck(kind: .udp, intervalMilliseconds: 10000, connectTimeoutMilliseconds: 3000, retries: 3,
                                              retryDelayMilliseconds: 2000, payload: "4f 50 54 49 4f 4e 53", requireReply: true,
                                              reply: "53 49 50 2f xx 2e", minReplyLength: 12, maxReplyLength: 1500))
        XCTAssertEqual(checks[2], HealthCheck(kind: .smtp, intervalMilliseconds: 30000, connectTimeoutMilliseconds: 10000, retries: 2,
                                              heloName: "lvs1.example.com"))
        XCTAssertEqual(checks[3], HealthCheck(kind: .ping, intervalMilliseconds: 2000, connectTimeoutMilliseconds: 1000, retries: 4))
    }

    /// virtual_server_group: each member is a service of its own with the group's settings; the NAT real
    /// server keeps its port on every member, the DR one takes each member's.
    func testVirtualServerGroup() throws {
        let spec = try check([("groups.conf", nil)], [
            "groups.conf:9: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
            "groups.conf:9: warning: VIP '192.168.1.201' has a single director: nothing takes over if it fails",
            "groups.conf:9: warning: VIP '192.168.1.202' has a single director: nothing takes over if it fails",
        ])
        let services = spec.vips.flatMap { vip in vip.services.map { "\(vip.address.address):\($0.port)" } }
        XCTAssertEqual(services, ["192.168.1.200:80", "192.168.1.200:443", "192.168.1.201:80", "192.168.1.202:80"])
        for service in spec.vips.flatMap(\.services) {
            XCTAssertEqual(service.scheduler, .wrr)
            XCTAssertEqual(service.persistence?.timeoutSeconds, 3600)
            XCTAssertEqual(service.realServers.map(\.weight), [2, 1])
            XCTAssertEqual(service.realServers.map(\.port), [nil, 8080])
            XCTAssertEqual(service.healthCheck?.kind, .tcp)
        }
    }

    /// notify_master, _backup, _fault and _stop are the group's state scripts, commands as written; the
    /// generic notify stays the notifications.script.
    func testStateScripts() throws {
        let spec = try check([("notify.conf", nil)], [
            "notify.conf:9: warning: VIP '192.168.1.200' has a single director: nothing takes over if it fails",
        ])
        XCTAssertEqual(spec.vips[0].vrrp.notify, StateScripts(master: "/usr/local/bin/lb-state master --page", backup: "/usr/local/bin/lb-state",
                                                              fault: "/usr/local/bin/lb-state fault", stop: "/usr/local/bin/lb-state stop"))
        XCTAssertEqual(spec.notifications.script, "/usr/local/bin/vrrp-notify")
    }

    // MARK: helpers

    static var corpus: URL {
        get throws {
            try XCTUnwrap(Bundle.module.url(forResource: "corpus", withExtension: nil, subdirectory: "Resources"), "Resources/corpus is not in the test bundle")
        }
    }

    /// Checks the inputs with keepalived, imports them (each file read for its director's name), compares
    /// the diagnostics, validates, and round-trips the spec through export, keepalived and import.
    /// `roundTrip` edits the spec into what the export gives back, where keepalived.conf cannot carry it.
    /// `unlocated`: what keepalived -t says without a line number (about an instance as a whole), each
    /// of which the expected warnings must also say.
    func check(_ directors: [(file: String, name: String?)], interfaces: [String] = ["eth0"], roundTrip edit: (inout ClusterSpec) -> Void = { _ in }, _ expected: [String],
               unlocated: [String] = [], file: StaticString = #filePath, line: UInt = #line) throws -> ClusterSpec {
        let dir = try Self.corpus
        let keepalived = KeepalivedTool.isInstalled
        if !keepalived {
            print("warning: \(KeepalivedTool.path) is missing: the corpus is imported and round-tripped, but not checked with keepalived -t (apt-get install keepalived)")
        }
        let inputs = directors.map { (file: dir.appendingPathComponent($0.file).path, name: $0.name) }
        let result = KeepalivedImporter.importDirectors(inputs, options: .init(cluster: "web"))
        let said = result.diagnostics.map { $0.description.replacingOccurrences(of: dir.path + "/", with: "") }
        XCTAssertEqual(said, expected, file: file, line: line)
        let spec = try XCTUnwrap(result.spec, said.joined(separator: "\n"), file: file, line: line)
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }.map(\.message), [], file: file, line: line)

        if keepalived {
            for input in inputs {
                // keepalived runs the file when -t finds nothing, or only what it passes over when running.
                let r = try KeepalivedTool.check(URL(fileURLWithPath: input.file), interfaces: interfaces, arguments: input.name.map { ["-i", $0] } ?? [])
                let report = "keepalived -t -f \(input.file) said:\n\(r.output)"
                XCTAssertTrue([KeepalivedTool.clean, KeepalivedTool.runsDespiteErrors].contains(r.status), "exit status \(r.status)\n\(report)", file: file, line: line)
                XCTAssertEqual(r.status == KeepalivedTool.clean, r.output.isEmpty, report, file: file, line: line)
                XCTAssertEqual(r.unlocated, unlocated, report, file: file, line: line)
                let tree = KeepalivedParser.parse(file: input.file, configID: input.name)
                XCTAssertEqual(KeepalivedTool.uncovered(r, by: result.diagnostics, in: tree), [], report, file: file, line: line)
            }
        }
        var names: [String] = []
        for d in spec.vips.flatMap(\.vrrp.directors) where !names.contains(d.node) { names.append(d.node) }
        var back = spec
        edit(&back)
        try roundTrip(spec, directors: names, interfaces: interfaces, expecting: back, checked: keepalived, file: file, line: line)
        if !keepalived { throw XCTSkip("\(KeepalivedTool.path) is missing: keepalived -t was not asked about the corpus or its export") }
        return spec
    }
}
