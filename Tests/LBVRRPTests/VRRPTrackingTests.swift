import Foundation
import LBSpec
@testable import LBVRRP
import XCTest

/// Track scripts as keepalived 2.2.7 weighs them (vrrp_track.c, vrrp_scheduler.c), and the state machine
/// fed the result: priority arithmetic, rise and fall, FAULT, with a virtual clock.
final class VRRPTrackingTests: XCTestCase {
    let me = IPAddress("10.99.0.2")!
    let lower = IPAddress("10.99.0.1")!
    let higher = IPAddress("10.99.0.3")!

    func script(_ name: String = "chk", weight: Int = 0, rise: Int = 1, fall: Int = 1, reverse: Bool = false) -> VRRPTrackScript {
        VRRPTrackScript(name: name, command: "true", rise: rise, fall: fall, weight: weight, reverse: reverse)
    }

    // MARK: the tracker

    func testTheFirstResultDecidesEitherWayThenRiseAndFallCount() {
        var t = VRRPTracker(scripts: [script(weight: -10, rise: 3, fall: 2)])
        XCTAssertNil(t.succeeding("chk"))
        XCTAssertEqual(t.status, VRRPTrackingStatus(), "unknown adds nothing")
        XCTAssertTrue(t.record("chk", success: true), "one success is enough at first")
        XCTAssertEqual(t.succeeding("chk"), true)
        XCTAssertFalse(t.record("chk", success: false), "fall 2: one failure is not enough")
        XCTAssertEqual(t.status.priorityOffset, 0)
        XCTAssertTrue(t.record("chk", success: false))
        XCTAssertEqual(t.status.priorityOffset, -10)
        XCTAssertFalse(t.record("chk", success: true))
        XCTAssertFalse(t.record("chk", success: true))
        XCTAssertFalse(t.record("chk", success: false), "a failure between successes starts the rise again")
        XCTAssertFalse(t.record("chk", success: true))
        XCTAssertFalse(t.record("chk", success: true))
        XCTAssertTrue(t.record("chk", success: true), "rise 3: the third success in a row")
        XCTAssertEqual(t.status.priorityOffset, 0)

        var failedFirst = VRRPTracker(scripts: [script(weight: -10, rise: 3, fall: 2)])
        XCTAssertTrue(failedFirst.record("chk", success: false), "one failure is enough at first too")
        XCTAssertEqual(failedFirst.status.priorityOffset, -10)
    }

    func testWeightsAddWhileSucceedingSubtractWhileFailingAndReverseTurnsThemRound() {
        var t = VRRPTracker(scripts: [script("up", weight: 20), script("down", weight: -30), script("rev", weight: 5, reverse: true)])
        t.record("up", success: true)
        t.record("down", success: true)
        t.record("rev", success: true)
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: 20 - 5))
        t.record("up", success: false)
        t.record("down", success: false)
        t.record("rev", success: false)
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: -30))
    }

    func testWeightZeroFaultsOnFailureAndHoldsTheStartUntilItReports() {
        var t = VRRPTracker(scripts: [script("a"), script("b", weight: -5)])
        XCTAssertFalse(t.ready, "a weight-0 script has not reported")
        t.record("b", success: false)
        XCTAssertFalse(t.ready)
        t.record("a", success: true)
        XCTAssertTrue(t.ready)
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: -5))
        t.record("a", success: false)
        XCTAssertEqual(t.status.fault, "track script a fails")

        var reversed = VRRPTracker(scripts: [script("a", reverse: true)])
        reversed.record("a", success: true)
        XCTAssertEqual(reversed.status.fault, "track script a succeeds (reverse)")
    }

    func testEffectivePriorityStaysIn1To254AndTheOwnerKeeps255() {
        XCTAssertEqual(VRRPTrackingStatus(priorityOffset: 200).effectivePriority(base: 100), 254)
        XCTAssertEqual(VRRPTrackingStatus(priorityOffset: -200).effectivePriority(base: 100), 1)
        XCTAssertEqual(VRRPTrackingStatus(priorityOffset: -50).effectivePriority(base: 255), 255)
        XCTAssertEqual(VRRPTrackingStatus(priorityOffset: -50).effectivePriority(base: 150), 100)
    }

    func testReconfigureKeepsTheStandingOfUnchangedScripts() {
        var t = VRRPTracker(scripts: [script("a", weight: -10), script("b", weight: -20)])
        t.record("a", success: false)
        t.record("b", success: false)
        t.reconfigure([script("a", weight: -10), script("b", weight: -25)])
        XCTAssertEqual(t.succeeding("a"), false, "kept")
        XCTAssertNil(t.succeeding("b"), "changed: unknown again")
        XCTAssertEqual(t.status.priorityOffset, -10)
    }

    func testInterfacesWeighByTheirLinkAndAMissingOneIsDown() {
        var t = VRRPTracker(scripts: [], interfaces: [VRRPTrackInterface(name: "eth1", weight: -20), VRRPTrackInterface(name: "eth2", weight: 10),
                                                      VRRPTrackInterface(name: "eth3")])
        XCTAssertEqual(t.status, VRRPTrackingStatus(), "nothing read yet")
        XCTAssertEqual(t.record(links: ["eth1": true, "eth2": true, "eth3": true]), ["eth1", "eth2", "eth3"])
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: 10))
        XCTAssertEqual(t.record(links: ["eth1": false, "eth2": true, "eth3": true]), ["eth1"])
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: -20 + 10))
        XCTAssertEqual(t.record(links: ["eth1": false, "eth2": true, "eth3": true]), [], "no change")
        t.record(links: ["eth1": true, "eth2": true])
        XCTAssertEqual(t.status, VRRPTrackingStatus(priorityOffset: 10, fault: "interface eth3 is down"), "missing is down")
        t.reconfigure(interfaces: [VRRPTrackInterface(name: "eth3", reverse: true)])
        XCTAssertEqual(t.status.fault, nil, "reverse: down is fine")
        t.record(links: ["eth3": true])
        XCTAssertEqual(t.status.fault, "interface eth3 is up (reverse)")
    }

    // MARK: the state machine

    func config(priority: Int = 100) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, priority: priority, virtualAddresses: [vip])
    }

    func master(_ c: VRRPConfiguration) -> (VRRPInstance, Duration) {
        var i = VRRPInstance(configuration: c, primaryAddress: me)
        _ = i.start(now: .zero)
        let t = i.nextDeadline!
        _ = i.timerFired(now: t)
        XCTAssertEqual(i.state, .master)
        return (i, t)
    }

    func testAMasterAdvertisesALoweredPriorityAtOnceAndABetterBackupPreempts() {
        var (a, t) = master(config(priority: 150))
        let actions = a.setTracking(VRRPTrackingStatus(priorityOffset: -60), now: t + .milliseconds(300))
        XCTAssertEqual(actions.first, .priorityChanged(from: 150, to: 90))
        XCTAssertEqual(actions.advertisements.map(\.priority), [90])
        XCTAssertEqual(a.state, .master, "no transition of its own")

        // A backup of priority 100 hears 90 and, preempting, lets its Master_Down_Timer run out.
        var b = VRRPInstance(configuration: config(priority: 100), primaryAddress: higher)
        _ = b.start(now: t)
        _ = b.receive(actions.advertisements[0], source: me, timeToLive: 255, now: t + .milliseconds(300))
        let down = b.nextDeadline!
        let takeover = b.timerFired(now: down)
        XCTAssertEqual(b.state, .master)
        XCTAssertEqual(takeover.transitions.map(\.reason), [.preempted(me, priority: 90)])
        XCTAssertEqual(takeover.advertisements.map(\.priority), [100])
        // Its advert beats the lowered master.
        let yielded = a.receive(takeover.advertisements[0], source: higher, timeToLive: 255, now: down + .milliseconds(1))
        XCTAssertEqual(a.state, .backup)
        XCTAssertTrue(yielded.contains(.removeAddresses([vip])))
        XCTAssertEqual(yielded.transitions.map(\.priority), [90], "notify carries the effective priority")
    }

    func testABackupsMasterDownTimerMovesWithItsSkew() {
        var b = VRRPInstance(configuration: config(priority: 200), primaryAddress: me)
        _ = b.start(now: .zero)
        let before = b.nextDeadline!
        let oldSkew = b.skewTime
        let actions = b.setTracking(VRRPTrackingStatus(priorityOffset: -100), now: .seconds(1))
        XCTAssertEqual(actions.first, .priorityChanged(from: 200, to: 100))
        XCTAssertEqual(b.nextDeadline!, before + (b.skewTime - oldSkew), "Skew_Time of 100 instead of 200")
        XCTAssertEqual(actions.timer, .some(b.nextDeadline))
    }

    func testFaultResignsAMasterAndClearingItWaitsAsBackup() {
        var (a, t) = master(config(priority: 150))
        let fault = a.setTracking(VRRPTrackingStatus(fault: "track script chk fails"), now: t + .seconds(1))
        XCTAssertEqual(a.state, .fault)
        XCTAssertEqual(fault.advertisements.map(\.priority), [0], "resigns first, so the backup takes over after Skew_Time")
        XCTAssertTrue(fault.contains(.removeAddresses([vip])))
        XCTAssertEqual(fault.transitions.map { "\($0.from)->\($0.to)" }, ["MASTER->FAULT"])
        XCTAssertEqual(fault.transitions.first?.reason, .fault("track script chk fails"))
        XCTAssertEqual(fault.timer, .some(nil))

        // In FAULT nothing heard counts and no timer runs.
        let other = VRRPInstance(configuration: config(priority: 100), primaryAddress: lower).advertisement(priority: 100)
        XCTAssertEqual(a.receive(other, source: lower, timeToLive: 255, now: t + .seconds(2)), [])
        XCTAssertEqual(a.timerFired(now: t + .seconds(60)), [])

        let cleared = a.setTracking(VRRPTrackingStatus(), now: t + .seconds(3))
        XCTAssertEqual(a.state, .backup)
        XCTAssertEqual(cleared.transitions.map { "\($0.from)->\($0.to)" }, ["FAULT->BACKUP"])
        XCTAssertEqual(a.nextDeadline, t + .seconds(3) + a.masterDownInterval)
        XCTAssertTrue(cleared.advertisements.isEmpty)
    }

    func testAnInstanceStartedWithAFaultGoesStraightToFault() {
        var i = VRRPInstance(configuration: config(), primaryAddress: me)
        XCTAssertEqual(i.setTracking(VRRPTrackingStatus(fault: "down"), now: .zero), [], "before start: kept for it")
        let actions = i.start(now: .seconds(1))
        XCTAssertEqual(i.state, .fault)
        XCTAssertEqual(actions.transitions.map { "\($0.from)->\($0.to)" }, ["INIT->FAULT"])
        XCTAssertNil(i.nextDeadline)
        XCTAssertEqual(i.shutdown(now: .seconds(2)).transitions.map { "\($0.from)->\($0.to)" }, ["FAULT->INIT"])
    }

    func testTheOwnerIgnoresWeightsButNotFaults() {
        var (o, t) = (VRRPInstance(configuration: config(priority: 255), primaryAddress: me), Duration.zero)
        _ = o.start(now: t)
        XCTAssertEqual(o.setTracking(VRRPTrackingStatus(priorityOffset: -100), now: t), [], "255 never moves")
        XCTAssertEqual(o.effectivePriority, 255)
        _ = o.setTracking(VRRPTrackingStatus(priorityOffset: -100, fault: "x"), now: t)
        XCTAssertEqual(o.state, .fault)
        t += .seconds(1)
        let back = o.setTracking(VRRPTrackingStatus(priorityOffset: -100), now: t)
        XCTAssertEqual(o.state, .master, "the owner leaves FAULT as MASTER")
        XCTAssertEqual(back.transitions.map(\.reason), [.faultCleared])
    }
}
