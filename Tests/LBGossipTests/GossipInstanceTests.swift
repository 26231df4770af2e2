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

    /// Runs `g` on its own timer from `t` to `end`, the peer acking every ping while `peerUp`; returns the
    /// joins sent, with their times (the fake clock jumps from one requested wake time to the next).
    func drive(_ g: inout GossipInstance, from t: Duration, to end: Duration, peerUp: Bool, _ first: [GossipDirective] = []) -> [(at: Duration, to: String)] {
        var joins: [(at: Duration, to: String)] = []
        var now = t, wake = t, out = first
        while true {
            var acks: [GossipPacket] = []
            for d in out {
                switch d {
                case .scheduleTimer(let at): wake = at
                case .send(let p, let to, _):
                    if case .join = p.body { joins.append((now, to)) }
                    if case .ping(let seq, _) = p.body, to == peer.address, peerUp { acks.append(GossipPacket(sender: peer, body: .ack(sequence: seq))) }
                default: break
                }
            }
            if !acks.isEmpty { out = acks.flatMap { g.receive($0, now: now) }; continue }
            guard wake <= end else { return joins }
            now = max(wake, now)
            out = g.tick(now: now)
        }
    }

    func answer(from node: GossipNode) -> GossipPacket {
        GossipPacket(sender: node, body: .sync(reply: true), updates: [MemberUpdate(node: node, incarnation: 0, status: .alive, metadata: MemberMetadata(), origin: node.name)])
    }

    /// The reconnect path costs nothing for a seed already in the cluster, while one that never answered
    /// is asked again at joinRetryInterval, doubling up to reconnectInterval (1, 2, 4 … 30 s with `.lan`).
    func testAKnownAliveSeedIsNotRetriedWhileAnUnansweredOneBacksOff() throws {
        let absent = GossipNode(name: "absent", address: "10.0.0.3:7946")
        var g = try GossipInstance(node: me, config: .lan, seed: 7)
        let started = g.start(now: .zero, seeds: [peer.address, absent.address, me.address])
        let reply = g.receive(answer(from: peer), now: .milliseconds(2))
        let joins = drive(&g, from: .zero, to: .seconds(120), peerUp: true, started + reply)
        XCTAssertEqual(joins.filter { $0.to == peer.address }.map(\.at), [.zero], "the seed that answered is joined once, at start")
        XCTAssertEqual(joins.filter { $0.to == absent.address }.map(\.at), [0, 1, 3, 7, 15, 31, 61, 91].map { .seconds($0) })
        XCTAssertFalse(joins.contains { $0.to == me.address }, "its own address in the seed list is skipped")
        XCTAssertEqual(g.members["peer"]?.status, .alive)
    }

    /// A seed whose member dies (a partition, a crash) is joined again every reconnectInterval, so the
    /// configured addresses keep leading back once Serf's reconnect has forgotten it.
    func testASeedIsJoinedAgainOnceItsMemberIsDead() throws {
        let c = GossipConfig.lan
        var g = try GossipInstance(node: me, config: c, seed: 8)
        let started = g.start(now: .zero, seeds: [peer.address])
        let reply = g.receive(answer(from: peer), now: .milliseconds(2))
        let whileUp = drive(&g, from: .zero, to: .seconds(20), peerUp: true, started + reply)
        XCTAssertEqual(whileUp.map(\.at), [.zero], "no join while the seed's member is alive")
        let whileDown = drive(&g, from: .seconds(20), to: .seconds(150), peerUp: false)
        let dead = try XCTUnwrap(g.members["peer"])
        XCTAssertEqual(dead.status, .dead)
        let times = whileDown.map(\.at)
        XCTAssertGreaterThanOrEqual(times.count, 3)
        guard let firstTry = times.first else { return }
        XCTAssertGreaterThanOrEqual(firstTry, dead.since + c.reconnectInterval)
        XCTAssertLessThanOrEqual(firstTry, dead.since + c.reconnectInterval + c.gossipInterval, "retries resume one reconnect interval after the death")
        XCTAssertEqual(Set(zip(times, times.dropFirst()).map { $1 - $0 }), [c.reconnectInterval], "then every reconnect interval")
        // It answers again: the retries stop.
        var back = g.receive(GossipPacket(sender: peer, body: .sync(reply: true), updates:
            [MemberUpdate(node: peer, incarnation: 1, status: .alive, metadata: MemberMetadata(), origin: peer.name)]), now: .seconds(150))
        back += g.tick(now: .seconds(150))
        XCTAssertEqual(drive(&g, from: .seconds(150), to: .seconds(300), peerUp: true, back).count, 0)
    }
}
