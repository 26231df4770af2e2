import Foundation
import LBTestKit
#if canImport(Glibc)
import Glibc
#endif
import LBAgent
import LBSpec
import LBVRRPLab
import XCTest

/// `lb-agent run` as separate processes in network namespaces (10.99.0.0/24 on one bridge), gossiping
/// for real, fed by `lbctl push`, and judged by what the kernel holds (`ip`, /proc/sys read inside the
/// namespace) and what the agent says (`/status`, `/metrics`, `lb-agent status`). This kernel has no
/// IPVS: directors run VRRP and say that IPVS is unavailable; IPVS itself is the qemu lab's business.
final class AgentNamespaceTests: XCTestCase {
    let vip = "10.99.0.200"
    var vipOnLo: AgentLab.Address { .init(cidr: "\(vip)/32", label: "lo:0") }

    override func setUpWithError() throws {
        // CI runs as root; a silent skip would hide that the multi-process check never ran.
        guard geteuid() == 0 else {
            XCTFail("AgentNamespaceTests need root to create network namespaces; run `make test` as root (CI does)")
            throw XCTSkip("not root")
        }
        XCTAssertEqual(access(AgentLab.agent, X_OK), 0, "lb-agent not built at \(AgentLab.agent)")
        XCTAssertEqual(access(AgentLab.lbctl, X_OK), 0, "lbctl not built at \(AgentLab.lbctl)")
    }

    /// Whether every one of `nodes` says it is converged on `version`.
    func converged(_ lab: AgentLab, _ nodes: [String], on version: UInt64) -> Bool {
        nodes.allSatisfy { n in lab.status(n).map { $0.converged && $0.version == version } ?? false }
    }

    func ms(_ seconds: Double?) -> String { seconds.map { String(format: "%.0f ms", $0 * 1000) } ?? "never" }

    /// Pushes `document` and waits until every one of `nodes` is converged on `version`; the seconds it took.
    @discardableResult
    func pushAndConverge(_ lab: AgentLab, _ document: String, version: UInt64, from host: String, nodes: [String],
                         file: StaticString = #filePath, line: UInt = #line) -> Double? {
        let start = Lab.now()
        let pushed = lab.push(document, from: host, seed: host)
        XCTAssertEqual(pushed.status, 0, "lbctl push v\(version): \(pushed.output)\n\(lab.logs)", file: file, line: line)
        let done = lab.wait(20) { converged(lab, nodes, on: version) }
        XCTAssertNotNil(done, "every agent converged on v\(version)\n\(lab.logs)", file: file, line: line)
        return done.map { _ in Lab.now() - start }
    }

    // MARK: 1

    func testRealServersConvergeOnOneDocumentPushedToOneOfThem() throws {
        let nodes = ["rs1", "rs2", "rs3"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        let started = Lab.now()
        try lab.startAll(nodes)
        let up = Lab.now() - started

        let v1 = try lab.sign(lab.spec(realServers: nodes, directors: [("lvs1", 100), ("lvs2", 99)]), version: 1)
        let took = pushAndConverge(lab, v1, version: 1, from: "rs1", nodes: nodes)
        let together = lab.wait(20) {
            nodes.allSatisfy { n in
                guard let s = lab.status(n) else { return false }
                return nodes.allSatisfy { m in s.members.contains { $0.name == m && $0.status == "alive" && $0.documentVersion == 1 } }
            }
        }
        XCTAssertNotNil(together, "every agent sees every other alive at v1\n\(lab.logs)")

        for n in nodes {
            XCTAssertEqual(lab.addresses(n, "lo").filter { $0.cidr.hasPrefix("10.99.") }, [vipOnLo], "\(n): the VIP /32 on lo, label lo:0")
            for scope in ["all", "eth0"] {
                XCTAssertEqual(lab.sysctl(n, "net.ipv4.conf.\(scope).arp_ignore"), "1", "\(n) \(scope).arp_ignore")
                XCTAssertEqual(lab.sysctl(n, "net.ipv4.conf.\(scope).arp_announce"), "2", "\(n) \(scope).arp_announce")
            }
            XCTAssertEqual(lab.addresses(n, "eth0").map(\.cidr), ["\(lab.address(n))/24"], "\(n): eth0 as the lab made it")
            let s = try lab.statusCommand(n)
            XCTAssertEqual(s.node, n)
            XCTAssertEqual(s.cluster, AgentLab.cluster)
            XCTAssertTrue(s.converged, "\(n): \(s)")
            XCTAssertEqual(s.version, 1)
            XCTAssertEqual(s.roles, ["real-server"])
            XCTAssertNil(s.lastError)
            XCTAssertNil(s.refused)
            XCTAssertEqual(s.waiting, [])
            XCTAssertEqual(s.vrrp, [], "a real server runs no VRRP")
            for m in nodes {
                XCTAssertEqual(s.members.first { $0.name == m }?.status, "alive", "\(n) sees \(m) alive: \(s.members)")
            }
        }
        print("agent-netns converge: 3 agents up in \(ms(up)), v1 pushed and converged everywhere in \(ms(took))")
    }

    // MARK: 2

    func testDriftIsRepairedWithinTwoSecondsAndForeignStateIsLeftAlone() throws {
        let lab = try AgentLab(hosts: ["rs1"])
        defer { lab.destroy() }
        // What someone else made on this host: an address lb never planned, a sysctl of a kind lb
        // manages but does not plan here (rp_filter, for TUN only), and one lb never looks at.
        lab.exec("rs1", ["ip", "addr", "add", "10.5.5.5/32", "dev", "lo"])
        lab.exec("rs1", ["sysctl", "-qw", "net.ipv4.conf.eth0.rp_filter=2"])
        lab.exec("rs1", ["sysctl", "-qw", "net.ipv4.conf.eth0.log_martians=1"])
        try lab.start("rs1", seeds: [])
        pushAndConverge(lab, try lab.sign(lab.spec(realServers: ["rs1"], directors: [("lvs1", 100), ("lvs2", 99)]), version: 1),
                        version: 1, from: "rs1", nodes: ["rs1"])
        XCTAssertTrue(lab.addresses("rs1", "lo").contains(vipOnLo))

        XCTAssertEqual(lab.exec("rs1", ["ip", "addr", "del", "\(vip)/32", "dev", "lo"]).status, 0)
        let address = lab.wait(5) { lab.addresses("rs1", "lo").contains(vipOnLo) }
        XCTAssertNotNil(address, "the deleted VIP is put back, label lo:0\n\(lab.logs)")
        XCTAssertLessThan(address ?? 99, 2, "within 2 s")

        XCTAssertEqual(lab.exec("rs1", ["sysctl", "-qw", "net.ipv4.conf.eth0.arp_ignore=0"]).status, 0)
        let sysctl = lab.wait(5) { lab.sysctl("rs1", "net.ipv4.conf.eth0.arp_ignore") == "1" }
        XCTAssertNotNil(sysctl, "the reset sysctl is set again\n\(lab.logs)")
        XCTAssertLessThan(sysctl ?? 99, 2, "within 2 s")

        // Several passes later, what is not lb's is as it was.
        let passes = lab.status("rs1")?.passes ?? 0
        XCTAssertNotNil(lab.wait(10) { (lab.status("rs1")?.passes ?? 0) >= passes + 6 }, "the periodic passes go on\n\(lab.logs)")
        XCTAssertTrue(lab.addresses("rs1", "lo").contains(.init(cidr: "10.5.5.5/32", label: "lo")), "\(lab.addresses("rs1", "lo"))")
        XCTAssertEqual(lab.sysctl("rs1", "net.ipv4.conf.eth0.rp_filter"), "2")
        XCTAssertEqual(lab.sysctl("rs1", "net.ipv4.conf.eth0.log_martians"), "1")
        XCTAssertTrue(lab.addresses("rs1", "lo").contains(vipOnLo))

        XCTAssertGreaterThanOrEqual(lab.metric("rs1", #"lb_drift_repairs_total{kind="address"}"#) ?? 0, 1, "/metrics counts the address repair")
        XCTAssertGreaterThanOrEqual(lab.metric("rs1", #"lb_drift_repairs_total{kind="sysctl"}"#) ?? 0, 1, "/metrics counts the sysctl repair")
        XCTAssertEqual(lab.metric("rs1", "lb_converged"), 1)
        let s = try XCTUnwrap(lab.status("rs1"))
        XCTAssertEqual(s.repairs["address"], 1, "\(s.repairs)")
        XCTAssertEqual(s.repairs["sysctl"], 1, "\(s.repairs)")
        XCTAssertTrue(s.converged)
        XCTAssertTrue(lab.log("rs1").contains("drift repaired: \(vip)/32 missing on lo: re-added"), lab.log("rs1"))
        print("agent-netns drift: lo VIP deleted → back in \(ms(address)); eth0.arp_ignore reset → back in \(ms(sysctl))")
    }

    // MARK: 3

    func testAnAgentKilledAndRestartedAloneRestoresItsStateFromDisk() throws {
        let nodes = ["rs1", "rs2"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        try lab.startAll(nodes)
        pushAndConverge(lab, try lab.sign(lab.spec(realServers: nodes, directors: [("lvs1", 100), ("lvs2", 99)]), version: 1),
                        version: 1, from: "rs1", nodes: nodes)
        let digest = lab.status("rs1")?.digest
        XCTAssertNotNil(digest)

        // rs1 crashes, then rs2 too, so nobody rs1 could learn from is left; rs1's host is tampered with meanwhile.
        for n in nodes {
            lab.agents[n]!.crash()
            XCTAssertTrue(lab.agents[n]!.waitForExit(timeout: 5))
        }
        lab.exec("rs1", ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        XCTAssertFalse(lab.holds("rs1", "\(vip)/32", on: "lo"))

        let started = Lab.now()
        try lab.start("rs1", seeds: ["rs2"])
        let restored = lab.wait(10) {
            lab.addresses("rs1", "lo").contains(vipOnLo) && (lab.status("rs1").map { $0.converged && $0.version == 1 } ?? false)
        }
        XCTAssertNotNil(restored, "the VIP is back from the state directory alone\n\(lab.log("rs1"))")
        let s = try XCTUnwrap(lab.status("rs1"))
        XCTAssertEqual(s.version, 1)
        XCTAssertEqual(s.digest, digest, "the same document as before the crash")
        XCTAssertTrue(s.converged)
        XCTAssertFalse(s.members.contains { $0.name == "rs2" && $0.status == "alive" }, "rs2 is down; rs1 learnt nothing from it: \(s.members)")
        XCTAssertTrue(lab.log("rs1").contains("restoring v1 from \(lab.stateDirectory("rs1"))"), lab.log("rs1"))
        XCTAssertEqual(lab.sysctl("rs1", "net.ipv4.conf.eth0.arp_ignore"), "1")
        print("agent-netns restore: restarted alone, VIP back and converged on v1 in \(ms(Lab.now() - started)) from spawn")
    }

    // MARK: 4

    func testANewVersionSpreadsWhileAReplayAndAStrangersDocumentChangeNothing() throws {
        let nodes = ["rs1", "rs2", "rs3"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        try lab.startAll(nodes)
        let directors = [("lvs1", 100), ("lvs2", 99)]
        let v1 = try lab.sign(lab.spec(realServers: nodes, directors: directors), version: 1)
        pushAndConverge(lab, v1, version: 1, from: "rs1", nodes: nodes)

        // v2, a second VIP, pushed through another agent.
        let two: [(String, Int)] = [("\(vip)/24", 51), ("10.99.0.201/24", 52)]
        let v2 = try lab.sign(lab.spec(realServers: nodes, directors: directors, vips: two), version: 2)
        let spread = pushAndConverge(lab, v2, version: 2, from: "rs2", nodes: nodes)
        let both = [vipOnLo, AgentLab.Address(cidr: "10.99.0.201/32", label: "lo:1")]
        for n in nodes {
            XCTAssertEqual(lab.addresses(n, "lo").filter { $0.cidr.hasPrefix("10.99.") }, both, "\(n) holds both VIPs")
        }

        // v1 again: every agent holds v2, so the replay is never taken, and lbctl says so.
        let replay = lab.push(v1, from: "rs3", seed: "rs3", timeout: 5)
        XCTAssertEqual(replay.status, 1, replay.output)
        XCTAssertTrue(replay.output.contains("holds v2, newer than v1"), replay.output)
        let passes = nodes.map { lab.status($0)?.passes ?? 0 }
        XCTAssertNotNil(lab.wait(10) { zip(nodes, passes).allSatisfy { (lab.status($0)?.passes ?? 0) >= $1 + 4 } })
        for n in nodes {
            let s = try XCTUnwrap(lab.status(n))
            XCTAssertEqual(s.version, 2, "\(n) stays on v2 after the replay")
            XCTAssertTrue(s.converged)
            XCTAssertEqual(lab.addresses(n, "lo").filter { $0.cidr.hasPrefix("10.99.") }, both)
        }

        // v3 by a key nobody trusts (lbctl is given that key, so it sends it): every agent refuses it.
        let forged = try lab.sign(lab.spec(realServers: nodes, directors: directors, vips: [two[1]]), version: 3, by: lab.stranger, tag: "-forged")
        let pusher = try lab.lab.start("push-forged", on: "rs1", [AgentLab.lbctl, "push", forged, "--seed", lab.gossip("rs1"),
                                                                   "--keyring", lab.keyring, "--trust", lab.strangerTrust, "--timeout", "3"])
        let refused = lab.wait(15) { nodes.allSatisfy { lab.status($0)?.refused.map { $0.reason == "unknown_key" && $0.version == 3 } ?? false } }
        XCTAssertNotNil(refused, "every agent refuses v3 with unknown_key\n\(lab.logs)")
        XCTAssertTrue(pusher.waitForExit(timeout: 15))
        XCTAssertEqual(pusher.exitCode, 1, "no member holds the stranger's document: \(pusher.output)")
        for n in nodes {
            let s = try XCTUnwrap(lab.status(n))
            XCTAssertEqual(s.version, 2, n)
            XCTAssertTrue(s.converged, n)
            XCTAssertEqual(s.refused?.from?.hasPrefix("lbctl-push-"), true, "\(s.refused as Any)")
            XCTAssertTrue(s.refused?.message.contains("no signature is by a trusted key") ?? false, "\(s.refused as Any)")
            XCTAssertEqual(lab.addresses(n, "lo").filter { $0.cidr.hasPrefix("10.99.") }, both, "\(n): the forged v3 changed nothing")
            XCTAssertGreaterThanOrEqual(lab.metric(n, #"lb_documents_refused_total{reason="unknown_key"}"#) ?? 0, 1)
        }
        print("agent-netns versions: v2 spread to 3 agents in \(ms(spread)); forged v3 refused by all in \(ms(refused))")
    }

    // MARK: 5

    func testTwoDirectorsWithoutIPVSElectByTheDocumentAndHandOverOnStop() throws {
        let nodes = ["d1", "d2"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        try lab.startAll(nodes)
        let cidr = "\(vip)/24"
        let v1 = try lab.sign(lab.spec(realServers: ["rs1", "rs2"], directors: [("d1", 100), ("d2", 99)]), version: 1)
        let pushed = lab.push(v1, from: "d1", seed: "d1")
        XCTAssertEqual(pushed.status, 0, pushed.output)

        func state(_ n: String) -> String? { lab.status(n)?.vrrp.first?.state.rawValue }
        let elected = lab.wait(20) { state("d1") == "MASTER" && state("d2") == "BACKUP" && lab.lab.holders(of: IPAddress(vip)!) == ["d1"] }
        XCTAssertNotNil(elected, "d1 (priority 100) is master and alone holds the VIP\n\(lab.logs)")
        XCTAssertTrue(lab.holds("d1", cidr, on: "eth0"))
        XCTAssertFalse(lab.holds("d2", cidr, on: "eth0"))
        for n in nodes {
            let s = try XCTUnwrap(lab.status(n))
            XCTAssertEqual(s.version, 1)
            XCTAssertEqual(s.roles, ["director"])
            XCTAssertFalse(s.converged, "a director cannot converge without IPVS")
            XCTAssertTrue(s.lastError?.contains("IPVS is not available") ?? false, "\(n): \(s.lastError ?? "no lastError")")
            XCTAssertEqual(s.vrrp.map(\.routerID), [51])
            XCTAssertEqual(s.vrrp.first?.interface, "eth0")
        }

        // v2 lowers the backup's priority: no transition anywhere, the master holds the VIP throughout.
        let logged = nodes.map { lab.log($0).count }
        func transitions(_ i: Int, to state: String) -> Int { String(lab.log(nodes[i]).dropFirst(logged[i])).components(separatedBy: "-> \(state)").count - 1 }
        let watch = try VIPWatch(namespaces: [lab.namespace("d1"), lab.namespace("d2")], vip: CIDR(cidr)!)
        defer { watch.stop() }
        let v2 = try lab.sign(lab.spec(realServers: ["rs1", "rs2"], directors: [("d1", 100), ("d2", 98)]), version: 2)
        let pushed2 = lab.push(v2, from: "d2", seed: "d2")
        XCTAssertEqual(pushed2.status, 0, pushed2.output)
        let followed = lab.wait(20) { lab.status("d2").map { $0.version == 2 && $0.vrrp.first?.priority == 98 } ?? false && lab.status("d1")?.version == 2 }
        XCTAssertNotNil(followed, "both directors on v2, d2 at priority 98\n\(lab.logs)")
        // Several of d2's master-down intervals (3 × 0.2 s + skew) after the change.
        let settle = Lab.now() + 1.5
        _ = lab.wait(2) { Lab.now() > settle }
        let (samples, removals) = watch.stop()
        XCTAssertGreaterThan(samples.count, 50, "sampled every ~10 ms")
        let gap = zip(samples.dropFirst(), samples).map { $0.at - $1.at }.max() ?? 0
        XCTAssertLessThan(gap, 0.5, "no long hole in the sampling (the kernel's removal events cover the holes)")
        XCTAssertEqual(samples.filter { !$0.holds[0] }.count, 0, "d1 held the VIP in every sample\n\(lab.logs)")
        XCTAssertEqual(samples.filter { $0.holds[1] }.count, 0, "d2 never held it")
        XCTAssertEqual(removals.count, 0, "the kernel announced no removal of the VIP")
        XCTAssertEqual(state("d1"), "MASTER")
        XCTAssertEqual(state("d2"), "BACKUP")
        for (i, n) in nodes.enumerated() {
            XCTAssertEqual(transitions(i, to: "MASTER") + transitions(i, to: "BACKUP") + transitions(i, to: "INIT"), 0,
                           "\(n) logged no transition after the election\n\(lab.log(n))")
        }

        // The VIP deleted on the master is put back by its speaker.
        lab.exec("d1", ["ip", "addr", "del", cidr, "dev", "eth0"])
        let back = lab.wait(5) { lab.holds("d1", cidr, on: "eth0") }
        XCTAssertNotNil(back, "the master's speaker puts the VIP back\n\(lab.log("d1"))")
        XCTAssertLessThan(back ?? 99, 2)
        XCTAssertNotNil(lab.wait(5) { (lab.status("d1")?.repairs["vrrp_address"] ?? 0) >= 1 }, "counted as a vrrp_address repair")
        XCTAssertGreaterThanOrEqual(lab.metric("d1", #"lb_drift_repairs_total{kind="vrrp_address"}"#) ?? 0, 1)

        // SIGTERM to the master's agent: it resigns, the backup takes over at once, the process exits 0.
        let stopped = Lab.now()
        lab.agents["d1"]!.signal(SIGTERM)
        let takeover = lab.wait(5) { lab.lab.holders(of: IPAddress(vip)!) == ["d2"] }
        XCTAssertNotNil(takeover, "d2 takes the VIP over\n\(lab.logs)")
        XCTAssertLessThan(takeover ?? 99, 1, "a resign is not a master-down timeout (0.6 s + skew)")
        XCTAssertTrue(lab.agents["d1"]!.waitForExit(timeout: 10), "the old master's agent exits\n\(lab.log("d1"))")
        XCTAssertEqual(lab.agents["d1"]!.exitCode, 0, lab.log("d1"))
        XCTAssertFalse(lab.holds("d1", cidr, on: "eth0"), "the resigning master took its VIP along")
        XCTAssertNotNil(lab.wait(5) { state("d2") == "MASTER" })
        print("agent-netns directors: elected in \(ms(elected)); v2 priority change: \(samples.count) samples, 0 moves; "
              + "master's VIP deleted → back in \(ms(back)); SIGTERM → backup holds the VIP in \(ms(takeover)), "
              + "old master exited after \(ms(Lab.now() - stopped))")
    }

    // MARK: 6

    /// The spec's track_scripts run by real agents from a signed document: the script (a file named for the
    /// agent's own namespace, read by `ip netns identify`) starts failing on the master, whose priority
    /// drops by its weight, so the backup takes the VIP; the status shows the effective priority. The
    /// group's state scripts (keepalived's notify_master, notify_backup, notify_stop) run on each director's
    /// own transitions, in order.
    func testATrackScriptOfTheDocumentMovesTheVIPBetweenAgents() throws {
        let nodes = ["d1", "d2"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        try lab.startAll(nodes)
        var spec = lab.spec(realServers: ["rs1", "rs2"], directors: [("d1", 100), ("d2", 90)])
        let flags = lab.lab.directory
        spec.vips[0].vrrp.trackScripts = [TrackScript(name: "chk_flag", command: "test ! -e \(flags)/down-$(ip netns identify $$)", weight: -20)]
        func record(_ state: String) -> String { "echo \(state) >> \(flags)/states-$(ip netns identify $$)" }
        spec.vips[0].vrrp.notify = StateScripts(master: record("master"), backup: record("backup"), stop: record("stop"))
        func states(_ n: String) -> [String] { (Lab.read("\(flags)/states-\(lab.namespace(n))") ?? "").split(separator: "\n").map(String.init) }
        let pushed = lab.push(try lab.sign(spec, version: 1), from: "d1", seed: "d1")
        XCTAssertEqual(pushed.status, 0, pushed.output)
        func vrrp(_ n: String) -> (state: String, priority: Int)? { lab.status(n)?.vrrp.first.map { ($0.state.rawValue, $0.priority) } }
        XCTAssertNotNil(lab.wait(20) { lab.lab.holders(of: IPAddress(vip)!) == ["d1"] && vrrp("d2")?.state == "BACKUP" }, "d1 (100) holds the VIP\n\(lab.logs)")
        // Under load one agent may start its speaker long enough before the other to be master for a
        // moment: the election's own transitions are whatever they were; what follows is counted from here.
        XCTAssertNotNil(lab.wait(3) { states("d1").last == "master" && states("d2").last == "backup" },
                        "the election's state scripts ran: d1 \(states("d1")), d2 \(states("d2"))")
        let (elected1, elected2) = (states("d1"), states("d2"))
        XCTAssertEqual(elected1.first, "backup", "every instance starts as backup")

        try Lab.write("\(flags)/down-\(lab.namespace("d1"))", "")
        let moved = lab.wait(6) { lab.lab.holders(of: IPAddress(vip)!) == ["d2"] }
        XCTAssertNotNil(moved, "d1's script fails: 80 < 90, d2 takes the VIP\n\(lab.logs)")
        XCTAssertNotNil(lab.wait(3) { vrrp("d1").map { $0 == ("BACKUP", 80) } ?? false }, "status shows the effective priority: \(String(describing: vrrp("d1")))")
        XCTAssertEqual(lab.metric("d1", #"lb_vrrp_priority{iname="VI_51",intf="eth0",vrid="51"}"#), 80)

        XCTAssertNotNil(lab.wait(3) { states("d1") == elected1 + ["backup"] && states("d2") == elected2 + ["master"] },
                        "each director ran the script of each state it entered: d1 \(states("d1")), d2 \(states("d2"))\n\(lab.logs)")

        unlink("\(flags)/down-\(lab.namespace("d1"))")
        XCTAssertNotNil(lab.wait(6) { lab.lab.holders(of: IPAddress(vip)!) == ["d1"] }, "back on d1 at 100\n\(lab.logs)")
        lab.agents["d2"]!.signal(SIGTERM)
        XCTAssertNotNil(lab.wait(5) { states("d2").last == "stop" }, "d2's stop script ran when its agent stopped: \(states("d2"))")
        print("agent-netns track script: VIP moved in \(ms(moved)) after the script's file appeared")
    }

    /// A sync group (keepalived's vrrp_sync_group) run by real agents: two VRRP groups, one tracking a
    /// script without weight. When it fails on the master, that instance goes to FAULT and takes the other
    /// along, so the backup holds both VIPs; when it succeeds again, both come back together, since
    /// neither instance of the group becomes master before the other would.
    func testASyncGroupMovesItsVIPsTogether() throws {
        let nodes = ["d1", "d2"]
        let lab = try AgentLab(hosts: nodes)
        defer { lab.destroy() }
        try lab.startAll(nodes)
        var spec = lab.spec(realServers: ["rs1", "rs2"], directors: [("d1", 100), ("d2", 90)], vips: [("10.99.0.200/24", 51), ("10.99.0.201/24", 52)])
        let flags = lab.lab.directory
        spec.vips[0].vrrp.trackScripts = [TrackScript(name: "chk_flag", command: "test ! -e \(flags)/down-$(ip netns identify $$)")]
        for i in spec.vips.indices { spec.vips[i].vrrp.syncGroup = "VG_1" }
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }.map(\.message), [])
        let pushed = lab.push(try lab.sign(spec, version: 1), from: "d1", seed: "d1")
        XCTAssertEqual(pushed.status, 0, pushed.output)
        let both = [IPAddress("10.99.0.200")!, IPAddress("10.99.0.201")!]
        func holders() -> [Set<String>] { both.map { lab.lab.holders(of: $0) } }
        func states(_ n: String) -> [String] { lab.status(n)?.vrrp.map(\.state.rawValue) ?? [] }
        XCTAssertNotNil(lab.wait(20) { holders() == [["d1"], ["d1"]] && states("d2") == ["BACKUP", "BACKUP"] }, "d1 holds both\n\(lab.logs)")

        try Lab.write("\(flags)/down-\(lab.namespace("d1"))", "")
        let moved = lab.wait(6) { holders() == [["d2"], ["d2"]] }
        XCTAssertNotNil(moved, "d1's VI_51 is in FAULT and takes VI_52 along: d2 holds both\n\(lab.logs)")
        XCTAssertNotNil(lab.wait(3) { states("d1") == ["FAULT", "FAULT"] }, "d1: \(states("d1"))")
        XCTAssertTrue(lab.log("d1").contains("VI_52: MASTER -> FAULT: sync group VG_1: VI_51 is in FAULT (track script chk_flag fails)"), lab.log("d1"))

        unlink("\(flags)/down-\(lab.namespace("d1"))")
        let back = lab.wait(8) { holders() == [["d1"], ["d1"]] }
        XCTAssertNotNil(back, "both back on d1 (100 preempts 90)\n\(lab.logs)")
        XCTAssertNotNil(lab.wait(3) { states("d1") == ["MASTER", "MASTER"] && states("d2") == ["BACKUP", "BACKUP"] }, "d1 \(states("d1")), d2 \(states("d2"))")
        XCTAssertTrue(lab.log("d1").contains("VI_52: BACKUP -> MASTER: sync group VG_1: every member would be MASTER"), lab.log("d1"))
        print("agent-netns sync group: both VIPs moved in \(ms(moved)) after the script's file appeared, back in \(ms(back))")
    }

    func testBadConfigurationIsRefusedAndGarbageOnEveryPortCrashesNothing() throws {
        let lab = try AgentLab(hosts: ["rs1", "x"])
        defer { lab.destroy() }
        let ignoreBefore = lab.sysctl("rs1", "net.ipv4.conf.all.arp_ignore")

        // A file with mistakes: exit 1, every problem at FILE:LINE:COLUMN, nothing changed.
        let bad = "\(lab.lab.directory)/bad.yaml"
        try Lab.write(bad, """
            node: rs1
            cluster: lab
            gossip:
              listen: 0.0.0.0:7946
              seeds: [10.99.0.2:7946, 10.99.0.3]
              profle: fast
            keyring: \(lab.keyring)
            trust:
              keys: operators.pub
            state_dir: \(lab.stateDirectory("rs1"))
            log_level: warn

            """)
        let refused = try lab.lab.start("bad-config", on: "rs1", [AgentLab.agent, "run", "--config", bad])
        XCTAssertTrue(refused.waitForExit(timeout: 20), "lb-agent run exits on a bad file")
        XCTAssertEqual(refused.exitCode, 1, refused.output)
        for expected in ["\(bad):4:11: error:", "\(bad):5:27: error: '10.99.0.3' has no port", "\(bad):6:3: error: unknown key 'profle'",
                         "\(bad):9:9: error:", "\(bad):11:12: error: unknown log level 'warn'"] {
            XCTAssertTrue(refused.output.contains(expected), "\(expected) in:\n\(refused.output)")
        }
        XCTAssertFalse(lab.holds("rs1", "\(vip)/32", on: "lo"))
        XCTAssertEqual(lab.sysctl("rs1", "net.ipv4.conf.all.arp_ignore"), ignoreBefore)
        XCTAssertNotEqual(access(lab.stateDirectory("rs1"), F_OK), 0, "no state directory made")

        try lab.start("rs1", seeds: [])
        pushAndConverge(lab, try lab.sign(lab.spec(realServers: ["rs1"], directors: [("lvs1", 100), ("lvs2", 99)]), version: 1),
                        version: 1, from: "rs1", nodes: ["rs1"])

        var rng = SplitMix64(seed: UInt64(Date().timeIntervalSince1970 * 1000))
        print("agent-netns garbage: seed \(rng.seed)")
        func noise(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) } }
        let ns = lab.namespace("rs1"), outside = lab.namespace("x"), gossipAddress = "\(lab.address("rs1"))"
        let garbageStart = Lab.now()

        // The status port: random bytes, requests cut short, a header far over any limit, one idle connection held open.
        let idle = try Netns.socket(ns, Int32(SOCK_STREAM.rawValue))
        defer { close(idle) }
        var sa = Netns.sockaddr("127.0.0.1", AgentLab.statusPort)
        _ = withUnsafePointer(to: &sa) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(idle, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var answers: [String: Int] = [:]
        func toStatus(_ bytes: [UInt8], _ kind: String) {
            let r = (try? Netns.exchange(ns, "127.0.0.1", AgentLab.statusPort, bytes, timeout: 1)) ?? []
            answers["\(kind) \(HTTPResponse(r).map { "\($0.status)" } ?? (r.isEmpty ? "closed" : "bytes"))", default: 0] += 1
        }
        for _ in 0..<40 { toStatus(noise(Int.random(in: 1...4096, using: &rng)), "random") }
        for _ in 0..<10 { toStatus(Array("GET /status HTTP/1.1\r\n".utf8) + noise(Int.random(in: 1...512, using: &rng)), "random-after-request-line") }
        let request = Array("GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\r\n".utf8)
        for cut in stride(from: 1, to: request.count - 1, by: 5) { toStatus(Array(request.prefix(cut)), "truncated") }
        toStatus(Array("POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nshort".utf8), "short-body")
        toStatus(Array("GET /status HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".utf8), "bad-chunk")
        toStatus(Array("GET /status HTTP/1.1\r\nX-Long: \(String(repeating: "a", count: 1 << 20))\r\n\r\n".utf8), "long-header")
        toStatus(Array("GET /\(String(repeating: "a", count: 1 << 20)) HTTP/1.1\r\nHost: x\r\n\r\n".utf8), "long-path")
        toStatus(Array("GET /status HTTP/1.1\r\nHost: x\r\n".utf8) + Array(repeating: Array("X: y\r\n".utf8), count: 20000).flatMap { $0 } + Array("\r\n".utf8), "many-headers")

        // The gossip port, from another host as an attacker on the LAN would: random datagrams of every
        // size, random TCP streams, a frame length far beyond any limit.
        var datagrams = (0..<300).map { _ in noise(Int.random(in: 0...1500, using: &rng)) }
        datagrams += [noise(65000), noise(9000), [], [0], [0xFF, 0xFF, 0xFF, 0xFF]]
        try Netns.sendDatagrams(outside, gossipAddress, AgentLab.gossipPort, datagrams)
        for _ in 0..<30 { _ = try? Netns.exchange(outside, gossipAddress, AgentLab.gossipPort, noise(Int.random(in: 1...8192, using: &rng)), timeout: 0.3) }
        _ = try? Netns.exchange(outside, gossipAddress, AgentLab.gossipPort, [0xFF, 0xFF, 0xFF, 0xFF] + noise(1000), timeout: 0.5)
        _ = try? Netns.exchange(outside, gossipAddress, AgentLab.gossipPort, [0x00, 0x00, 0x00, 0x00], timeout: 0.5)
        _ = try? Netns.exchange(outside, gossipAddress, AgentLab.gossipPort, noise(1 << 20), timeout: 1)
        let garbageTime = Lab.now() - garbageStart
        print("agent-netns garbage: status port answers \(answers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))")

        // Nothing crashed: the agent answers, is converged, and still repairs drift.
        XCTAssertFalse(lab.agents["rs1"]!.hasExited, "the agent survived\n\(lab.log("rs1"))")
        let s = lab.status("rs1")
        XCTAssertNotNil(s, "/status still answers\n\(lab.log("rs1"))")
        XCTAssertEqual(s?.converged, true)
        XCTAssertEqual(s?.version, 1)
        XCTAssertEqual(try? lab.statusCommand("rs1").converged, true)
        lab.exec("rs1", ["ip", "addr", "del", "\(vip)/32", "dev", "lo"])
        let repaired = lab.wait(5) { lab.addresses("rs1", "lo").contains(vipOnLo) }
        XCTAssertNotNil(repaired, "drift is still repaired after the garbage\n\(lab.log("rs1"))")
        XCTAssertLessThan(repaired ?? 99, 2)
        // And gossip still works: a new version pushed from the host the garbage came from is taken.
        let v2 = try lab.sign(lab.spec(realServers: ["rs1"], directors: [("lvs1", 100), ("lvs2", 99)],
                                       vips: [("\(vip)/24", 51), ("10.99.0.201/24", 52)]), version: 2)
        let pushed = lab.push(v2, from: "x", seed: "rs1")
        XCTAssertEqual(pushed.status, 0, pushed.output)
        XCTAssertNotNil(lab.wait(10) { converged(lab, ["rs1"], on: 2) && lab.holds("rs1", "10.99.0.201/32", on: "lo") }, lab.log("rs1"))
        XCTAssertFalse(lab.agents["rs1"]!.hasExited)
        print("agent-netns garbage: \(datagrams.count) datagrams, 33 TCP streams and \(answers.values.reduce(0, +)) status-port connections in \(ms(garbageTime)); repair afterwards in \(ms(repaired))")
    }

    // MARK: 7

    func testSystemdHearsReadyOnlyOnceTheStoredDocumentIsAppliedThenWatchdogAndStopping() throws {
        let lab = try AgentLab(hosts: ["rs1"])
        defer { lab.destroy() }
        // A host that rebooted with v1 on disk: READY=1 must mean the VIP is already back.
        let doc = try lab.sign(lab.spec(realServers: ["rs1"], directors: [("lvs1", 100), ("lvs2", 99)]), version: 1)
        mkdir(lab.directory("rs1"), 0o755)
        mkdir(lab.stateDirectory("rs1"), 0o700)
        try Lab.write(lab.stateDirectory("rs1") + "/document.json", try XCTUnwrap(Lab.read(doc)))
        // A file socket: the agent runs in another network namespace, which has its own abstract names.
        let systemd = try NotifySocket(abstract: false)
        let config = try lab.write(lab.config("rs1", seeds: []))
        let daemon = try lab.lab.start("agent-rs1", on: "rs1", ["env", "NOTIFY_SOCKET=\(systemd.name)", "WATCHDOG_USEC=400000",
                                                               AgentLab.agent, "run", "--config", config])
        XCTAssertEqual(systemd.receive(), "READY=1\nSTATUS=v1 applied\n", daemon.output)
        XCTAssertTrue(lab.holds("rs1", "\(vip)/32", on: "lo"), "applied before READY")
        XCTAssertEqual(systemd.receive(), "WATCHDOG=1\n", "a ping every 200 ms for WatchdogSec=400ms")
        daemon.signal(SIGTERM)
        var last: String?
        while let next = systemd.receive() {
            last = next
            if next.hasPrefix("STOPPING") { break }
        }
        XCTAssertEqual(last, "STOPPING=1\nSTATUS=stopping: VRRP masters resign, the kernel state stays\n")
        XCTAssertTrue(daemon.waitForExit(timeout: 10))
        XCTAssertEqual(daemon.exitCode, 0, daemon.output)
        XCTAssertTrue(lab.holds("rs1", "\(vip)/32", on: "lo"), "stopping leaves the kernel state")
    }
}
