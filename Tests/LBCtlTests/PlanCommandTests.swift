import Foundation
import XCTest

final class PlanCommandTests: XCTestCase {
    var reference: String { CommandRunner.packageRoot.appendingPathComponent("examples/reference.yaml").path }

    func testRealServerPlanAsText() throws {
        let r = try CommandRunner.run("lbctl", ["plan", reference, "--node", "rs1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        node rs1 (real-server)
          address 192.168.1.200/32 on lo label lo:0
          sysctl net.ipv4.conf.all.arp_ignore = 1
          sysctl net.ipv4.conf.all.arp_announce = 2
          sysctl net.ipv4.conf.eth0.arp_ignore = 1
          sysctl net.ipv4.conf.eth0.arp_announce = 2

        """)
    }

    func testDirectorPlanAsText() throws {
        let r = try CommandRunner.run("lbctl", ["plan", reference, "--node", "lvs2"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout, """
        node lvs2 (director)
          sysctl net.ipv4.vs.expire_quiescent_template = 1
          sysctl net.ipv4.vs.expire_nodest_conn = 1
          vrrp VI_51 on eth0: router id 51, v2, priority 99, advert 1s, auth pass, preempt, multicast (expected BACKUP)
            vip 192.168.1.200/24
          ipvs 192.168.1.200:80/tcp wrr persistent 3600s mask 255.255.255.255
            -> 192.168.1.102:80 dr weight 1 (rs1)
            -> 192.168.1.103:80 dr weight 1 (rs2)
          health tcp 192.168.1.102:80 every 5s, timeout 3s, 3 retries
          health tcp 192.168.1.103:80 every 5s, timeout 3s, 3 retries
          ipvs timeouts tcp 7260s tcpfin 120s udp 300s
          sync daemon master on eth0, sync id 0
          sync daemon backup on eth0, sync id 0

        """)
    }

    func testDrainAndInhibitOnFailureAreShownWhenSet() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let file = dir.appendingPathComponent("drain.yaml")
        let text = try String(contentsOfFile: reference, encoding: .utf8)
            .replacingOccurrences(of: "        forwarding: dr\n", with: "        forwarding: dr\n        inhibit_on_failure: true\n")
            .replacingOccurrences(of: "{ node: rs1, weight: 1 }", with: "{ node: rs1, weight: 3, drain: true, drain_deadline: 2026-12-02T04:00:00+01:00 }")
            .replacingOccurrences(of: "{ node: rs2, weight: 1 }", with: "{ node: rs2, weight: 1, drain: true, inhibit_on_failure: false }")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run("lbctl", ["plan", file.path, "--node", "lvs1"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.contains("""
            -> 192.168.1.102:80 dr weight 3 (rs1), draining at weight 0, deadline 2026-12-02T03:00:00Z, inhibit_on_failure
            -> 192.168.1.103:80 dr weight 1 (rs2), draining at weight 0

        """), r.stdout)
        XCTAssertEqual(r.stderr, "\(file.path):30:11: warning: every real server of service 192.168.1.200:80/tcp is drained: none takes new connections\n")
        let json = try CommandRunner.run("lbctl", ["plan", file.path, "--node", "lvs1", "--output", "json"])
        XCTAssertTrue(json.stdout.contains("""
                    "drain" : true,
                    "drain_deadline" : 1796180400,
                    "forwarding" : "dr",
                    "inhibit_on_failure" : true,
        """), json.stdout)
    }

    func testJSONCoversEveryNodeAndIsStable() throws {
        let r = try CommandRunner.run("lbctl", ["plan", reference, "--output", "json"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let plans = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        XCTAssertEqual(plans.map { $0["node"] as? String }, ["lvs1", "lvs2", "rs1", "rs2"])
        let rs1 = plans[2]
        let addresses = try XCTUnwrap(rs1["addresses"] as? [[String: Any]])
        XCTAssertEqual(addresses.first?["address"] as? String, "192.168.1.200/32")
        XCTAssertEqual(addresses.first?["label"] as? String, "lo:0")
        let again = try CommandRunner.run("lbctl", ["plan", reference, "--output", "json"])
        XCTAssertEqual(again.stdout, r.stdout, "JSON output must be byte-stable")
    }

    func testUnknownNodeSuggestsTheNearestName() throws {
        let r = try CommandRunner.run("lbctl", ["plan", reference, "--node", "lvs3"])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stderr, "Error: no node 'lvs3' in \(reference); did you mean 'lvs1'?\n")
    }

    func testInvalidSpecPrintsDiagnosticsAndNoPlan() throws {
        let dir = try CommandRunner.temporaryDirectory(self)
        let file = dir.appendingPathComponent("bad.yaml")
        try "cluster: web\nnodes: []\nvips: 3\n".write(to: file, atomically: true, encoding: .utf8)
        let r = try CommandRunner.run("lbctl", ["plan", file.path])
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.stdout, "")
        XCTAssertEqual(r.stderr, "\(file.path):3:7: error: expected a list, found '3'\n")
    }
}
