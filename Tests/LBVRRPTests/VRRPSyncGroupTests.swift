import LBSpec
@testable import LBVRRP
import XCTest

/// Sync groups (keepalived's vrrp_sync_group): the group's decisions as a value, and an instance that
/// waits for its group instead of becoming master by its own timer.
final class VRRPSyncGroupTests: XCTestCase {
    let me = IPAddress("10.99.0.2")!
    let lower = IPAddress("10.99.0.1")!
    let vip = CIDR("10.99.0.200/24")!

    func config(_ group: String? = "VG_1") -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: .v3, priority: 100, advertisementIntervalCentiseconds: 10,
                          virtualAddresses: [vip], syncGroup: group)
    }

    func started(_ c: VRRPConfiguration) -> VRRPInstance {
        var i = VRRPInstance(configuration: c, primaryAddress: me)
        _ = i.start(now: .zero)
        return i
    }

    // MARK: the instance

    func testAMemberWaitsForItsGroupInsteadOfBecomingMasterByItself() throws {
        var i = started(config())
        let down = try XCTUnwrap(i.nextDeadline)
        let fired = i.timerFired(now: down)
        XCTAssertEqual(i.state, .backup, "no MASTER by its own timer")
        XCTAssertEqual(fired.filter { if case .syncWantsMaster = $0 { true } else { false } }, [.syncWantsMaster(true)])
        XCTAssertTrue(i.wantsMaster)
        XCTAssertEqual(i.nextDeadline, down + i.masterDownInterval, "re-armed, as keepalived does")
        // Firing again while still waiting says nothing new.
        XCTAssertFalse(i.timerFired(now: i.nextDeadline!).contains(.syncWantsMaster(true)))
        // A master heard again: no longer wanting, and the group is told.
        let advert = VRRPInstance(configuration: config(), primaryAddress: lower).advertisement(priority: 150)
        let heard = i.receive(advert, source: lower, timeToLive: 255, now: i.nextDeadline! - .milliseconds(1))
        XCTAssertTrue(heard.contains(.syncWantsMaster(false)), "\(heard)")
        XCTAssertFalse(i.wantsMaster)

        // Promoted by the group: MASTER with its addresses, the reason naming the group.
        let promoted = i.syncPromote(group: "VG_1", because: "every member would be MASTER", now: .seconds(5))
        XCTAssertEqual(i.state, .master)
        XCTAssertTrue(promoted.contains(.addAddresses([vip])))
        XCTAssertEqual(promoted.transitions.map(\.description), ["BACKUP -> MASTER: sync group VG_1: every member would be MASTER"])
        XCTAssertEqual(i.syncPromote(group: "VG_1", because: "again", now: .seconds(5)), [], "a master stays")

        // Demoted by the group: resigns with priority 0 and gives up its addresses, then waits as BACKUP.
        let demoted = i.syncDemote(group: "VG_1", because: "VI_52 left MASTER", now: .seconds(6))
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(demoted.advertisements.map(\.priority), [0])
        XCTAssertTrue(demoted.contains(.removeAddresses([vip])))
        XCTAssertEqual(demoted.transitions.map(\.description), ["MASTER -> BACKUP: sync group VG_1: VI_52 left MASTER"])
        XCTAssertEqual(i.nextDeadline, .seconds(6) + i.masterDownInterval)
        XCTAssertEqual(i.syncDemote(group: "VG_1", because: "again", now: .seconds(6)), [], "a backup stays")
    }

    func testOutOfItsGroupAnInstanceIsElectedAlone() throws {
        var alone = started(config(nil))
        XCTAssertEqual(alone.timerFired(now: alone.nextDeadline!).transitions.map(\.to), [.master])
        var waiting = started(config())
        _ = waiting.timerFired(now: waiting.nextDeadline!)
        XCTAssertTrue(waiting.wantsMaster)
        XCTAssertEqual(try waiting.reconfigure(config(nil), now: .seconds(1)).transitions, [], "leaving the group is no transition")
        XCTAssertFalse(waiting.wantsMaster)
        XCTAssertEqual(waiting.timerFired(now: waiting.nextDeadline!).transitions.map(\.to), [.master], "its next timeout elects it")
        var owner = config()
        owner.priority = 255
        XCTAssertEqual(owner.problems, ["an address owner (priority 255) is master at once and cannot wait for its sync group"])
    }

    // MARK: the group

    func testNoMemberIsMasterBeforeEveryOneWouldBe() {
        var g = VRRPSyncGroup(name: "VG_1", members: ["VI_1", "VI_2"])
        XCTAssertEqual(g.transitioned("VI_1", from: .initialize, to: .backup), [])
        XCTAssertEqual(g.transitioned("VI_2", from: .initialize, to: .backup), [])
        XCTAssertEqual(g.wantsMaster("VI_1", true), [], "VI_2 still hears a master")
        XCTAssertEqual(g.wantsMaster("VI_1", false), [])
        XCTAssertEqual(g.wantsMaster("VI_2", true), [], "VI_1 no longer wants")
        XCTAssertEqual(g.wantsMaster("VI_1", true), [.promote("VI_1", because: "every member would be MASTER"),
                                                     .promote("VI_2", because: "every member would be MASTER")])
        XCTAssertEqual(g.transitioned("VI_1", from: .backup, to: .master), [])
        XCTAssertEqual(g.transitioned("VI_2", from: .backup, to: .master), [])
        XCTAssertEqual(g.wantsMaster("nobody", true), [], "not a member")
    }

    func testAMemberLeavingMasterTakesTheOthersToBackup() {
        var g = VRRPSyncGroup(name: "VG_1", members: ["VI_1", "VI_2", "VI_3"])
        for m in g.members { _ = g.transitioned(m, from: .backup, to: .master) }
        XCTAssertEqual(g.transitioned("VI_2", from: .master, to: .backup), [.demote("VI_1", because: "VI_2 left MASTER"),
                                                                            .demote("VI_3", because: "VI_2 left MASTER")])
        XCTAssertEqual(g.transitioned("VI_1", from: .master, to: .backup), [.demote("VI_3", because: "VI_1 left MASTER")],
                       "VI_3 has not moved yet: told again, which it ignores once in BACKUP")
        XCTAssertEqual(g.transitioned("VI_3", from: .master, to: .backup), [])
    }

    func testAMemberJoiningAMasterGroupIsPromotedWhenItWouldBeMaster() {
        var g = VRRPSyncGroup(name: "VG_1", members: ["VI_1"])
        _ = g.transitioned("VI_1", from: .backup, to: .master)
        XCTAssertEqual(g.setMembers(["VI_1", "VI_2"]), [])
        _ = g.transitioned("VI_2", from: .initialize, to: .backup)
        XCTAssertEqual(g.wantsMaster("VI_2", true), [.promote("VI_2", because: "every member would be MASTER")])
    }

    func testAFaultOfItsOwnPutsTheOthersInFaultUntilNoneHasOne() {
        var g = VRRPSyncGroup(name: "VG_1", members: ["VI_1", "VI_2", "VI_3"])
        XCTAssertEqual(g.ownFault("VI_1", "track script chk fails"), [
            .fault("VI_2", "sync group VG_1: VI_1 is in FAULT (track script chk fails)"),
            .fault("VI_3", "sync group VG_1: VI_1 is in FAULT (track script chk fails)"),
        ])
        XCTAssertEqual(g.ownFault("VI_1", "track script chk fails"), [], "no news")
        // A second member's own fault: the first now hears of it; the third keeps the first cause.
        XCTAssertEqual(g.ownFault("VI_2", "interface eth1 is down"), [.fault("VI_1", "sync group VG_1: VI_2 is in FAULT (interface eth1 is down)")])
        XCTAssertEqual(g.ownFault("VI_1", nil), [.fault("VI_2", nil), .fault("VI_3", "sync group VG_1: VI_2 is in FAULT (interface eth1 is down)")])
        XCTAssertEqual(g.ownFault("VI_2", nil), [.fault("VI_1", nil), .fault("VI_3", nil)])
        // A member gone with its fault takes the group fault with it.
        _ = g.ownFault("VI_3", "x")
        XCTAssertEqual(g.setMembers(["VI_1", "VI_2"]), [.fault("VI_1", nil), .fault("VI_2", nil)])
    }
}
