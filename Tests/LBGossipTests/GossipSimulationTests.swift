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

    /// Seeds are tried together: a dead first seed does not keep a newcomer out.
    func testJoinSucceedsThroughAnyLiveSeed() {
        let sim = cluster(10, config: .fast, seed: 16)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<10)) }, limit: .seconds(30)))
        sim.kill(2)
        let newcomer = sim.add(seeds: [2, 5])
        let t = sim.run(until: { sim.nodes[newcomer]!.members.count >= 9 && allSee(sim, newcomer, .alive, among: [0, 1, 3, 4, 5, 6, 7, 8, 9]) },
                        limit: .seconds(20))
        XCTAssertNotNil(t, "the newcomer joins through the live seed and everyone learns of it")
    }

    /// The lab's controller race: two agents list each other and the controller as seeds and join each
    /// other; the controller starts later and lists only itself. The agents keep asking the seed that did
    /// not answer, so they find it within one reconnect interval (the backoff's cap) of it starting.
    func testLateSeedThatListsNoOtherIsFoundByMembersThatJoinedEachOther() {
        let sim = GossipSimulator(config: .lan, seed: 21)
        let a = sim.add(seeds: [1, 2]), b = sim.add(seeds: [0, 2])
        XCTAssertNotNil(sim.run(until: { converged(sim, [a, b]) }, limit: .seconds(5)))
        sim.run(until: .seconds(100))
        let c = sim.add(seeds: [2])
        XCTAssertEqual(c, 2)
        let startedAt = sim.now
        let bound = sim.config.reconnectInterval + .seconds(1)
        let t = sim.run(until: { converged(sim, [a, b, c]) }, limit: bound)
        XCTAssertNotNil(t, "the late seed is found by both members and knows them within \(bound)")
        if let t { print("gossip-sim: seed started 100 s late found after \(t - startedAt) (cap \(sim.config.reconnectInterval))") }
    }

    /// Every member lists one seed on each side of a split that lasts past reconnectTimeout: each side
    /// forgets the other, so Serf's reconnect (of remembered dead members) has nobody left to call, and
    /// only the seeds lead back once the network heals.
    func testSeedsRemergeAPartitionThatOutlastedTheReconnectTimeout() {
        var config = GossipConfig.fast
        config.reconnectTimeout = .seconds(20)
        let sim = GossipSimulator(config: config, seed: 22)
        let all = Array(0..<6), left = [0, 1, 2]
        for _ in all { sim.add(seeds: [0, 3]) }
        XCTAssertNotNil(sim.run(until: { converged(sim, all) }, limit: .seconds(30)))
        sim.partition(left)
        let forgotten = sim.run(until: { all.allSatisfy { sim.nodes[$0]!.members.count == 2 } }, step: .seconds(1), limit: .seconds(120))
        XCTAssertNotNil(forgotten, "each side forgets the other")
        sim.run(for: .seconds(30))
        sim.heal()
        let healedAt = sim.now
        let bound = config.reconnectInterval + .seconds(5)
        let t = sim.run(until: { converged(sim, all) }, limit: bound)
        XCTAssertNotNil(t, "the seeds bring both sides back together within \(bound)")
        if let t { print("gossip-sim: partition past reconnectTimeout healed, fast profile: reconverged after \(t - healedAt) through the seeds") }
    }

    /// A seed that left (the controller shutting down for an upgrade) and restarts with fresh state and
    /// no seeds of its own: Serf's reconnect never calls members that left, the seed retries do.
    func testSeedThatLeftAndRestartsWithoutSeedsIsFoundAgain() {
        let sim = GossipSimulator(config: .fast, seed: 23)
        let ctl = sim.add()
        let agents = (1...4).map { _ in sim.add(seeds: [ctl]) }
        let all = [ctl] + agents
        XCTAssertNotNil(sim.run(until: { converged(sim, all) }, limit: .seconds(30)))
        sim.leave(ctl)
        sim.run(for: .seconds(2))
        sim.kill(ctl)
        XCTAssertNotNil(sim.run(until: { allSee(sim, ctl, .left) }, limit: .seconds(10)))
        sim.run(for: .seconds(20))
        sim.start(ctl, seeds: [])
        let bound = sim.config.reconnectInterval + .seconds(2)
        XCTAssertNotNil(sim.run(until: { converged(sim, all) }, limit: bound), "the restarted seed is alive everywhere within \(bound)")
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

    /// Lifeguard's nacks: relays give up at 80 % of the prober's timeout, so their nacks arrive before
    /// the probe ends. Probing a member that really crashed then costs the prober none of its local
    /// health; only missing nacks (its own slow link) would (Lifeguard paper, footnote 5).
    func testProbingACrashedMemberLeavesProbersHealthy() {
        let n = 100
        let sim = cluster(n, seed: 17)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        sim.kill(33)
        XCTAssertNotNil(sim.run(until: { allSee(sim, 33, .dead) }, step: .milliseconds(100), limit: .seconds(60)))
        let failed = sim.running.reduce(0) { $0 + sim.nodes[$1]!.stats.failedProbes }
        let unhealthy = sim.running.filter { sim.nodes[$0]!.health > 0 }
        XCTAssertGreaterThan(failed, 0, "members did probe the crashed one")
        XCTAssertEqual(unhealthy, [], "no prober blames itself for a crash its relays confirmed")
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
        for v in 1...5 { sim.setMetadata(3, MemberMetadata(roles: ["r\(v)"])); sim.run(for: .seconds(1)) }
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

    /// A mass restart (a rack power-cycles): 15 of 40 members come back at incarnation 0 together, some
    /// before and some after being declared dead; all are alive everywhere again, none stuck.
    func testMassRestartWithStaleIncarnationsReconverges() {
        let n = 40
        let sim = cluster(n, config: .fast, seed: 15)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        let rack = Array(10..<25)
        // Give the rack members incarnations above 0 first, as a refutation or a role change would.
        for i in rack { sim.setMetadata(i, MemberMetadata(roles: ["realserver"])) }
        sim.run(for: .seconds(2))
        for i in rack { sim.kill(i) }
        sim.run(for: .seconds(4))                  // some are suspect, none yet dead everywhere
        for i in rack.prefix(7) { sim.start(i, seeds: [Int(i % 10)]) }
        sim.run(for: .seconds(30))                 // the rest are declared dead meanwhile
        for i in rack.dropFirst(7) { sim.start(i, seeds: [0, 30]) }
        let t0 = sim.now
        let t = sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60))
        XCTAssertNotNil(t, "after a mass restart everyone is alive everywhere")
        for i in rack { XCTAssertGreaterThan(sim.nodes[i]!.me.incarnation, 0, "member \(i) outbid its old incarnation") }
        if let t { print("gossip-sim: 15 of 40 restarted at incarnation 0: all alive everywhere after \(t - t0)") }
    }

    /// A document published at one member of 1,000 (started from a shared snapshot, LAN profile) is held
    /// by all: head seen on any packet, fetched from a holder, verified, advertised in turn.
    func testDocumentReachesAThousandMembers() {
        let n = 1000
        let sim = GossipSimulator(config: .lan, seed: 11)
        sim.recordObservations = false
        sim.bootstrap(n)
        sim.run(for: .seconds(2))
        let head = DocumentHead(version: 2, digest: Array(repeating: 0x5A, count: 32))
        sim.trackedHead = head
        let t0 = sim.now
        sim.publish(head, at: 0)
        let t = sim.run(until: { sim.heldAt.count == n }, step: .milliseconds(20), limit: .seconds(10))
        XCTAssertNotNil(t, "the document reaches all \(n) members")
        XCTAssertEqual(sim.rejectedFetches, 0)
        if let t { print("gossip-sim: \(n) members LAN: document held by all after \(t - t0)") }
        // Every member advertises what it holds: anyone's view of member 0 shows the head.
        XCTAssertEqual(sim.nodes[500]!.head, head)
    }

    /// The publisher (the controller) crashes right after the first few members fetched the document:
    /// the rest still converge, from each other.
    func testDocumentKeepsSpreadingAfterThePublisherCrashes() {
        let n = 300
        let sim = GossipSimulator(config: .lan, seed: 14)
        sim.recordObservations = false
        sim.bootstrap(n)
        sim.run(for: .seconds(2))
        let head = DocumentHead(version: 5, digest: Array(repeating: 5, count: 32))
        sim.trackedHead = head
        sim.publish(head, at: 0)
        XCTAssertNotNil(sim.run(until: { sim.heldAt.count >= 3 }, step: .milliseconds(1), limit: .seconds(5)))
        sim.kill(0)
        let t = sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.head == head } }, step: .milliseconds(20), limit: .seconds(20))
        XCTAssertNotNil(t, "every surviving member holds the document though its publisher is gone")
    }

    func testForgedHeadIsNeverHeldAndOlderHeadIsNeverFetched() {
        let n = 60
        let sim = GossipSimulator(config: .lan, seed: 12)
        sim.bootstrap(n)
        sim.run(for: .seconds(2))
        let good = DocumentHead(version: 3, digest: Array(repeating: 3, count: 32))
        sim.publish(good, at: 1)
        XCTAssertNotNil(sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.head == good } }, limit: .seconds(10)))
        // Member 7 advertises a v9 that does not verify: members fetch it, refuse it, keep v3.
        let forged = DocumentHead(version: 9, digest: Array(repeating: 9, count: 32))
        sim.hold(forged, at: 7)
        sim.run(for: .seconds(20))
        XCTAssertGreaterThan(sim.rejectedFetches, 0, "members did try the forged head")
        for i in sim.running where i != 7 { XCTAssertEqual(sim.nodes[i]!.head, good, "member \(i) holds only what verifies") }
        // Retries are bounded: at most one per member and fetch timeout.
        XCTAssertLessThanOrEqual(sim.rejectedFetches, (n - 1) * (20 / 5 + 1))
        // Member 20 restarts knowing only an older v2: nobody fetches it, and it catches up to v3.
        let older = DocumentHead(version: 2, digest: Array(repeating: 2, count: 32))
        sim.documents.insert(older)
        sim.kill(20)
        sim.start(20, seeds: [0], metadata: MemberMetadata(documentVersion: 2, documentDigest: older.digest))
        let goodBefore = sim.fetchesByHead[good] ?? 0
        XCTAssertNotNil(sim.run(until: { sim.nodes[20]!.head == good }, limit: .seconds(10)), "the restarted member fetches the newer document")
        sim.run(for: .seconds(5))
        XCTAssertNil(sim.fetchesByHead[older], "nobody fetched the older head")
        XCTAssertEqual((sim.fetchesByHead[good] ?? 0) - goodBefore, 1, "only the restarted member fetched v3 again")
    }

    func testReportsReachEveryMemberAndSurviveARestart() {
        let n = 40
        let sim = cluster(n, config: .fast, seed: 13)
        XCTAssertNotNil(sim.run(until: { converged(sim, Array(0..<n)) }, limit: .seconds(60)))
        for i in 0..<n { sim.publishReport(Array("r\(i)".utf8), at: i) }
        XCTAssertNotNil(sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.reports.count == n } }, limit: .seconds(30)),
                        "every member holds every member's report")
        sim.publishReport(Array("r5 again".utf8), at: 5)
        sim.publishReport(Array("r5 third".utf8), at: 5)
        XCTAssertNotNil(sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.reports["node-5"]?.bytes == Array("r5 third".utf8) } }, limit: .seconds(30)))
        // A restarted member starts its report versions at 1 again; hearing its old v3 it continues above.
        sim.kill(5)
        sim.start(5, seeds: [0])
        sim.publishReport(Array("after restart".utf8), at: 5)
        let ok = sim.run(until: { sim.running.allSatisfy { sim.nodes[$0]!.reports["node-5"]?.bytes == Array("after restart".utf8) } }, limit: .seconds(60))
        XCTAssertNotNil(ok, "a restarted member's new report replaces its old one everywhere")
        XCTAssertGreaterThan(sim.nodes[5]!.reports["node-5"]!.version, 3)
        var member = sim.nodes[0]!
        XCTAssertThrowsError(try member.publishReport(Array(repeating: 0, count: 2000), now: sim.now), "reports are bounded")
    }

    /// The same seed gives the same run, event for event: what makes a simulated failure replayable.
    func testSameSeedReplaysTheSameRun() {
        func run() -> (Int, Int, [String]) {
            let sim = cluster(30, config: .fast, seed: 99)
            sim.network.loss = 0.05
            sim.run(for: .seconds(10))
            sim.kill(4)
            sim.run(for: .seconds(20))
            let trace = sim.observations.suffix(50).map { "\($0.at) \($0.observer) \($0.member.node.name) \($0.member.status) \($0.member.incarnation)" }
            return (sim.sent, sim.dropped, trace)
        }
        let a = run(), b = run()
        XCTAssertEqual(a.0, b.0)
        XCTAssertEqual(a.1, b.1)
        XCTAssertEqual(a.2, b.2)
        XCTAssertGreaterThan(a.1, 0, "the run did lose packets")
    }
}
