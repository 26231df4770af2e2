import LBSpec
import LBTestKit
@testable import LBVRRP
import XCTest

/// `reconfigure` and `repairAddresses` with a virtual clock: a running instance takes a new document's
/// configuration without a state transition and without touching a virtual address that stays, which is
/// what keepalived's reload gets wrong (acassen/keepalived#2159, #2240, #1603).
final class VRRPReconfigureTests: XCTestCase {
    let me = IPAddress("10.99.0.2")!
    let lower = IPAddress("10.99.0.1")!
    let higher = IPAddress("10.99.0.3")!
    let vip3 = CIDR("10.99.0.202/24")!

    func config(priority: Int = 100, version: VRRPVersion = .v2, interval: Int? = nil, vips: [CIDR] = [vip],
                preempt: Bool = true, delay: Duration = .zero, peers: [IPAddress] = [],
                garp: GratuitousARPSettings = .init()) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: version, priority: priority,
                          advertisementIntervalCentiseconds: interval ?? (version == .v2 ? 100 : 10),
                          authPassword: version == .v2 ? "s3cret" : nil, preempt: preempt, preemptDelay: delay,
                          unicastPeers: peers, virtualAddresses: vips, gratuitousARP: garp)
    }

    func advert(_ c: VRRPConfiguration, priority: UInt8? = nil) -> VRRPAdvertisement {
        VRRPInstance(configuration: c, primaryAddress: lower).advertisement(priority: priority ?? UInt8(c.priority))
    }

    func datagram(_ a: VRRPAdvertisement, from source: IPAddress) -> [UInt8] {
        IPv4Header(source: source, destination: group).encoded(payload: a.encoded(source: source, destination: group))
    }

    func backup(_ c: VRRPConfiguration) -> VRRPInstance {
        var i = VRRPInstance(configuration: c, primaryAddress: me)
        _ = i.start(now: .zero)
        return i
    }

    func master(_ c: VRRPConfiguration) -> (VRRPInstance, Duration) {
        var i = backup(c)
        let t = i.nextDeadline!
        _ = i.timerFired(now: t)
        XCTAssertEqual(i.state, .master)
        return (i, t)
    }

    /// The promise of `reconfigure`: no transition, and no address of `kept` removed.
    func assertHitless(_ actions: [VRRPAction], kept: [CIDR], _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actions.transitions, [], "\(what): a reconfigure never transitions", file: file, line: line)
        for case .removeAddresses(let removed) in actions {
            XCTAssertEqual(Set(removed).intersection(kept), [], "\(what): a kept address was removed", file: file, line: line)
        }
    }

    // MARK: nothing to do

    func testIdenticalConfigurationReturnsNoAction() throws {
        var (m, _) = master(config())
        XCTAssertEqual(try m.reconfigure(config(), now: .seconds(10)), [])
        var b = backup(config())
        XCTAssertEqual(try b.reconfigure(config(), now: .seconds(1)), [])
        var fresh = VRRPInstance(configuration: config(), primaryAddress: me)
        XCTAssertEqual(try fresh.reconfigure(config(), now: .zero), [])
    }

    // MARK: refused

    func testChangesThatNeedANewInstanceAreRefusedAndChangeNothing() {
        var vrid = config(); vrid.virtualRouterID = 52
        var interface = config(); interface.interface = "eth1"
        var source = config(); source.sourceAddress = higher
        var sourceIsVIP = config(); sourceIsVIP.virtualAddresses = [CIDR("10.99.0.2/24")!]
        let cases: [(String, VRRPConfiguration, String)] = [
            ("VRID", vrid, "the VRID changes from 51 to 52"),
            ("interface", interface, "the interface changes from eth0 to eth1"),
            ("version", config(version: .v3), "the version changes from VRRPv2 to VRRPv3"),
            ("to unicast", config(peers: [lower]), "multicast becomes unicast"),
            ("to owner", config(priority: 255), "priority 100 becomes 255"),
            ("source", source, "the source address changes from 10.99.0.2 to 10.99.0.3"),
            ("source becomes a VIP", sourceIsVIP, "the source address 10.99.0.2 becomes a virtual address"),
        ]
        for (name, new, reason) in cases {
            for var instance in [master(config()).0, backup(config())] {
                let before = instance
                XCTAssertThrowsError(try instance.reconfigure(new, now: .seconds(10)), name) { error in
                    XCTAssertEqual((error as? VRRPError)?.kind, .restartRequired, name)
                    XCTAssertTrue("\(error)".hasPrefix(reason), "\(name): \(error)")
                }
                XCTAssertEqual(instance.configuration, before.configuration, "\(name): nothing changed")
                XCTAssertEqual(instance.nextDeadline, before.nextDeadline, name)
                XCTAssertEqual(instance.restartReason(for: new).map { $0.hasPrefix(reason) }, true, name)
            }
        }
        // Unicast back to multicast, and an owner that would stop being one.
        var unicast = backup(config(peers: [lower]))
        XCTAssertThrowsError(try unicast.reconfigure(config(), now: .seconds(1))) { XCTAssertTrue("\($0)".contains("unicast becomes multicast"), "\($0)") }
        var owner = VRRPInstance(configuration: config(priority: 255), primaryAddress: me)
        _ = owner.start(now: .zero)
        XCTAssertThrowsError(try owner.reconfigure(config(priority: 254), now: .seconds(1))) { XCTAssertTrue("\($0)".contains("address owner"), "\($0)") }
        // A configuration that cannot run at all.
        var (m, _) = master(config())
        XCTAssertThrowsError(try m.reconfigure(config(vips: []), now: .seconds(10))) { XCTAssertEqual(($0 as? VRRPError)?.kind, .invalidConfiguration) }
        XCTAssertEqual(m.configuration, config())
    }

    func testTheSupervisorCanAskWithoutAnInstance() {
        XCTAssertNil(VRRPInstance.requiresRestart(from: config(), to: config(priority: 200, vips: [vip, vip2])))
        var named = config(); named.sourceAddress = me
        // Without the primary address, a new explicit source may differ from the one found at startup.
        XCTAssertNotNil(VRRPInstance.requiresRestart(from: config(), to: named))
        XCTAssertNil(VRRPInstance.requiresRestart(from: config(), to: named, primaryAddress: me))
        // Back to automatic: the instance keeps sending from the address it has.
        XCTAssertNil(VRRPInstance.requiresRestart(from: named, to: config()))
    }

    // MARK: priority

    func testMasterAdvertisesANewPriorityAtOnceAndKeepsItsAdvertTimer() throws {
        var (m, t0) = master(config(garp: GratuitousARPSettings(repeatDelay: nil)))
        let deadline = m.nextDeadline
        let sent = m.statistics.advertisementsSent
        let actions = try m.reconfigure(config(priority: 50, garp: GratuitousARPSettings(repeatDelay: nil)), now: t0 + .milliseconds(400))
        XCTAssertEqual(actions, [.sendAdvertisement(m.advertisement(priority: 50))], "no timer moved, so no scheduleTimer")
        XCTAssertEqual(m.nextDeadline, deadline)
        XCTAssertEqual(m.statistics.advertisementsSent, sent + 1)
        XCTAssertEqual(m.state, .master)
        XCTAssertEqual(m.timerFired(now: deadline!).advertisements.map(\.priority), [50])

        // A backup of priority 80 hears the lower priority at once and starts preempting.
        var b = backup(config(priority: 80))
        _ = b.receive(datagram: datagram(advert(config(priority: 100)), from: higher), now: t0)
        _ = b.receive(datagram: datagram(actions.advertisements[0], from: higher), now: t0 + .milliseconds(400))
        XCTAssertEqual(b.statistics.lowerPriorityDiscarded, 1)
        let takeover = b.timerFired(now: b.nextDeadline!)
        XCTAssertEqual(takeover.transitions.first?.reason, .preempted(higher, priority: 50))
    }

    func testBackupUsesANewPriorityFromTheNextMasterDownIntervalOn() throws {
        var b = backup(config())
        _ = b.receive(datagram: datagram(advert(config(priority: 150)), from: lower), now: .seconds(1))
        let armed = b.nextDeadline
        XCTAssertEqual(armed, .seconds(1) + .nanoseconds(3_609_375_000))
        XCTAssertEqual(try b.reconfigure(config(priority: 120), now: .seconds(2)), [], "the armed timer stays")
        XCTAssertEqual(b.nextDeadline, armed)
        XCTAssertEqual(b.state, .backup)
        // Skew_Time for 120: 136/256 s.
        XCTAssertEqual(b.receive(datagram: datagram(advert(config(priority: 150)), from: lower), now: .seconds(2)),
                       [.scheduleTimer(at: .seconds(2) + .seconds(3) + .nanoseconds(531_250_000))])
    }

    /// A backup preempting a lower-priority master discards its adverts and lets the timer run out. If the
    /// new settings no longer preempt it, that timer must not fire: it is re-armed as if the master had
    /// just been heard, and the next advert is accepted.
    func testBackupThatNoLongerPreemptsDoesNotTakeOver() throws {
        let lowMaster = advert(config(priority: 100))
        for (name, new) in [("priority below the master's", config(priority: 90)), ("nopreempt", config(priority: 150, preempt: false)),
                            ("preempt delay", config(priority: 150, delay: .seconds(30)))] {
            var b = backup(config(priority: 150))
            XCTAssertEqual(b.receive(datagram: datagram(lowMaster, from: lower), now: .seconds(1)), [], "\(name): discarded, preempting")
            let takeoverAt = b.nextDeadline!
            let actions = try b.reconfigure(new, now: takeoverAt - .milliseconds(10))
            assertHitless(actions, kept: [vip], name)
            XCTAssertGreaterThan(b.nextDeadline!, takeoverAt, name)
            XCTAssertEqual(b.timerFired(now: takeoverAt), [.scheduleTimer(at: b.nextDeadline)], "\(name): no takeover")
            XCTAssertEqual(b.state, .backup, name)
            // The master's adverts keep it backup from now on.
            var t = takeoverAt
            for _ in 0..<10 {
                t += .seconds(1)
                _ = b.receive(datagram: datagram(lowMaster, from: lower), now: t)
                XCTAssertEqual(b.timerFired(now: t + .milliseconds(500)).transitions, [], name)
            }
            XCTAssertEqual(b.state, .backup, name)
            XCTAssertEqual(b.masterAddress, lower, name)
        }
        // Still preempting under the new settings (a higher priority yet): the takeover goes ahead as armed.
        var b = backup(config(priority: 150))
        _ = b.receive(datagram: datagram(lowMaster, from: lower), now: .seconds(1))
        let takeoverAt = b.nextDeadline!
        XCTAssertEqual(try b.reconfigure(config(priority: 200), now: .seconds(2)), [])
        XCTAssertEqual(b.nextDeadline, takeoverAt)
    }

    // MARK: advertisement interval

    func testMasterRestartsItsAdvertTimerWithANewInterval() throws {
        for (version, from, to) in [(VRRPVersion.v3, 10, 50), (.v3, 50, 10), (.v2, 100, 200)] {
            var (m, t0) = master(config(version: version, interval: from, garp: GratuitousARPSettings(repeatDelay: nil)))
            let now = t0 + .milliseconds(from * 10 / 2)
            let new = config(version: version, interval: to, garp: GratuitousARPSettings(repeatDelay: nil))
            let actions = try m.reconfigure(new, now: now)
            XCTAssertEqual(actions, [.sendAdvertisement(m.advertisement(priority: 100)), .scheduleTimer(at: now + .milliseconds(to * 10))], "\(version) \(from) -> \(to)")
            XCTAssertEqual(actions.advertisements.first?.intervalCentiseconds, to)
            XCTAssertEqual(m.masterAdvertisementInterval, .milliseconds(to * 10))
            let next = m.timerFired(now: now + .milliseconds(to * 10))
            XCTAssertEqual(next.advertisements.count, 1)
            XCTAssertEqual(next.timer, .some(now + .milliseconds(to * 20)))
        }
        // A v3 backup learns the slower interval from the advert sent at once, before its timer (3 × 0.1 s +
        // skew, from the last advert) would run out.
        var b = backup(config(version: .v3))
        _ = b.receive(datagram: datagram(advert(config(priority: 150, version: .v3)), from: lower), now: .seconds(1))
        _ = b.receive(datagram: datagram(advert(config(priority: 150, version: .v3, interval: 100)), from: lower), now: .seconds(1) + .milliseconds(50))
        XCTAssertEqual(b.masterAdvertisementInterval, .seconds(1))
        XCTAssertEqual(b.nextDeadline, .seconds(1) + .milliseconds(50) + .seconds(3) + .nanoseconds(609_375_000))
    }

    func testBackupUsesANewIntervalFromTheNextMasterDownIntervalOn() throws {
        // v2: its own interval; the armed timer stays.
        var b = backup(config())
        _ = b.receive(datagram: datagram(advert(config(priority: 150)), from: lower), now: .seconds(1))
        let armed = b.nextDeadline
        XCTAssertEqual(try b.reconfigure(config(interval: 200), now: .seconds(2)), [])
        XCTAssertEqual(b.nextDeadline, armed)
        XCTAssertEqual(b.masterAdvertisementInterval, .seconds(2))
        XCTAssertEqual(b.receive(datagram: datagram(advert(config(priority: 150, interval: 200)), from: lower), now: .seconds(3)),
                       [.scheduleTimer(at: .seconds(3) + .seconds(6) + .nanoseconds(609_375_000))])
        // v3: Master_Adver_Interval is the master's, learned from its adverts, not ours.
        var v3 = backup(config(version: .v3))
        _ = v3.receive(datagram: datagram(advert(config(priority: 150, version: .v3, interval: 20)), from: lower), now: .seconds(1))
        XCTAssertEqual(try v3.reconfigure(config(version: .v3, interval: 50), now: .seconds(1)), [])
        XCTAssertEqual(v3.masterAdvertisementInterval, .milliseconds(200))
        // Before any master was heard, its own new interval is all it has.
        var waiting = backup(config(version: .v3))
        XCTAssertEqual(try waiting.reconfigure(config(version: .v3, interval: 50), now: .milliseconds(100)), [])
        XCTAssertEqual(waiting.masterAdvertisementInterval, .milliseconds(500))
        XCTAssertEqual(waiting.nextDeadline, .zero + .milliseconds(300) + .nanoseconds(60_937_500), "the armed timer stays")
    }

    // MARK: virtual addresses

    func testMasterAddsAndAnnouncesOnlyNewAddressesAndLeavesKeptOnes() throws {
        var (m, t0) = master(config(vips: [vip, vip2]))
        let actions = try m.reconfigure(config(vips: [vip, vip3]), now: t0 + .milliseconds(300))
        XCTAssertEqual(actions, [.addAddresses([vip3]), .sendGratuitousARP([vip3.address], count: 5), .removeAddresses([vip2])])
        assertHitless(actions, kept: [vip])
        XCTAssertEqual(m.state, .master)
        XCTAssertEqual(m.advertisement(priority: 100).addresses, [vip.address, vip3.address])
        // The second burst of gratuitous ARP (5 s after becoming master) covers the current list.
        while let next = m.nextDeadline, next <= t0 + .seconds(5) {
            for case .sendGratuitousARP(let addresses, _) in m.timerFired(now: next) {
                XCTAssertEqual(addresses, [vip.address, vip3.address])
            }
        }
        // Reordering is no change; only adding sends no removal.
        XCTAssertEqual(try m.reconfigure(config(vips: [vip3, vip]), now: t0 + .seconds(6)), [])
        XCTAssertEqual(try m.reconfigure(config(vips: [vip3, vip, vip2]), now: t0 + .seconds(6)),
                       [.addAddresses([vip2]), .sendGratuitousARP([vip2.address], count: 5)])
    }

    /// A new prefix for the same address is added before the old one goes, so the address never leaves
    /// the interface.
    func testAPrefixChangeAddsTheNewPrefixFirst() throws {
        var (m, t0) = master(config())
        let host = CIDR("10.99.0.200/32")!
        XCTAssertEqual(try m.reconfigure(config(vips: [host]), now: t0 + .milliseconds(100)),
                       [.addAddresses([host]), .sendGratuitousARP([host.address], count: 5), .removeAddresses([vip])])
    }

    /// An address moving to another interface (keepalived's `dev`) is added there and announced, then
    /// taken off the old one; the shell removes it where the old configuration had it.
    func testAnAddressMovingToAnotherInterfaceIsAddedThereFirst() throws {
        var (m, t0) = master(config(vips: [vip, vip2]))
        var moved = config(vips: [vip, vip2])
        moved.vipInterfaces = [vip2.address: "eth1"]
        XCTAssertEqual(moved.interface(of: vip2.address), "eth1")
        XCTAssertEqual(moved.interface(of: vip.address), moved.interface)
        XCTAssertEqual(try m.reconfigure(moved, now: t0 + .milliseconds(100)),
                       [.addAddresses([vip2]), .sendGratuitousARP([vip2.address], count: 5), .removeAddresses([vip2])])
        XCTAssertEqual(m.advertisement(priority: 100).addresses, [vip.address, vip2.address], "the advert lists it wherever it is")
        XCTAssertEqual(try m.reconfigure(moved, now: t0 + .milliseconds(200)), [], "no move, no change")
        var b = backup(config(vips: [vip, vip2]))
        XCTAssertEqual(try b.reconfigure(moved, now: .seconds(1)), [.removeAddresses([vip2])], "a backup only makes sure the old place is empty")
        XCTAssertEqual(moved.byInterface([vip, vip2], \.address).map(\.interface), [moved.interface, "eth1"])
        moved.vipInterfaces = [CIDR("10.99.0.9/24")!.address: "eth1"]
        XCTAssertEqual(moved.problems, ["an interface is named for 10.99.0.9, which is no virtual address of the instance"])
    }

    func testBackupOnlyRemovesAddressesThatLeft() throws {
        var b = backup(config(vips: [vip, vip2]))
        let deadline = b.nextDeadline
        let actions = try b.reconfigure(config(vips: [vip, vip3]), now: .seconds(1))
        XCTAssertEqual(actions, [.removeAddresses([vip2])])
        assertHitless(actions, kept: [vip, vip3])
        XCTAssertEqual(try b.reconfigure(config(vips: [vip, vip3, vip2]), now: .seconds(1)), [], "nothing to add on a backup")
        XCTAssertEqual(b.nextDeadline, deadline)
    }

    // MARK: stored settings

    /// Everything else is stored and used from the next packet or timer on; none of it acts at once.
    func testOtherSettingsAreStoredWithoutAnyAction() throws {
        let base = config(peers: [lower])
        var password = base; password.authPassword = "n3w"
        var name = base; name.name = "web"
        var source = base; source.sourceAddress = me
        let cases: [(String, VRRPConfiguration)] = [
            ("password", password),
            ("preempt", config(preempt: false, peers: [lower])),
            ("preempt delay", config(delay: .seconds(5), peers: [lower])),
            ("unicast peers", config(peers: [lower, higher])),
            ("gratuitous ARP count", config(peers: [lower], garp: GratuitousARPSettings(count: 2))),
            ("source address, as it is", source),
            ("name", name),
        ]
        for (what, new) in cases {
            var (m, t0) = master(base)
            XCTAssertEqual(try m.reconfigure(new, now: t0 + .milliseconds(500)), [], "\(what), master")
            XCTAssertEqual(m.configuration, new)
            XCTAssertEqual(m.state, .master)
            var b = backup(base)
            XCTAssertEqual(try b.reconfigure(new, now: .seconds(1)), [], "\(what), backup")
            XCTAssertEqual(b.configuration, new)
            XCTAssertEqual(b.state, .backup)
        }
        // The new password is in the next advert, and the new peer is heard.
        var (m, t0) = master(base)
        _ = try m.reconfigure(password, now: t0)
        XCTAssertEqual(m.timerFired(now: m.nextDeadline!).advertisements.first?.authData, VRRPAdvertisement.passwordData("n3w"))
        var b = backup(base)
        XCTAssertEqual(b.receive(datagram: datagram(advert(config(priority: 150)), from: higher), now: .seconds(1)).discards.map(\.reason), [.notPeer])
        _ = try b.reconfigure(config(peers: [lower, higher]), now: .seconds(1))
        XCTAssertEqual(b.receive(datagram: datagram(advert(config(priority: 150)), from: higher), now: .seconds(2)).discards, [])
        XCTAssertEqual(b.masterAddress, higher)
    }

    func testGratuitousARPTimersFollowTheNewSettings() throws {
        var (m, t0) = master(config(garp: GratuitousARPSettings(repeatDelay: .seconds(5))))
        // No second burst any more: its deadline goes.
        XCTAssertEqual(try m.reconfigure(config(garp: GratuitousARPSettings(repeatDelay: nil)), now: t0 + .milliseconds(500)), [])
        XCTAssertEqual(m.nextDeadline, t0 + .seconds(1), "the advert timer only; it was the earliest, so no timer moved")
        // Refreshes switched on: the first one is an interval from now.
        let refresh = config(garp: GratuitousARPSettings(repeatDelay: nil, refreshInterval: .milliseconds(300)))
        XCTAssertEqual(try m.reconfigure(refresh, now: t0 + .milliseconds(600)), [.scheduleTimer(at: t0 + .milliseconds(900))])
        XCTAssertEqual(m.timerFired(now: t0 + .milliseconds(900)), [.sendGratuitousARP([vip.address], count: 1), .scheduleTimer(at: t0 + .seconds(1))])
        // And off again.
        XCTAssertEqual(try m.reconfigure(config(garp: GratuitousARPSettings(repeatDelay: nil)), now: t0 + .milliseconds(950)), [])
        XCTAssertEqual(m.timerFired(now: t0 + .seconds(1)).timer, .some(t0 + .seconds(2)))
    }

    // MARK: not running

    func testBeforeStartAndAfterShutdownTheConfigurationIsOnlyStored() throws {
        var fresh = VRRPInstance(configuration: config(), primaryAddress: me)
        XCTAssertEqual(try fresh.reconfigure(config(version: .v2, interval: 300, vips: [vip2]), now: .zero), [])
        XCTAssertEqual(fresh.masterDownInterval, .seconds(9) + .nanoseconds(609_375_000))
        XCTAssertEqual(fresh.start(now: .zero), [.removeAddresses([vip2]),
                                                 .notify(VRRPTransition(from: .initialize, to: .backup, reason: .startup(masterDownInterval: fresh.masterDownInterval), at: .zero, priority: 100)),
                                                 .scheduleTimer(at: fresh.masterDownInterval)])
        var (m, _) = master(config())
        _ = m.shutdown(now: .seconds(10))
        XCTAssertEqual(try m.reconfigure(config(priority: 200, vips: [vip2]), now: .seconds(11)), [])
        XCTAssertEqual(m.state, .initialize)
        XCTAssertNil(m.nextDeadline)
    }

    // MARK: everything at once

    /// Random changes of every in-place setting, at random instants of a master's and a backup's life:
    /// never a transition, never a kept address removed, never an added address missing on the master.
    func testRandomChangesAreAlwaysHitless() throws {
        var rng = SplitMix64(seed: 5798)
        let pool = (200...207).map { CIDR("10.99.0.\($0)/24")! }
        func randomConfig(version: VRRPVersion) -> VRRPConfiguration {
            var vips = pool.filter { _ in rng.next() % 2 == 0 }
            if vips.isEmpty { vips = [pool[Int(rng.next() % 8)]] }
            let intervals = version == .v2 ? [100, 200, 300] : [5, 10, 50, 100]
            return config(priority: Int(1 + rng.next() % 254), version: version, interval: intervals[Int(rng.next() % UInt64(intervals.count))],
                          vips: vips, preempt: rng.next() % 2 == 0, delay: .seconds(Int(rng.next() % 3)),
                          garp: GratuitousARPSettings(count: Int(rng.next() % 3), repeatDelay: rng.next() % 2 == 0 ? nil : .seconds(1),
                                                      refreshInterval: rng.next() % 2 == 0 ? nil : .milliseconds(700)))
        }
        for version in VRRPVersion.allCases {
            var (m, t) = master(randomConfig(version: version))
            var b = backup(randomConfig(version: version))
            // The backup follows an address owner that has the backup's settings, whatever they become.
            func ownerAdvert() -> [UInt8] {
                var owner = b.configuration
                owner.priority = 255
                return datagram(advert(owner), from: lower)
            }
            XCTAssertEqual(b.receive(datagram: ownerAdvert(), now: .zero).discards, [])
            var held = Set(m.configuration.virtualAddresses)
            for _ in 0..<300 {
                t += .milliseconds(Int64(rng.next() % 400))
                let newM = randomConfig(version: version), newB = randomConfig(version: version)
                let keptM = m.configuration.virtualAddresses.filter(newM.virtualAddresses.contains)
                let actions = try m.reconfigure(newM, now: t)
                assertHitless(actions, kept: keptM, "master")
                for action in actions {
                    if case .addAddresses(let a) = action { held.formUnion(a) }
                    if case .removeAddresses(let r) = action { held.subtract(r) }
                }
                XCTAssertEqual(held, Set(newM.virtualAddresses), "the master holds exactly the new list")
                assertHitless(try b.reconfigure(newB, now: t), kept: [])
                // Time goes on; the master keeps advertising, the backup keeps hearing the owner's adverts.
                while let next = m.nextDeadline, next <= t { XCTAssertEqual(m.timerFired(now: next).transitions, []) }
                XCTAssertEqual(b.receive(datagram: ownerAdvert(), now: t).discards, [])
                XCTAssertEqual(b.timerFired(now: t).transitions, [])
                XCTAssertEqual(m.state, .master)
                XCTAssertEqual(b.state, .backup)
            }
        }
    }

    // MARK: the group

    /// A new VIP list reaches the routers of a group one at a time. The backup keeps following its master
    /// whichever of the two gets it first, so there is never a second master (keepalived discards the
    /// adverts and makes one: its issue #1603).
    func testAnAddressListChangeRollsThroughTheGroupWithOneMaster() throws {
        for masterFirst in [true, false] {
            for version in VRRPVersion.allCases {
                let old = [vip], new = [vip, vip2]
                var routers = [VRRPInstance(configuration: config(priority: 150, version: version, vips: old), primaryAddress: lower),
                               VRRPInstance(configuration: config(priority: 100, version: version, vips: old), primaryAddress: higher)]
                let sources = [lower, higher]
                var now = Duration.zero
                var masters: [Int] = []
                var transitions: [VRRPTransition] = []
                func deliver(_ actions: [VRRPAction], from i: Int) {
                    transitions += actions.transitions
                    for a in actions.advertisements {
                        let reply = routers[1 - i].receive(datagram: datagram(a, from: sources[i]), now: now)
                        XCTAssertEqual(reply.discards, [], "\(version)")
                        deliver(reply, from: 1 - i)
                    }
                }
                for i in 0..<2 { deliver(routers[i].start(now: now), from: i) }
                let interval = routers[0].configuration.advertisementInterval
                while now < interval * 40 {
                    now = routers.compactMap(\.nextDeadline).min()!
                    for i in 0..<2 where (routers[i].nextDeadline ?? .seconds(1_000_000)) <= now { deliver(routers[i].timerFired(now: now), from: i) }
                    // The first router to get the new list gets it after 10 intervals, the other 10 later.
                    let first = masterFirst ? 0 : 1
                    if now >= interval * 10 && routers[first].configuration.virtualAddresses == old {
                        var c = routers[first].configuration; c.virtualAddresses = new
                        deliver(try routers[first].reconfigure(c, now: now), from: first)
                    }
                    if now >= interval * 20 && routers[1 - first].configuration.virtualAddresses == old {
                        var c = routers[1 - first].configuration; c.virtualAddresses = new
                        deliver(try routers[1 - first].reconfigure(c, now: now), from: 1 - first)
                    }
                    if now > interval * 5 { masters.append(routers.filter { $0.state == .master }.count) }
                }
                let what = "\(version), \(masterFirst ? "master" : "backup") first"
                XCTAssertEqual(Set(masters), [1], what)
                XCTAssertEqual(transitions.map { "\($0.from)->\($0.to)" }, ["INIT->BACKUP", "INIT->BACKUP", "BACKUP->MASTER"], what)
                XCTAssertEqual(routers[0].state, .master, what)
                XCTAssertGreaterThan(routers[1].statistics.addressListMismatchesAccepted, 5, what)
                XCTAssertLessThan(routers[1].statistics.addressListMismatchesAccepted, 12, "\(what): only while the lists differ")
                XCTAssertEqual(routers[1].statistics.totalDiscarded, 0, what)
            }
        }
    }

    /// Following the master through a change is no licence for strangers: another router's advert with
    /// other addresses is still discarded, and so is one heard before any master was followed.
    func testOnlyTheFollowedMasterMayAdvertiseOtherAddresses() {
        var b = backup(config())
        let other = advert(config(priority: 150, vips: [vip2]))
        XCTAssertEqual(b.receive(datagram: datagram(other, from: lower), now: .seconds(1)).discards.map(\.reason), [.addressList], "no master followed yet")
        _ = b.receive(datagram: datagram(advert(config(priority: 150)), from: lower), now: .seconds(1))
        XCTAssertEqual(b.receive(datagram: datagram(other, from: higher), now: .seconds(2)).discards.map(\.reason), [.addressList], "not the master")
        XCTAssertEqual(b.receive(datagram: datagram(other, from: lower), now: .seconds(2)), [.scheduleTimer(at: .seconds(2) + .nanoseconds(3_609_375_000))])
        XCTAssertEqual(b.statistics.addressListMismatchesAccepted, 1)
        // A master does not follow anyone.
        var (m, _) = master(config())
        XCTAssertEqual(m.receive(datagram: datagram(advert(config(priority: 200, vips: [vip2])), from: lower), now: .seconds(10)).discards.map(\.reason), [.addressList])
        XCTAssertEqual(m.state, .master)
    }

    // MARK: repair

    func testRepairPutsBackOnlyConfiguredAddressesAndOnlyAsMaster() {
        var (m, _) = master(config(vips: [vip, vip2]))
        let foreign = CIDR("192.0.2.1/24")!
        XCTAssertEqual(m.repairAddresses(missing: [vip2, foreign, vip2]), [.addAddresses([vip2]), .sendGratuitousARP([vip2.address], count: 5)])
        XCTAssertEqual(m.statistics.addressesRepaired, 1)
        XCTAssertEqual(m.repairAddresses(missing: [foreign, CIDR("10.99.0.200/32")!]), [], "not configured (another prefix is another address)")
        XCTAssertEqual(m.repairAddresses(missing: []), [])
        XCTAssertEqual(m.state, .master)
        var quiet = master(config(garp: GratuitousARPSettings(count: 0, repeatDelay: nil))).0
        XCTAssertEqual(quiet.repairAddresses(missing: [vip]), [.addAddresses([vip])])
        var b = backup(config())
        XCTAssertEqual(b.repairAddresses(missing: [vip]), [], "a backup holds no address")
        var fresh = VRRPInstance(configuration: config(), primaryAddress: me)
        XCTAssertEqual(fresh.repairAddresses(missing: [vip]), [])
        XCTAssertEqual(b.statistics.addressesRepaired, 0)
    }
}

