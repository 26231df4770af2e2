import LBReport
import Testing
@testable import LBAgent

/// The handover's decisions with a fake clock: who asks, who gives, when preemption is held and released.
@Suite struct HandoverEngineTests {
    typealias O = HandoverEngine.Observation

    struct Tokens {
        var n = 0
        mutating func next() -> String { n += 1; return "t\(n)" }
    }

    static func backup(ready: Bool = true, entries: Int? = nil, peers: [HandoverEngine.Peer]) -> O {
        O(syncing: true, ready: ready, master: false, backup: true, localEntries: entries, peers: peers)
    }

    static func master(gave: [AgentReport.Handover.Gave]) -> HandoverEngine.Peer {
        .init(name: "lvs2", master: true, handover: .init(gave: gave))
    }

    @Test func aReturningBackupHoldsPreemptionUntilTheMastersTableIsHere() {
        var e = HandoverEngine()
        var tokens = Tokens()
        #expect(e.holding)
        // Not ready yet (the plan is not in the kernel): hold, do not ask.
        var a = e.step(now: .zero, Self.backup(ready: false, peers: [Self.master(gave: [])]), token: { tokens.next() })
        #expect(e.want == nil && e.holding && !a.contains(.holdPreemption(false)))
        // Ready: ask.
        a = e.step(now: .seconds(1), Self.backup(peers: [Self.master(gave: [])]), token: { tokens.next() })
        #expect(e.want == "t1" && e.report?.want == "t1")
        // The master answers with 200 entries; this kernel has 150 so far: keep holding.
        a = e.step(now: .seconds(2), Self.backup(peers: [Self.master(gave: [.init(to: "lvs1", token: "t1", entries: 200)])]), token: { tokens.next() })
        #expect(e.needsLocalEntries && e.holding)
        a = e.step(now: .seconds(3), Self.backup(entries: 150, peers: [Self.master(gave: [.init(to: "lvs1", token: "t1", entries: 200)])]), token: { tokens.next() })
        #expect(e.holding && !a.contains(.holdPreemption(false)))
        // All there: release, and the request is withdrawn.
        a = e.step(now: .seconds(3.5), Self.backup(entries: 201, peers: [Self.master(gave: [.init(to: "lvs1", token: "t1", entries: 200)])]), token: { tokens.next() })
        #expect(a.contains(.holdPreemption(false)) && !e.holding && e.want == nil && e.report == nil)
    }

    @Test func aTableThatDoesNotArriveIsAskedForAgainThenGivenUpOn() {
        var e = HandoverEngine(patience: .seconds(60), verifyWindow: .seconds(5), maxAttempts: 2)
        var tokens = Tokens()
        _ = e.step(now: .zero, Self.backup(peers: []), token: { tokens.next() })
        #expect(e.want == "t1")
        _ = e.step(now: .seconds(1), Self.backup(peers: [Self.master(gave: [.init(to: "lvs1", token: "t1", entries: 10)])]), token: { tokens.next() })
        _ = e.step(now: .seconds(6.5), Self.backup(entries: 3, peers: [Self.master(gave: [.init(to: "lvs1", token: "t1", entries: 10)])]), token: { tokens.next() })
        #expect(e.want == "t2" && e.holding)
        _ = e.step(now: .seconds(7), Self.backup(peers: [Self.master(gave: [.init(to: "lvs1", token: "t2", entries: 10)])]), token: { tokens.next() })
        let a = e.step(now: .seconds(12.5), Self.backup(entries: 4, peers: [Self.master(gave: [.init(to: "lvs1", token: "t2", entries: 10)])]), token: { tokens.next() })
        #expect(a.contains(.holdPreemption(false)) && e.want == nil)
    }

    @Test func withNoMasterAnsweringTheBackupPreemptsAfterItsPatience() {
        var e = HandoverEngine(patience: .seconds(30))
        var tokens = Tokens()
        _ = e.step(now: .zero, Self.backup(peers: []), token: { tokens.next() })
        var a = e.step(now: .seconds(29), Self.backup(peers: []), token: { tokens.next() })
        #expect(e.holding && a.isEmpty)
        a = e.step(now: .seconds(30), Self.backup(peers: []), token: { tokens.next() })
        #expect(a.contains(.holdPreemption(false)))
        // Still backup: no new round until it becomes backup again.
        a = e.step(now: .seconds(31), Self.backup(peers: []), token: { tokens.next() })
        #expect(a.isEmpty && e.want == nil)
    }

    @Test func aPlanThatNeverConvergesDoesNotHoldForever() {
        var e = HandoverEngine(patience: .seconds(60))
        var tokens = Tokens()
        var a = e.step(now: .zero, Self.backup(ready: false, peers: []), token: { tokens.next() })
        #expect(e.holding && e.want == nil)
        a = e.step(now: .seconds(59), Self.backup(ready: false, peers: []), token: { tokens.next() })
        #expect(e.holding && a.isEmpty)
        a = e.step(now: .seconds(60), Self.backup(ready: false, peers: []), token: { tokens.next() })
        #expect(a.contains(.holdPreemption(false)))
    }

    @Test func becomingMasterEndsTheWaitAndTheMasterGivesEachRequestOnce() {
        var e = HandoverEngine()
        var tokens = Tokens()
        _ = e.step(now: .zero, Self.backup(peers: []), token: { tokens.next() })
        let peer = HandoverEngine.Peer(name: "lvs2", master: false, handover: .init(want: "x9"))
        var a = e.step(now: .seconds(1), O(syncing: true, ready: true, master: true, backup: false, peers: [peer]), token: { tokens.next() })
        #expect(a.contains(.holdPreemption(false)) && a.contains(.give(to: "lvs2", token: "x9")) && e.want == nil)
        // While that give runs, and after it, the same request is not given again.
        a = e.step(now: .seconds(1.2), O(syncing: true, ready: true, master: true, backup: false, peers: [peer]), token: { tokens.next() })
        #expect(!a.contains(.give(to: "lvs2", token: "x9")))
        e.gave(to: "lvs2", token: "x9", entries: 42)
        #expect(e.report == .init(gave: [.init(to: "lvs2", token: "x9", entries: 42)]))
        a = e.step(now: .seconds(2), O(syncing: true, ready: true, master: true, backup: false, peers: [peer]), token: { tokens.next() })
        #expect(a.isEmpty)
        // The peer withdraws its request: the answer leaves the report.
        _ = e.step(now: .seconds(3), O(syncing: true, ready: true, master: true, backup: false, peers: [.init(name: "lvs2", master: false, handover: nil)]),
                   token: { tokens.next() })
        #expect(e.report == nil)
        // Master -> backup (it was preempted): it asks the new master in turn.
        _ = e.step(now: .seconds(4), Self.backup(peers: []), token: { tokens.next() })
        #expect(e.holding && e.want == "t2")
    }

    @Test func aBackupDoesNotGiveAndNodesWithoutSyncOrVRRPNeverHold() {
        var e = HandoverEngine()
        var tokens = Tokens()
        let peer = HandoverEngine.Peer(name: "lvs2", master: false, handover: .init(want: "x9"))
        var a = e.step(now: .zero, Self.backup(peers: [peer]), token: { tokens.next() })
        #expect(!a.contains(.give(to: "lvs2", token: "x9")))
        var plain = HandoverEngine()
        a = plain.step(now: .zero, O(syncing: false, ready: true, master: false, backup: true), token: { tokens.next() })
        #expect(a == [.holdPreemption(false)] && plain.want == nil)
        var noVRRP = HandoverEngine()
        a = noVRRP.step(now: .zero, O(syncing: true, ready: true, vrrp: false, master: false, backup: false), token: { tokens.next() })
        #expect(a == [.holdPreemption(false)])
    }
}
