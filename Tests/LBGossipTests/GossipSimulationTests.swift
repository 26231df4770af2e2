import LBGossip
import LBGossipSim
import Foundation
import XCTest

/// Whole-cluster behaviour in the deterministic simulator. Measured figures are printed as
/// "gossip-sim:" lines so a run documents them.
final class GossipSimulationTests: XCTestCase {
    /// Builds an n-member cluster: member 0 first, each later member joins through a random earlier one.
    func cluster(_ n: Int, config: GossipConfig = .lan, seed: UInt64 = 1) -> GossipSimulator {
        let sim = GossipSimulator(config: config, seed: seed)
        sim.add()
        var rng = GossipRandom(seed: seed)
        for i in 1..<n {
            sim.add(seeds: [Int(rng.next() % UInt64(i))])
            if i % 50 == 0 { sim.run(for: .milliseconds(10)) }
        }
        return sim
    }

    func allSee(_ sim: GossipSimulator, _ subject: Int, _ status: MemberStatus, among observers: [Int]? = nil) -> Bool {
        (observers ?? sim.running).allSatisfy { $0 == subject || sim.status(of: subject, at: $0) == status }
    }

    func converged(_ sim: GossipSimulator, _ members: [Int]) -> Bool {
        members.allSatisfy { o in members.allSatisfy { sim.status(of: $0, at: o) == .alive } }
    }

    func testJoinThroughSeeds() {
        let sim = cluster(50)
        let t = sim.run(until: { converged(sim, Array(0..<50)) }, limit: .seconds(60))
        // Rumours of a join storm can retire before reaching everyone; the staggered push-pull repairs it,
        // so the bound is one push-pull interval plus slack.
        XCTAssertNotNil(t, "50 members know each other alive")
        print("gossip-sim: join of 50 members converged at \(t.map(String.init(describing:)) ?? "never")")
    }

    func testGracefulLeaveIsLeftNotDead() {
        let sim = cluster(30)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<30)) }, limit: .seconds(60)))
        sim.leave(7)
        sim.run(for: .seconds(2))
        sim.kill(7)
        XCTAssertNotNil(sim.run(until: { allSee(sim, 7, .left) }, limit: .seconds(10)))
        sim.run(for: .seconds(60))
        XCTAssertTrue(allSee(sim, 7, .left), "a member that left is never reported dead")
    }

    /// Bound: one probe pass plus the unconfirmed suspicion maximum plus one probe interval and a second
    /// of dissemination, i.e. 2·probeInterval + suspicionMax(N) + 1 s.
    func testKilledMemberDeclaredDeadByAllWithinBound() {
        let n = 100
        let sim = cluster(n)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        let c = sim.config
        let bound = c.probeInterval * 2 + c.suspicionBounds(members: n).max + .seconds(1)
        let killedAt = sim.now
        sim.kill(42)
        let t = sim.run(until: { allSee(sim, 42, .dead) }, step: .milliseconds(100), limit: bound)
        XCTAssertNotNil(t, "all \(n - 1) members mark the killed one dead within \(bound)")
        if let t {
            let firstSuspect = sim.observations.first { $0.member.node.name == "node-42" && $0.member.status == .suspect && $0.at >= killedAt }
            print("gossip-sim: \(n) members, LAN profile: first suspicion after \((firstSuspect?.at ?? t) - killedAt), dead at all after \(t - killedAt) (bound \(bound))")
        }
    }

    func testFalsePositivesUnderTenPercentLoss() {
        let n = 50
        let sim = cluster(n, seed: 7)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        let start = sim.now
        sim.network.loss = 0.10
        sim.run(for: .seconds(300))
        let after = sim.observations.filter { $0.at >= start && $0.observer != Int($0.member.node.name.dropFirst(5))! }
        let suspicions = after.count { $0.member.status == .suspect }
        let deaths = after.count { $0.member.status == .dead }
        var probes = 0
        for i in 0..<n { probes += sim.nodes[i]!.stats.probes }
        let rate = Double(deaths) / Double(n * (n - 1))
        print("gossip-sim: 10% loss, \(n) members, 300 s: \(probes) probes, \(suspicions) suspicions raised or spread, \(deaths) false dead declarations (\(rate) per member pair)")
        // Every member is alive: any dead mark is a false positive. Allow at most 1% of member pairs.
        XCTAssertLessThanOrEqual(rate, 0.01)
        sim.network.loss = 0
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(120)), "false positives heal")
    }

    func testPartitionAndHealReconvergeWithNothingForgotten() {
        let n = 40
        let sim = cluster(n, config: .fast, seed: 3)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        let left = Array(0..<(n / 2)), right = Array((n / 2)..<n)
        sim.partition(left)
        let split = sim.run(until: { left.allSatisfy { allSee(sim, $0, .dead, among: right) } && right.allSatisfy { allSee(sim, $0, .dead, among: left) } },
                            step: .milliseconds(250), limit: .seconds(120))
        XCTAssertNotNil(split, "each side declares the other dead")
        XCTAssertTrue(converged(sim, left) && converged(sim, right), "each side stays whole")
        sim.run(for: .seconds(60))
        sim.heal()
        let healedAt = sim.now
        let t = sim.run(until: { converged(sim, Array(0..<n)) }, step: .milliseconds(250), limit: .seconds(120))
        XCTAssertNotNil(t, "the healed cluster merges back by itself")
        for i in 0..<n { XCTAssertEqual(sim.nodes[i]!.members.count, n - 1, "member \(i) forgot nobody") }
        if let t { print("gossip-sim: partition 20/20 healed, fast profile: reconverged after \(t - healedAt) (reconnect interval \(sim.config.reconnectInterval))") }
    }

    func testRestartedMemberWithOlderIncarnationIsNotStuck() {
        let n = 20
        let sim = cluster(n, config: .fast, seed: 5)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        for v in 1...5 { sim.setMetadata(3, MemberMetadata(documentVersion: UInt64(v))); sim.run(for: .seconds(1)) }
        let old = sim.nodes[3]!.me.incarnation
        XCTAssertEqual(old, 5)
        // Restart before anyone noticed, with incarnation 0 and old metadata.
        sim.kill(3)
        sim.start(3, seeds: [0])
        XCTAssertNotNil(sim.run(until: { sim.nodes[3]!.me.incarnation > old && converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        // And a restart after it was declared dead.
        sim.kill(3)
        XCTAssertNotNil(sim.run(until: { allSee(sim, 3, .dead) }, limit: .seconds(60)))
        let dead = sim.nodes[0]!.members["node-3"]!.incarnation
        sim.start(3, seeds: [9])
        let t0 = sim.now
        let t = sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(30))
        XCTAssertNotNil(t)
        XCTAssertGreaterThan(sim.nodes[3]!.me.incarnation, dead)
        if let t { print("gossip-sim: restart at incarnation 0 over dead@\(dead): alive at all after \(t - t0)") }
    }

    /// Many members with the LAN profile: a new document head at one member reaches all. The size comes
    /// from LB_GOSSIP_SIM_MEMBERS (default 200: 1,000 does not yet fit the debug test budget).
    func testDocumentHeadSpreadsToAllMembers() {
        let n = ProcessInfo.processInfo.environment["LB_GOSSIP_SIM_MEMBERS"].flatMap { Int($0) } ?? 200
        let sim = cluster(n, seed: 11)
        sim.recordObservations = false
        let joined = sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.members.count == n - 1 } }, step: .milliseconds(500), limit: .seconds(60))
        XCTAssertNotNil(joined, "every member learns all \(n)")
        let digest: [UInt8] = Array(repeating: 0x5A, count: 32)
        sim.measureBytes = true
        let bytes0 = sim.bytesSent
        sim.setMetadata(0, MemberMetadata(roles: ["controller"], agentVersion: "0.1", documentVersion: 2, documentDigest: digest))
        let t0 = sim.now
        let t = sim.run(until: { (1..<n).allSatisfy { sim.nodes[$0]!.members["node-0"]!.metadata.documentVersion == 2 } },
                        step: .milliseconds(20), limit: .seconds(10))
        XCTAssertNotNil(t, "the head reaches all \(n) members")
        if let t, let joined {
            let secs = Double((t - t0).components.seconds) + Double((t - t0).components.attoseconds) / 1e18
            print("gossip-sim: \(n) members LAN: joined by \(joined); head at all after \(t - t0); \(Int(Double(sim.bytesSent - bytes0) / Double(n) / max(secs, 0.001))) bytes/member/s meanwhile")
        }
    }
}
