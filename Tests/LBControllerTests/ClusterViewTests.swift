import Foundation
import LBClusterView
import LBReport
import LBSpec
import XCTest

/// The controller's rules as a value: events from reports and membership, split brain with its hold
/// time, convergence and its timeout.
final class ClusterViewTests: XCTestCase {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    static func reference() -> ClusterSpec {
        ClusterSpec(
            cluster: "web",
            nodes: [Node(name: "lvs1", address: CIDR("192.168.1.100/24")!), Node(name: "lvs2", address: CIDR("192.168.1.101/24")!),
                    Node(name: "rs1", address: CIDR("192.168.1.102/24")!), Node(name: "rs2", address: CIDR("192.168.1.103/24")!)],
            vips: [VIP(name: "web", address: CIDR("192.168.1.200/24")!,
                       vrrp: VRRPGroup(routerID: 51, directors: [Director(node: "lvs1", priority: 100), Director(node: "lvs2", priority: 99)]),
                       services: [VirtualService(port: 80, healthCheck: HealthCheck(kind: .tcp), realServers: [RealServer(node: "rs1"), RealServer(node: "rs2")])])])
    }

    func summary(_ v: UInt64, at: Date) -> VersionSummary {
        VersionSummary(version: v, digest: "sha256:\(v)", previous: nil, acceptedAt: at, signers: ["ed25519:aa"], summary: "test")
    }

    func report(_ node: String, version: UInt64?, converged: Bool = true, vrrp: String? = nil, health: [String: String] = [:],
                repairs: [String: Int] = [:], at: Date) -> AgentReport {
        let services: [AgentReport.ServiceCounts]? = health.isEmpty ? nil : [
            .init(key: "192.168.1.200:80/tcp", active: 3, inactive: 1,
                  destinations: health.sorted { $0.key < $1.key }.map { .init(endpoint: $0.key, weight: $0.value == "up" ? 1 : 0, active: 1, inactive: 0, health: $0.value) }),
        ]
        return AgentReport(node: node, at: Int(at.timeIntervalSince1970), version: version, digest: nil, converged: converged,
                           roles: vrrp == nil ? ["real-server"] : ["director"], vrrp: vrrp.map { [.init(name: "web", vrid: 51, state: $0, priority: 100)] } ?? [],
                           services: services, repairs: repairs, error: nil, refused: nil)
    }

    func kinds(_ events: [ClusterEvent]) -> [String] { events.map(\.kind) }

    func testAVersionConvergesWhenEveryNodeOfItsSpecReportsIt() {
        var view = ClusterView(cluster: "web", controller: "ctl")
        XCTAssertEqual(kinds(view.version(summary(1, at: t0), spec: Self.reference(), now: t0)), ["version-accepted"])
        for node in ["lvs1", "lvs2", "rs1"] {
            XCTAssertFalse(kinds(view.report(report(node, version: 1, at: t0), now: t0)).contains("apply-converged"))
        }
        let last = view.report(report("rs2", version: 1, at: t0), now: t0.addingTimeInterval(0.4))
        XCTAssertEqual(kinds(last), ["node-progress", "apply-converged"])
        XCTAssertEqual(view.outcome(of: 1), true)
        let status = view.status(now: t0)
        XCTAssertEqual(status.convergence.first?.complete, true)
        XCTAssertEqual(status.nodes.map(\.name), ["lvs1", "lvs2", "rs1", "rs2"])
    }

    func testAVersionThatDoesNotReachEveryNodeTimesOutNamingTheLaggards() {
        var view = ClusterView(cluster: "web", controller: "ctl", convergeTimeout: .seconds(10))
        _ = view.version(summary(2, at: t0), spec: Self.reference(), now: t0)
        _ = view.member(.init(name: "rs2", address: "10.0.0.3:7946", status: "alive", roles: []), now: t0)
        for node in ["lvs1", "lvs2"] { _ = view.report(report(node, version: 2, at: t0), now: t0) }
        _ = view.report(report("rs1", version: 2, converged: false, at: t0), now: t0)
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(9)), [])
        let events = view.tick(now: t0.addingTimeInterval(10))
        XCTAssertEqual(kinds(events), ["apply-timed-out"])
        XCTAssertTrue(events[0].message.contains("rs2 (no report yet)"), events[0].message)
        XCTAssertTrue(events[0].message.contains("rs1 (applying)"), events[0].message)
        XCTAssertEqual(view.outcome(of: 2), false)
    }

    func testTwoMastersForOneRouterIDRaiseTheAlarmOnlyAfterTheHoldAndClearIt() {
        var view = ClusterView(cluster: "web", controller: "ctl", splitBrainHold: .seconds(2))
        _ = view.version(summary(1, at: t0), spec: Self.reference(), now: t0)
        _ = view.report(report("lvs1", version: 1, vrrp: "MASTER", at: t0), now: t0)
        _ = view.report(report("lvs2", version: 1, vrrp: "BACKUP", at: t0), now: t0)
        // A failover crossing: lvs2 becomes master a moment before lvs1's resignation arrives.
        _ = view.report(report("lvs2", version: 1, vrrp: "MASTER", at: t0), now: t0.addingTimeInterval(1))
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(1.5)), [])
        _ = view.report(report("lvs1", version: 1, vrrp: "BACKUP", at: t0), now: t0.addingTimeInterval(1.8))
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(5)).filter { $0.kind == "split-brain" }, [])

        _ = view.report(report("lvs1", version: 1, vrrp: "MASTER", at: t0), now: t0.addingTimeInterval(10))
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(11)), [])
        let raised = view.tick(now: t0.addingTimeInterval(12))
        XCTAssertEqual(kinds(raised), ["split-brain"])
        XCTAssertTrue(raised[0].message.contains("lvs1 and lvs2"), raised[0].message)
        XCTAssertEqual(view.status(now: t0).alarms.map(\.id), ["split-brain/51"])
        XCTAssertEqual(view.status(now: t0).vips.first?.masters, ["lvs1", "lvs2"])
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(13)), [], "raised once")

        let resolved = view.report(report("lvs2", version: 1, vrrp: "BACKUP", at: t0), now: t0.addingTimeInterval(14))
        XCTAssertEqual(kinds(resolved), ["vrrp-transition", "split-brain-cleared"])
        XCTAssertEqual(view.status(now: t0).alarms, [])
        XCTAssertEqual(view.status(now: t0).vips.first?.master, "lvs1")
    }

    func testADeadMastersLastReportIsNoSplitBrain() {
        var view = ClusterView(cluster: "web", controller: "ctl", splitBrainHold: .seconds(1))
        _ = view.report(report("lvs1", version: 1, vrrp: "MASTER", at: t0), now: t0)
        _ = view.member(.init(name: "lvs1", address: "a", status: "dead", roles: []), now: t0)
        _ = view.report(report("lvs2", version: 1, vrrp: "MASTER", at: t0), now: t0)
        XCTAssertEqual(view.tick(now: t0.addingTimeInterval(5)), [])
    }

    func testReportsBecomeEventsForTransitionsHealthRepairsAndMembership() {
        var view = ClusterView(cluster: "web", controller: "ctl")
        XCTAssertEqual(kinds(view.member(.init(name: "lvs1", address: "a", status: "alive", roles: []), now: t0)), ["node-joined"])
        XCTAssertEqual(kinds(view.member(.init(name: "ctl", address: "c", status: "alive", roles: []), now: t0)), [], "not itself")
        _ = view.report(report("lvs1", version: 1, vrrp: "BACKUP", health: ["10.0.0.1:80": "up", "10.0.0.2:80": "up"], at: t0), now: t0)
        let changed = view.report(report("lvs1", version: 1, vrrp: "MASTER", health: ["10.0.0.1:80": "up", "10.0.0.2:80": "down"],
                                         repairs: ["address": 2], at: t0), now: t0)
        XCTAssertEqual(kinds(changed), ["vrrp-transition", "real-server-down", "drift-repaired"])
        XCTAssertTrue(changed[0].message.contains("BACKUP → MASTER"), changed[0].message)
        XCTAssertTrue(changed[1].message.contains("10.0.0.2:80"), changed[1].message)
        let back = view.report(report("lvs1", version: 1, vrrp: "MASTER", health: ["10.0.0.1:80": "up", "10.0.0.2:80": "up"],
                                      repairs: ["address": 2], at: t0), now: t0)
        XCTAssertEqual(kinds(back), ["real-server-up"])
        XCTAssertEqual(kinds(view.member(.init(name: "lvs1", address: "a", status: "suspect", roles: []), now: t0)), [])
        XCTAssertEqual(kinds(view.member(.init(name: "lvs1", address: "a", status: "dead", roles: []), now: t0)), ["node-lost"])
        XCTAssertEqual(kinds(view.member(.init(name: "lvs1", address: "a", status: "alive", roles: []), now: t0)), ["node-joined"])
        let status = view.status(now: t0)
        XCTAssertEqual(status.nodes.first { $0.name == "lvs1" }?.destinations.map(\.health), ["up", "up"])
        XCTAssertEqual(status.nodes.first { $0.name == "lvs1" }?.repairsTotal, 2)
    }
}
