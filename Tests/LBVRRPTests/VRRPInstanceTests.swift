import Foundation
import LBSpec
@testable import LBVRRP
import XCTest

/// The state machine of RFC 3768 / RFC 5798 section 6 with a virtual clock: every event is fed with the
/// instant it happens at, and every timer is the deadline the instance asks for.
final class VRRPInstanceTests: XCTestCase {
    let me = IPAddress("10.99.0.2")!
    let lower = IPAddress("10.99.0.1")!
    let higher = IPAddress("10.99.0.3")!

    func config(priority: Int = 100, version: VRRPVersion = .v2, interval: Int = 100, password: String? = "s3cret",
                preempt: Bool = true, delay: Duration = .zero, peers: [IPAddress] = [],
                garp: GratuitousARPSettings = .init()) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: version, priority: priority,
                          advertisementIntervalCentiseconds: interval, authPassword: version == .v2 ? password : nil,
                          preempt: preempt, preemptDelay: delay, unicastPeers: peers, virtualAddresses: [vip], gratuitousARP: garp)
    }

    /// An advertisement as a peer with `c`'s settings would send it.
    func advert(_ c: VRRPConfiguration, priority: UInt8) -> VRRPAdvertisement {
        VRRPInstance(configuration: c, primaryAddress: lower).advertisement(priority: priority)
    }

    func datagram(_ a: VRRPAdvertisement, from source: IPAddress, ttl: UInt8 = 255) -> [UInt8] {
        var header = IPv4Header(source: source, destination: group)
        header.timeToLive = ttl
        return header.encoded(payload: a.encoded(source: source, destination: group))
    }

    func started(_ c: VRRPConfiguration, at t: Duration = .zero) -> VRRPInstance {
        var i = VRRPInstance(configuration: c, primaryAddress: me)
        _ = i.start(now: t)
        return i
    }

    func master(_ c: VRRPConfiguration) -> (VRRPInstance, Duration) {
        var i = started(c)
        let t = i.nextDeadline!
        _ = i.timerFired(now: t)
        XCTAssertEqual(i.state, .master)
        return (i, t)
    }

    // MARK: timer formulas

    func testSkewTimeAndMasterDownIntervalPerVersion() {
        // v2: Skew_Time = (256 - Priority) / 256 s; Master_Down_Interval = 3 × Advertisement_Interval + Skew_Time.
        let v2 = VRRPInstance(configuration: config(priority: 100), primaryAddress: me)
        XCTAssertEqual(v2.skewTime, .nanoseconds(609_375_000))
        XCTAssertEqual(v2.masterDownInterval, .nanoseconds(3_609_375_000))
        XCTAssertEqual(VRRPInstance(configuration: config(priority: 254), primaryAddress: me).skewTime, .nanoseconds(7_812_500))
        XCTAssertEqual(VRRPInstance(configuration: config(priority: 1, interval: 300), primaryAddress: me).masterDownInterval,
                       .nanoseconds(9_996_093_750), "v2 skew does not scale with the interval")
        // v3: Skew_Time = ((256 - Priority) × Master_Adver_Interval) / 256.
        let v3 = VRRPInstance(configuration: config(priority: 100, version: .v3, interval: 10), primaryAddress: me)
        XCTAssertEqual(v3.skewTime, .nanoseconds(60_937_500))
        XCTAssertEqual(v3.masterDownInterval, .nanoseconds(360_937_500))
        XCTAssertEqual(VRRPInstance(configuration: config(priority: 100, version: .v3, interval: 100), primaryAddress: me).skewTime,
                       .nanoseconds(609_375_000))
    }

    // MARK: Initialize

    func testStartupIsBackupWaitingMasterDownInterval() {
        var i = VRRPInstance(configuration: config(), primaryAddress: me)
        let actions = i.start(now: .seconds(100))
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(actions, [
            .removeAddresses([vip]),
            .notify(VRRPTransition(from: .initialize, to: .backup, reason: .startup(masterDownInterval: .nanoseconds(3_609_375_000)),
                                   at: .seconds(100), priority: 100)),
            .scheduleTimer(at: .seconds(100) + .nanoseconds(3_609_375_000)),
        ])
        XCTAssertEqual(i.start(now: .seconds(101)), [], "a second startup is ignored")
    }

    func testAddressOwnerIsMasterAtOnceAndNeverYields() {
        var i = VRRPInstance(configuration: config(priority: 255), primaryAddress: me)
        let actions = i.start(now: .zero)
        XCTAssertEqual(i.state, .master)
        XCTAssertEqual(actions.advertisements.map(\.priority), [255])
        XCTAssertTrue(actions.contains(.addAddresses([vip])))
        XCTAssertEqual(actions.transitions.first?.reason, .addressOwner)
        // An owner discards every advertisement (section 7.1), even a resign.
        let other = i.receive(datagram: datagram(advert(config(priority: 254), priority: 254), from: higher), now: .seconds(1))
        XCTAssertEqual(other.discards.map(\.reason), [.addressOwner])
        XCTAssertEqual(i.state, .master)
    }

    // MARK: Backup

    func testMasterDownTimerMakesMasterWithOrderedActions() {
        var i = started(config())
        let deadline = Duration.nanoseconds(3_609_375_000)
        XCTAssertEqual(i.timerFired(now: deadline - .milliseconds(1)), [.scheduleTimer(at: deadline)], "early wake-ups change nothing")
        let actions = i.timerFired(now: deadline)
        XCTAssertEqual(i.state, .master)
        XCTAssertEqual(actions, [
            .sendAdvertisement(VRRPAdvertisement(version: .v2, virtualRouterID: 51, priority: 100, intervalCentiseconds: 100,
                                                 addresses: [vip.address], authType: 1, authData: VRRPAdvertisement.passwordData("s3cret"))),
            .addAddresses([vip]),
            .sendGratuitousARP([vip.address], count: 5),
            .notify(VRRPTransition(from: .backup, to: .master, reason: .masterDown(silentFor: deadline, lastMaster: nil), at: deadline, priority: 100)),
            .scheduleTimer(at: deadline + .seconds(1)),
        ])
    }

    func testAdvertisementResetsMasterDownTimer() {
        var i = started(config())
        let c = config(priority: 150)
        XCTAssertEqual(i.receive(datagram: datagram(advert(c, priority: 150), from: lower), now: .seconds(2)),
                       [.scheduleTimer(at: .seconds(2) + .nanoseconds(3_609_375_000))])
        XCTAssertEqual(i.masterAddress, lower)
        XCTAssertEqual(i.timerFired(now: .seconds(4)), [.scheduleTimer(at: .seconds(2) + .nanoseconds(3_609_375_000))])
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(i.statistics.advertisementsReceived, 1)
    }

    func testPriorityZeroMakesBackupTakeOverAfterSkewTime() {
        for (version, interval, skew) in [(VRRPVersion.v2, 100, Duration.nanoseconds(609_375_000)), (.v3, 10, .nanoseconds(60_937_500))] {
            var i = started(config(version: version, interval: interval))
            _ = i.receive(datagram: datagram(advert(config(priority: 150, version: version, interval: interval), priority: 150), from: lower), now: .seconds(1))
            let actions = i.receive(datagram: datagram(advert(config(priority: 150, version: version, interval: interval), priority: 0), from: lower), now: .seconds(2))
            XCTAssertEqual(actions, [.scheduleTimer(at: .seconds(2) + skew)], "\(version)")
            XCTAssertEqual(i.statistics.priorityZeroReceived, 1)
            let takeover = i.timerFired(now: .seconds(2) + skew)
            XCTAssertEqual(i.state, .master)
            XCTAssertEqual(takeover.transitions.first?.reason, .masterResigned(lower, skew: skew))
        }
    }

    func testVersionThreeBackupLearnsTheMastersInterval() {
        var i = started(config(version: .v3, interval: 10))
        _ = i.receive(datagram: datagram(advert(config(priority: 150, version: .v3, interval: 50), priority: 150), from: lower), now: .seconds(1))
        XCTAssertEqual(i.masterAdvertisementInterval, .milliseconds(500))
        // Master_Down_Interval = 3 × 0.5 s + 156 × 0.5 s / 256.
        XCTAssertEqual(i.nextDeadline, .seconds(1) + .milliseconds(1500) + .nanoseconds(304_687_500))
        // v2 does not learn: a different interval is a misconfiguration, discarded.
        var v2 = started(config())
        XCTAssertEqual(v2.receive(datagram: datagram(advert(config(priority: 150, interval: 200), priority: 150), from: lower), now: .seconds(1)).discards.map(\.reason),
                       [.interval])
    }

    func testPreemptDiscardsALowerPriorityMasterAndTakesOver() {
        let c = config(priority: 150)
        var i = started(c)
        let down = i.nextDeadline!
        for t in 1...3 {
            XCTAssertEqual(i.receive(datagram: datagram(advert(config(priority: 100), priority: 100), from: lower), now: .seconds(t)), [],
                           "the lower-priority advert is discarded")
        }
        XCTAssertEqual(i.nextDeadline, down, "Master_Down_Timer was not reset")
        XCTAssertEqual(i.statistics.lowerPriorityDiscarded, 3)
        let actions = i.timerFired(now: down)
        XCTAssertEqual(i.state, .master)
        XCTAssertEqual(actions.transitions.first?.reason, .preempted(lower, priority: 100))
    }

    func testNopreemptFollowsALowerPriorityMaster() {
        var i = started(config(priority: 150, preempt: false))
        for t in 1...100 {
            _ = i.receive(datagram: datagram(advert(config(priority: 100), priority: 100), from: lower), now: .seconds(t))
            _ = i.timerFired(now: .seconds(t) + .milliseconds(999))
        }
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(i.masterAddress, lower)
    }

    func testPreemptDelayWaitsBeforePreempting() {
        var i = started(config(priority: 150, delay: .seconds(10)))
        var t = 1
        while i.state == .backup && t < 30 {
            _ = i.receive(datagram: datagram(advert(config(priority: 100), priority: 100), from: lower), now: .seconds(t))
            _ = i.timerFired(now: .seconds(t) + .milliseconds(999))
            t += 1
        }
        // First heard at 1 s: accepted until 11 s, then discarded; the last accepted (10 s) + Master_Down_Interval
        // (3 + 106/256 s) ends the wait at 13.4 s.
        XCTAssertEqual(i.state, .master)
        XCTAssertEqual(t, 14)
        // A higher-priority master resets the delay: it is measured from the first lower advert again.
        var j = started(config(priority: 150, delay: .seconds(10)))
        _ = j.receive(datagram: datagram(advert(config(priority: 100), priority: 100), from: lower), now: .seconds(1))
        _ = j.receive(datagram: datagram(advert(config(priority: 200), priority: 200), from: higher), now: .seconds(2))
        _ = j.receive(datagram: datagram(advert(config(priority: 100), priority: 100), from: lower), now: .seconds(12))
        XCTAssertEqual(j.statistics.lowerPriorityDiscarded, 0, "the delay restarted at 12 s")
    }

    // MARK: Master

    func testMasterAdvertisesEveryIntervalAndRepeatsGratuitousARP() {
        let garp = GratuitousARPSettings(count: 3, repeatDelay: .seconds(5), refreshInterval: .seconds(7), refreshCount: 2)
        var (i, t0) = master(config(garp: garp))
        var adverts = 0, arps: [Int] = []
        while let next = i.nextDeadline, next <= t0 + .seconds(15) {
            let actions = i.timerFired(now: next)
            adverts += actions.advertisements.count
            for case .sendGratuitousARP(_, let count) in actions { arps.append(count) }
        }
        XCTAssertEqual(adverts, 15, "one advert per second")
        XCTAssertEqual(arps, [3, 2, 2], "repeat burst at 5 s, refreshes at 7 s and 14 s")
        XCTAssertEqual(i.statistics.advertisementsSent, 16)
    }

    func testMasterYieldsToHigherPriority() {
        var (i, _) = master(config())
        let actions = i.receive(datagram: datagram(advert(config(priority: 200), priority: 200), from: lower), now: .seconds(10))
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(actions, [
            .removeAddresses([vip]),
            .notify(VRRPTransition(from: .master, to: .backup, reason: .higherPriority(lower, priority: 200), at: .seconds(10), priority: 100)),
            .scheduleTimer(at: .seconds(10) + .nanoseconds(3_609_375_000)),
        ])
        XCTAssertEqual(i.statistics.releasedMaster, 1)
    }

    func testEqualPriorityIsWonByTheHigherPrimaryAddress() {
        var (i, _) = master(config())
        // From a lower address: we stay master and answer at once so it steps down.
        let fromLower = i.receive(datagram: datagram(advert(config(), priority: 100), from: lower), now: .seconds(10))
        XCTAssertEqual(i.state, .master)
        XCTAssertEqual(fromLower.advertisements.map(\.priority), [100])
        // From a higher address: we yield.
        let fromHigher = i.receive(datagram: datagram(advert(config(), priority: 100), from: higher), now: .seconds(11))
        XCTAssertEqual(i.state, .backup)
        XCTAssertEqual(fromHigher.transitions.first?.reason, .higherPriority(higher, priority: 100))
    }

    func testMasterAnswersAResignWithAnAdvertisement() {
        var (i, _) = master(config(garp: GratuitousARPSettings(repeatDelay: nil)))
        let actions = i.receive(datagram: datagram(advert(config(priority: 50), priority: 0), from: lower), now: .seconds(10))
        XCTAssertEqual(actions, [.sendAdvertisement(i.advertisement(priority: 100)), .scheduleTimer(at: .seconds(11))])
        XCTAssertEqual(i.state, .master)
    }

    /// Two routers started together with equal priority both time out at once; after one exchange of
    /// adverts exactly one master is left, the higher address, and it stays so.
    func testSimultaneousStartConvergesToOneMaster() {
        let c = config()
        var a = VRRPInstance(configuration: c, primaryAddress: lower)
        var b = VRRPInstance(configuration: c, primaryAddress: higher)
        var inFlight: [(to: Int, bytes: [UInt8])] = []
        func deliver(_ actions: [VRRPAction], from index: Int, source: IPAddress) {
            for ad in actions.advertisements { inFlight.append((1 - index, datagram(ad, from: source))) }
        }
        deliver(a.start(now: .zero), from: 0, source: lower)
        deliver(b.start(now: .zero), from: 1, source: higher)
        var now = Duration.zero
        var masters: [Int] = []
        for _ in 0..<200 {
            now = [a.nextDeadline, b.nextDeadline].compactMap { $0 }.min()!
            deliver(a.timerFired(now: now), from: 0, source: lower)
            deliver(b.timerFired(now: now), from: 1, source: higher)
            while !inFlight.isEmpty {
                let (to, bytes) = inFlight.removeFirst()
                if to == 0 { deliver(a.receive(datagram: bytes, now: now), from: 0, source: lower) } else { deliver(b.receive(datagram: bytes, now: now), from: 1, source: higher) }
            }
            masters.append([a.state, b.state].filter { $0 == .master }.count)
        }
        XCTAssertEqual(a.state, .backup)
        XCTAssertEqual(b.state, .master)
        XCTAssertEqual(Set(masters.dropFirst(1)), [1], "never two masters after the first exchange")
    }

    // MARK: receive checks

    /// Each mismatch is discarded, counted and logged, and changes nothing: a backup's Master_Down_Timer
    /// runs on, a master does not yield to a higher priority it should not trust.
    func testMismatchesAreCountedAndNotActedOn() {
        let good = advert(config(priority: 200), priority: 200)
        var wrongPassword = good; wrongPassword.authData = VRRPAdvertisement.passwordData("guess")
        var noAuth = good; noAuth.authType = 0; noAuth.authData = []
        var slower = good; slower.intervalCentiseconds = 200
        var otherVRID = good; otherVRID.virtualRouterID = 52
        var otherAddresses = good; otherAddresses.addresses = [IPAddress("10.99.0.201")!]
        var moreAddresses = good; moreAddresses.addresses.append(IPAddress("10.99.0.201")!)
        let v3 = advert(config(priority: 200, version: .v3), priority: 200)
        let cases: [(String, [UInt8], VRRPDiscard.Reason)] = [
            ("TTL 254", datagram(good, from: higher, ttl: 254), .ttl),
            ("wrong password", datagram(wrongPassword, from: higher), .authentication),
            ("no authentication", datagram(noAuth, from: higher), .authType),
            ("interval 2 s", datagram(slower, from: higher), .interval),
            ("VRID 52", datagram(otherVRID, from: higher), .otherVirtualRouter),
            ("other address", datagram(otherAddresses, from: higher), .addressList),
            ("extra address", datagram(moreAddresses, from: higher), .addressList),
            ("VRRPv3", datagram(v3, from: higher), .version),
            ("garbage", [0x45, 0, 0], .malformed),
            ("UDP", IPv4Header(protocolNumber: 17, source: higher, destination: group).encoded(payload: [1, 2, 3, 4]), .malformed),
            ("bad checksum", { var d = datagram(good, from: higher); d[27] ^= 1; return d }(), .malformed),
            ("our own", datagram(good, from: me), .ownAdvertisement),
        ]
        for (name, bytes, reason) in cases {
            var backup = started(config())
            let deadline = backup.nextDeadline
            XCTAssertEqual(backup.receive(datagram: bytes, now: .seconds(1)).discards.map(\.reason), [reason], name)
            XCTAssertEqual(backup.nextDeadline, deadline, "\(name): the backup's timer was not reset")
            XCTAssertEqual(backup.statistics.discarded[reason], 1, name)
            XCTAssertEqual(backup.statistics.advertisementsReceived, 0, name)

            var (m, _) = master(config())
            let actions = m.receive(datagram: bytes, now: .seconds(10))
            XCTAssertEqual(actions.discards.map(\.reason), [reason], name)
            XCTAssertEqual(actions.count, 1, "\(name): nothing but the discard")
            XCTAssertEqual(m.state, .master, "\(name): a master does not yield to it")
        }
        // The right password is accepted.
        var (m, _) = master(config())
        _ = m.receive(datagram: datagram(good, from: higher), now: .seconds(10))
        XCTAssertEqual(m.state, .backup)
    }

    func testUnicastAcceptsOnlyItsPeers() {
        var i = started(config(peers: [lower]))
        XCTAssertEqual(i.receive(datagram: datagram(advert(config(priority: 150), priority: 150), from: higher), now: .seconds(1)).discards.map(\.reason), [.notPeer])
        XCTAssertEqual(i.receive(datagram: datagram(advert(config(priority: 150), priority: 150), from: lower), now: .seconds(1)).discards, [])
    }

    // MARK: Shutdown

    func testShutdownOfAMasterResignsBeforeDroppingAddresses() {
        var (i, _) = master(config())
        let actions = i.shutdown(now: .seconds(20))
        XCTAssertEqual(actions, [
            .sendAdvertisement(i.advertisement(priority: 0)),
            .removeAddresses([vip]),
            .notify(VRRPTransition(from: .master, to: .initialize, reason: .shutdown, at: .seconds(20), priority: 100)),
            .scheduleTimer(at: nil),
        ])
        XCTAssertEqual(i.statistics.priorityZeroSent, 1)
        XCTAssertEqual(i.state, .initialize)
        XCTAssertEqual(i.timerFired(now: .seconds(30)), [])
        XCTAssertEqual(i.receive(datagram: datagram(advert(config(priority: 200), priority: 200), from: higher), now: .seconds(30)), [])
        XCTAssertEqual(i.shutdown(now: .seconds(31)), [])
        XCTAssertEqual(VRRPState.initialize.notifyName, "STOP")
    }

    func testShutdownOfABackupOnlyStopsTimers() {
        var i = started(config())
        XCTAssertEqual(i.shutdown(now: .seconds(1)), [
            .notify(VRRPTransition(from: .backup, to: .initialize, reason: .shutdown, at: .seconds(1), priority: 100)),
            .scheduleTimer(at: nil),
        ])
        XCTAssertNil(i.nextDeadline)
    }

    func testNoGratuitousARPWhenCountIsZero() {
        let (i, _) = master(config(garp: GratuitousARPSettings(count: 0, repeatDelay: nil)))
        XCTAssertEqual(i.state, .master)
        var j = started(config(garp: GratuitousARPSettings(count: 0, repeatDelay: nil)))
        XCTAssertFalse(j.timerFired(now: .seconds(4)).contains { if case .sendGratuitousARP = $0 { return true } else { return false } })
    }

    // MARK: configuration

    func testConfigurationProblemsAreAllReported() {
        XCTAssertEqual(config().problems, [])
        XCTAssertEqual(config(version: .v3, interval: 10).problems, [])
        var c = config(priority: 0, interval: 50, password: "much-too-long")
        c.virtualRouterID = 256
        c.virtualAddresses = [CIDR("2001:db8::1/64")!]
        let p = c.problems
        XCTAssertEqual(p.count, 5, "\(p)")
        XCTAssertTrue(p.contains { $0.contains("VRID") })
        XCTAssertTrue(p.contains { $0.contains("priority") })
        XCTAssertTrue(p.contains { $0.contains("whole seconds") })
        XCTAssertTrue(p.contains { $0.contains("8 bytes") })
        XCTAssertTrue(p.contains { $0.contains("IPv6") })
        var v3 = config(version: .v3, interval: 4096)
        v3.authPassword = "x"
        XCTAssertEqual(v3.problems.count, 2)
        XCTAssertThrowsError(try v3.validate()) { XCTAssertEqual(($0 as? VRRPError)?.kind, .invalidConfiguration) }
        var none = config()
        none.virtualAddresses = []
        XCTAssertEqual(none.problems, ["at least one virtual address is needed"])
    }

    func testConfigurationFromTheHostPlan() throws {
        let json = """
        {"name": "VI_51", "interface": "eth0", "routerId": 51, "version": 3, "priority": 99, "advertIntervalCentiseconds": 10,
         "preempt": false, "preemptDelaySeconds": 4, "sourceAddress": "192.168.1.101", "unicastPeers": ["192.168.1.100"],
         "virtualAddresses": ["192.168.1.200/24", "203.0.113.10/24"], "vipInterfaces": {"203.0.113.10": "eth1"},
         "gratuitousArp": {"count": 3, "repeatDelaySeconds": 0, "refreshSeconds": 60}, "expectedState": "BACKUP"}
        """
        let plan = try JSONDecoder().decode(VRRPInstancePlan.self, from: Data(json.utf8))
        let c = VRRPConfiguration(plan: plan)
        XCTAssertEqual(c.version, .v3)
        XCTAssertEqual(c.advertisementInterval, .milliseconds(100))
        XCTAssertFalse(c.preempt)
        XCTAssertEqual(c.preemptDelay, .seconds(4))
        XCTAssertEqual(c.sourceAddress, IPAddress("192.168.1.101"))
        XCTAssertEqual(c.unicastPeers, [IPAddress("192.168.1.100")!])
        XCTAssertEqual(c.gratuitousARP, GratuitousARPSettings(count: 3, repeatDelay: nil, refreshInterval: .seconds(60)))
        XCTAssertEqual(c.interface(of: IPAddress("203.0.113.10")!), "eth1")
        // Over IPv6 adverts come from the link-local address, found at start, unless unicast peers need the node's.
        var v6 = plan
        v6.sourceAddress = IPAddress("2001:db8::101")!
        v6.unicastPeers = []
        v6.virtualAddresses = [CIDR("2001:db8::200/64")!]
        v6.vipInterfaces = [:]
        XCTAssertNil(VRRPConfiguration(plan: v6).sourceAddress)
        XCTAssertEqual(VRRPConfiguration(plan: v6).problems, [])
        v6.unicastPeers = [IPAddress("2001:db8::100")!]
        XCTAssertEqual(VRRPConfiguration(plan: v6).sourceAddress, IPAddress("2001:db8::101"))
        XCTAssertEqual(c.interface(of: IPAddress("192.168.1.200")!), "eth0")
        XCTAssertEqual(c.problems, [])
    }
}
