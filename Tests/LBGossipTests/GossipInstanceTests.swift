@testable import LBGossip
import XCTest

final class GossipInstanceTests: XCTestCase {
    let me = GossipNode(name: "me", address: "10.0.0.1:7946")
    let peer = GossipNode(name: "peer", address: "10.0.0.2:7946")

    /// memberlist's TestSuspicion_remainingSuspicionTime table (min 2 s, max 30 s, k 3).
    func testSuspicionTimeoutMatchesMemberlist() {
        func t(_ n: Int) -> Duration { GossipConfig.suspicionTimeout(confirmations: n, wanted: 3, min: .seconds(2), max: .seconds(30)) }
        XCTAssertEqual(t(0), .seconds(30))
        XCTAssertEqual(t(1), .seconds(16))
        XCTAssertEqual(t(2), .milliseconds(7810))
        XCTAssertEqual(t(3), .seconds(2))
        XCTAssertEqual(t(4), .seconds(2))
    }

    func testLANFormulas() {
        let c = GossipConfig.lan
        XCTAssertEqual(c.retransmitLimit(members: 1000), 16)  // 4 · ceil(log10 1001)
        XCTAssertEqual(c.retransmitLimit(members: 3), 4)
        let b = c.suspicionBounds(members: 1000)
        XCTAssertEqual(b.min, .seconds(12))                   // 4 · log10(1000) · 1 s
        XCTAssertEqual(b.max, .seconds(72))
        XCTAssertEqual(c.suspicionBounds(members: 5).min, .seconds(4))  // log10 floored at 1
        var bad = c; bad.probeTimeout = .seconds(2)
        XCTAssertThrowsError(try bad.validate())
    }

    func testANewReportGoesAtOnceToEveryControllerBesidesTheEpidemic() throws {
        var g = try GossipInstance(node: me, config: .lan, seed: 5)
        _ = g.start(now: .zero)
        let controller = GossipNode(name: "ctl", address: "10.0.0.9:7946")
        let agents = (1...3).map { GossipNode(name: "n\($0)", address: "10.0.1.\($0):7946") }
        _ = g.receive(GossipPacket(sender: controller, body: .gossip, updates:
            [MemberUpdate(node: controller, incarnation: 0, status: .alive, metadata: MemberMetadata(roles: ["controller"]), origin: "ctl")] +
            agents.map { MemberUpdate(node: $0, incarnation: 0, status: .alive, metadata: MemberMetadata(roles: ["real-server"]), origin: $0.name) }),
            now: .zero)
        let out = try g.publishReport(Array("converged".utf8), now: .seconds(1))
        let sent = out.compactMap { d -> (GossipPacket, String)? in if case .send(let p, let to, _) = d { (p, to) } else { nil } }
        XCTAssertEqual(sent.map(\.1), [controller.address], "only the controller gets it directly")
        XCTAssertEqual(sent.first?.0.reports.map(\.bytes), [Array("converged".utf8)])
        // The epidemic still carries it to everyone else on the next rounds.
        let rounds = (2...4).flatMap { g.tick(now: .seconds($0)) }
        XCTAssertTrue(rounds.contains { if case .send(let p, _, _) = $0 { !p.reports.isEmpty } else { false } })
    }

    func testSuspicionAboutMeIsRefutedWithHigherIncarnation() throws {
        var g = try GossipInstance(node: me, config: .lan, seed: 1)
        _ = g.start(now: .zero)
        let rumour = MemberUpdate(node: me, incarnation: 0, status: .suspect, metadata: MemberMetadata(), origin: "peer")
        let out = g.receive(GossipPacket(sender: peer, body: .gossip, updates: [rumour]), now: .seconds(1))
        XCTAssertEqual(g.me.incarnation, 1)
        XCTAssertEqual(g.me.status, .alive)
        XCTAssertEqual(g.health, 1, "a suspicion about me raises Lifeguard's local health score")
        XCTAssertTrue(out.contains { if case .memberChanged(let m, _) = $0 { m.node == me } else { false } })
        // The refutation rides on the next ping.
        _ = g.receive(GossipPacket(sender: peer, body: .gossip, updates: [MemberUpdate(node: peer, incarnation: 0, status: .alive, metadata: MemberMetadata(), origin: "peer")]), now: .seconds(1))
        let next = g.tick(now: .seconds(3))
        let sent = next.compactMap { if case .send(let p, _, _) = $0 { p } else { nil } }
        XCTAssertTrue(sent.contains { $0.updates.contains { $0.node == me && $0.incarnation == 1 && $0.status == .alive } })
    }

    func testFailedProbeGoesIndirectThenSuspects() throws {
        var g = try GossipInstance(node: me, config: .lan, seed: 3)
        _ = g.start(now: .zero)
        let others = (1...4).map { GossipNode(name: "n\($0)", address: "10.0.1.\($0):7946") }
        _ = g.receive(GossipPacket(sender: others[0], body: .gossip, updates: others.map {
            MemberUpdate(node: $0, incarnation: 0, status: .alive, metadata: MemberMetadata(), origin: $0.name)
        }), now: .zero)
        var pings: [(UInt32, String)] = []
        var pingRequests = 0
        var t = Duration.zero
        while t < .seconds(3) {
            t += .milliseconds(100)
            for d in g.tick(now: t) {
                guard case .send(let p, _, _) = d else { continue }
                if case .ping(let s, let target) = p.body { pings.append((s, target)) }
                if case .pingRequest = p.body { pingRequests += 1 }
            }
        }
        XCTAssertGreaterThanOrEqual(pings.count, 2)
        XCTAssertGreaterThanOrEqual(pingRequests, 3, "an unanswered probe asks indirectChecks members")
        XCTAssertGreaterThan(g.members.values.count { $0.status == .suspect }, 0)
        XCTAssertGreaterThan(g.health, 0, "probes that fail without nacks lower local health")
    }
}
