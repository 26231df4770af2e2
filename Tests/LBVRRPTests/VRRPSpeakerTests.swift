import Foundation
import LBHost
import LBSpec
import LBVRRP
@testable import LBVRRPRuntime
import XCTest

/// A LAN in memory: every datagram one speaker sends reaches every other attached speaker, with the IPv4
/// header a kernel would add (TTL 255, TOS 0xc0).
final class MemoryLAN: @unchecked Sendable {
    private let lock = NSLock()
    private var receivers: [IPAddress: @Sendable ([UInt8]) -> Void] = [:]
    private(set) var gratuitousARPs: [(from: IPAddress, address: IPAddress, interface: String)] = []

    func transport(for address: IPAddress) -> Transport { Transport(lan: self, address: address) }

    struct Transport: VRRPTransport {
        let lan: MemoryLAN
        let address: IPAddress
        func startReceiving(_ receive: @escaping @Sendable ([UInt8]) -> Void) throws {
            lan.lock.withLock { lan.receivers[address] = receive }
        }
        func send(_ vrrp: [UInt8], from source: IPAddress, to destination: IPAddress) throws {
            let datagram = IPv4Header(source: source, destination: destination).encoded(payload: vrrp)
            let targets = lan.lock.withLock { lan.receivers.filter { $0.key != address && (destination.isMulticast || $0.key == destination) }.map(\.value) }
            for deliver in targets { deliver(datagram) }
        }
        func sendGratuitousARP(for addresses: [IPAddress], count: Int, on interface: String) throws {
            lan.lock.withLock { for a in addresses { for _ in 0..<count { lan.gratuitousARPs.append((address, a, interface)) } } }
        }
        func close() { lan.lock.withLock { _ = lan.receivers.removeValue(forKey: address) } }
    }
}

/// The actor shell with the in-memory LAN and hosts and the real clock: addresses go on and off through
/// `HostControl`, transitions are streamed, cancellation resigns.
final class VRRPSpeakerTests: XCTestCase {
    func host(_ address: String) -> InMemoryHost {
        InMemoryHost(interfaces: [HostState.Interface(index: 2, name: "eth0", isUp: true, addresses: [.init(address: CIDR(address)!)])], ipvs: false)
    }

    func configuration(priority: Int) -> VRRPConfiguration {
        VRRPConfiguration(interface: "eth0", virtualRouterID: 51, version: .v3, priority: priority,
                          advertisementIntervalCentiseconds: 5, virtualAddresses: [vip],
                          gratuitousARP: GratuitousARPSettings(count: 2, repeatDelay: nil))
    }

    func holds(_ host: InMemoryHost) async throws -> Bool {
        try await host.observe(sysctls: []).interface(named: "eth0")!.addresses.contains { $0.address == vip }
    }

    func testTwoSpeakersElectOneMasterAndHandOverOnShutdown() async throws {
        let lan = MemoryLAN()
        let hostA = host("10.99.0.1/24"), hostB = host("10.99.0.2/24")
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: hostA, transport: lan.transport(for: IPAddress("10.99.0.1")!))
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: hostB, transport: lan.transport(for: IPAddress("10.99.0.2")!))
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        defer { runA.cancel(); runB.cancel() }

        // a: INIT -> BACKUP -> MASTER after 3 × 50 ms + skew.
        var aTransitions = a.transitions.makeAsyncIterator()
        let first = await aTransitions.next()
        XCTAssertEqual(first?.to, .backup)
        let second = await aTransitions.next()
        XCTAssertEqual(second?.to, .master)
        try await Task.sleep(for: .milliseconds(300))
        let aState = await a.state, bState = await b.state
        XCTAssertEqual(aState, .master)
        XCTAssertEqual(bState, .backup)
        let aHolds = try await holds(hostA), bHolds = try await holds(hostB)
        XCTAssertTrue(aHolds)
        XCTAssertFalse(bHolds)
        XCTAssertEqual(lan.gratuitousARPs.filter { $0.from == IPAddress("10.99.0.1")! }.count, 2)
        let received = await b.statistics.advertisementsReceived
        XCTAssertGreaterThan(received, 3)

        // Cancelling a's run is its graceful shutdown: priority 0, then b takes over after its skew (~30 ms).
        let stoppedAt = ContinuousClock.now
        runA.cancel()
        try await runA.value
        var bTransitions = b.transitions.makeAsyncIterator()
        _ = await bTransitions.next()  // INIT -> BACKUP
        let takeover = await bTransitions.next()
        XCTAssertEqual(takeover?.to, .master)
        if case .masterResigned = takeover?.reason {} else { XCTFail("expected a takeover after the resign, got \(String(describing: takeover))") }
        XCTAssertLessThan(ContinuousClock.now - stoppedAt, .milliseconds(150), "Skew_Time, not Master_Down_Interval")
        let aHoldsAfter = try await holds(hostA), bHoldsAfter = try await holds(hostB)
        XCTAssertFalse(aHoldsAfter, "a removed its address on shutdown")
        XCTAssertTrue(bHoldsAfter)
        let aFinal = await a.state
        XCTAssertEqual(aFinal, .initialize)
    }

    func testRunRefusesAnInterfaceWithoutAnIPv4Address() async {
        let speaker = VRRPSpeaker(configuration: configuration(priority: 100),
                                  host: InMemoryHost(ipvs: false), transport: MemoryLAN().transport(for: IPAddress("10.99.0.9")!))
        do {
            try await speaker.run()
            XCTFail("run should refuse")
        } catch {
            XCTAssertEqual("\(error)", "interface eth0 has no IPv4 address to send advertisements from")
        }
    }

    func testNotifyScriptGetsKeepalivedsArguments() {
        let t = VRRPTransition(from: .backup, to: .master, reason: .masterDown(silentFor: .seconds(3), lastMaster: nil), at: .zero, priority: 100)
        XCTAssertEqual(NotifyScript(path: "/bin/true").arguments(instance: "VI_51", transition: t), ["INSTANCE", "VI_51", "MASTER", "100"])
        var stop = t
        stop.to = .initialize
        XCTAssertEqual(NotifyScript(path: "/bin/true").arguments(instance: "VI_51", transition: stop)[2], "STOP")
    }

    func testMonotonicClockSleepsUntilTheDeadline() async throws {
        let clock = MonotonicClock()
        var lateness: [Duration] = []
        for _ in 0..<5 {
            let deadline = clock.now() + .milliseconds(20)
            try await clock.sleep(until: deadline)
            lateness.append(clock.now() - deadline)
        }
        XCTAssertTrue(lateness.allSatisfy { $0 >= .zero }, "never early: \(lateness)")
        XCTAssertLessThan(lateness.sorted()[2], .milliseconds(2), "median lateness \(lateness)")
        // Many sleepers, out of order: each wakes at its own deadline.
        let start = clock.now()
        let order = await withTaskGroup(of: Int.self) { group in
            for i in [3, 1, 4, 2, 5] {
                group.addTask {
                    try? await clock.sleep(until: start + .milliseconds(10 * i))
                    return i
                }
            }
            var out: [Int] = []
            for await i in group { out.append(i) }
            return out
        }
        XCTAssertEqual(order, [1, 2, 3, 4, 5])
    }

    func testCancelledSleepReturnsAtOnce() async throws {
        let clock = MonotonicClock()
        let sleeper = Task { try await clock.sleep(until: clock.now() + .seconds(60)) }
        try await Task.sleep(for: .milliseconds(10))
        let cancelledAt = clock.now()
        sleeper.cancel()
        do {
            try await sleeper.value
            XCTFail("a cancelled sleep must throw")
        } catch is CancellationError {}
        XCTAssertLessThan(clock.now() - cancelledAt, .milliseconds(100))
        // Cancelled before it starts sleeping.
        let early = Task { try await clock.sleep(until: clock.now() + .seconds(60)) }
        early.cancel()
        await XCTAssertThrowsErrorAsync { try await early.value }
    }

    // MARK: changes while running

    /// A master's priority and VIP list change in place: the new VIP is added and announced, the kept one
    /// is never deleted, and neither speaker transitions (the backup follows its master through the new
    /// list until it gets the new list too).
    func testUpdateOfARunningMasterIsHitless() async throws {
        let lan = MemoryLAN()
        let hostA = RecordingHost(host("10.99.0.1/24")), hostB = RecordingHost(host("10.99.0.2/24"))
        let logA = LogLines(), logB = LogLines()
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: hostA, transport: lan.transport(for: IPAddress("10.99.0.1")!), log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: hostB, transport: lan.transport(for: IPAddress("10.99.0.2")!), log: logB.append)
        let seenA = Transitions(a), seenB = Transitions(b)
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        defer { runA.cancel(); runB.cancel() }
        try await waitUntil { await (a.state, b.state) == (.master, .backup) }
        try await Task.sleep(for: .milliseconds(200))

        var new = configuration(priority: 200)
        new.virtualAddresses = [vip, vip2]
        try await a.update(new)
        let aConfiguration = await a.configuration
        XCTAssertEqual(aConfiguration, new)
        // The actions were performed before update returned.
        let aHolds = try await hostA.addresses(), bHolds = try await hostB.addresses()
        XCTAssertEqual(aHolds.intersection([vip, vip2]), [vip, vip2])
        XCTAssertEqual(bHolds.intersection([vip, vip2]), [])
        XCTAssertEqual(lan.gratuitousARPs.filter { $0.from == IPAddress("10.99.0.1")! && $0.address == vip2.address }.count, 2)

        // Ten advert intervals, several Master_Down_Intervals of b: nobody moves.
        try await Task.sleep(for: .milliseconds(500))
        let followed = await b.statistics.addressListMismatchesAccepted
        XCTAssertGreaterThan(followed, 5, "b followed a through the new list")
        var newB = configuration(priority: 100)
        newB.virtualAddresses = [vip, vip2]
        try await b.update(newB)
        try await Task.sleep(for: .milliseconds(200))
        let followedAfter = await b.statistics.addressListMismatchesAccepted
        XCTAssertLessThanOrEqual(followedAfter - followed, 2, "the lists agree once b has the new one too")

        let snapshotA = await a.snapshot, snapshotB = await b.snapshot
        XCTAssertEqual(snapshotA.state, .master)
        XCTAssertEqual(snapshotA.priority, 200)
        XCTAssertEqual(snapshotA.statistics.becameMaster, 1)
        XCTAssertEqual(snapshotA.statistics.releasedMaster, 0)
        XCTAssertEqual(snapshotB.state, .backup)
        XCTAssertEqual(snapshotB.statistics.becameMaster, 0)
        XCTAssertEqual(snapshotB.statistics.totalDiscarded, 0)
        XCTAssertEqual(snapshotB.masterAddress, IPAddress("10.99.0.1"))
        XCTAssertEqual(seenA.names, ["INIT->BACKUP", "BACKUP->MASTER"])
        XCTAssertEqual(seenB.names, ["INIT->BACKUP"])
        let deletedOnA = await hostA.applied.filter { if case .deleteAddress(_, let cidr) = $0 { return cidr == vip } else { return false } }
        XCTAssertEqual(deletedOnA.count, 1, "only the startup's stale-address cleanup deleted the kept VIP: \(deletedOnA)")
        XCTAssertTrue(logA.lines.contains { $0.contains("VI_51: updated in place (MASTER): priority 150 -> 200, +10.99.0.201/24") }, logA.text)
        XCTAssertTrue(logB.lines.contains { $0.contains("VI_51: following master 10.99.0.1 although its advertised addresses differ") }, logB.text)

        // Removing the VIP a no longer needs removes it from a, and only it.
        try await a.update(configuration(priority: 200))
        let aHoldsAfter = try await hostA.addresses()
        XCTAssertEqual(aHoldsAfter.intersection([vip, vip2]), [vip])
        XCTAssertEqual(seenA.names, ["INIT->BACKUP", "BACKUP->MASTER"])
    }

    func testUpdateRefusesWhatNeedsARestartAndChangesNothing() async throws {
        let lan = MemoryLAN()
        let speaker = VRRPSpeaker(configuration: configuration(priority: 100), host: host("10.99.0.1/24"), transport: lan.transport(for: IPAddress("10.99.0.1")!))
        // Before run(): anything valid with the same identity.
        var unicast = configuration(priority: 255)
        unicast.unicastPeers = [IPAddress("10.99.0.2")!]
        try await speaker.update(unicast)
        try await speaker.update(configuration(priority: 100))
        var otherVRID = configuration(priority: 100)
        otherVRID.virtualRouterID = 52
        await assertThrows(try await speaker.update(otherVRID)) { XCTAssertEqual(($0 as? VRRPError)?.kind, .restartRequired) }

        let run = Task { try await speaker.run() }
        try await waitUntil { await speaker.state == .master }
        for (what, new, kind) in [("VRID", otherVRID, VRRPError.Kind.restartRequired), ("unicast", unicast, .restartRequired),
                                  ("no VIP", { var c = configuration(priority: 100); c.virtualAddresses = []; return c }(), .invalidConfiguration)] {
            await assertThrows(try await speaker.update(new), what) { XCTAssertEqual(($0 as? VRRPError)?.kind, kind, "\(what): \($0)") }
            let c = await speaker.configuration
            XCTAssertEqual(c, configuration(priority: 100), what)
        }
        let identity = speaker.identity
        XCTAssertEqual(identity, VRRPSpeaker.Identity(configuration(priority: 1)))
        XCTAssertEqual("\(identity)", "VRRPv3 VRID 51 on eth0")

        run.cancel()
        try await run.value
        await assertThrows(try await speaker.update(configuration(priority: 120))) { XCTAssertTrue("\($0)".contains("the speaker has stopped"), "\($0)") }
        await assertThrows(try await speaker.run()) { XCTAssertTrue("\($0)".contains("run() was called before"), "\($0)") }
    }

    /// The drift watcher's path: a VIP deleted behind a master's back is put back, announced and logged;
    /// a backup has nothing to put back.
    func testCheckAddressesPutsBackAVIPDeletedBehindTheMastersBack() async throws {
        let lan = MemoryLAN()
        let hostA = host("10.99.0.1/24"), hostB = host("10.99.0.2/24")
        let logA = LogLines()
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: hostA, transport: lan.transport(for: IPAddress("10.99.0.1")!), log: logA.append)
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: hostB, transport: lan.transport(for: IPAddress("10.99.0.2")!))
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        defer { runA.cancel(); runB.cancel() }
        try await waitUntil { await (a.state, b.state) == (.master, .backup) }
        let nothing = await a.checkAddresses()
        XCTAssertEqual(nothing, [])

        let arpsBefore = lan.gratuitousARPs.count
        _ = await hostA.apply([.deleteAddress(interface: "eth0", address: vip)])
        let holdsAfterDelete = try await holds(hostA)
        XCTAssertFalse(holdsAfterDelete)
        let repaired = await a.checkAddresses()
        XCTAssertEqual(repaired, [vip])
        let holdsAgain = try await holds(hostA)
        XCTAssertTrue(holdsAgain)
        XCTAssertEqual(lan.gratuitousARPs.count - arpsBefore, 2, "announced again")
        XCTAssertTrue(logA.lines.contains { $0.hasSuffix("VI_51: 10.99.0.200/24 missing on eth0 while MASTER: re-added") }, logA.text)
        let snapshot = await a.snapshot
        XCTAssertEqual(snapshot.statistics.addressesRepaired, 1)
        XCTAssertEqual(snapshot.state, .master)

        let backupRepairs = await b.checkAddresses()
        XCTAssertEqual(backupRepairs, [])
        let bHolds = try await holds(hostB)
        XCTAssertFalse(bHolds)
    }

    func testSnapshotTellsStateMasterAndTimeInState() async throws {
        let lan = MemoryLAN()
        let a = VRRPSpeaker(configuration: configuration(priority: 150), host: host("10.99.0.1/24"), transport: lan.transport(for: IPAddress("10.99.0.1")!))
        let b = VRRPSpeaker(configuration: configuration(priority: 100), host: host("10.99.0.2/24"), transport: lan.transport(for: IPAddress("10.99.0.2")!))
        let before = await a.snapshot
        XCTAssertEqual(before.state, .initialize)
        XCTAssertNil(before.since)
        XCTAssertEqual(before.priority, 150)
        let runA = Task { try await a.run() }
        let runB = Task { try await b.run() }
        defer { runA.cancel(); runB.cancel() }
        try await waitUntil { await (a.state, b.state) == (.master, .backup) }
        try await Task.sleep(for: .milliseconds(100))
        let sa = await a.snapshot, sb = await b.snapshot
        XCTAssertNil(sa.masterAddress, "a master follows nobody")
        XCTAssertEqual(sa.primaryAddress, IPAddress("10.99.0.1"))
        XCTAssertEqual(sb.masterAddress, IPAddress("10.99.0.1"))
        XCTAssertGreaterThanOrEqual(sa.inStateFor ?? .zero, .milliseconds(100))
        XCTAssertGreaterThan(sb.inStateFor ?? .zero, sa.inStateFor ?? .zero, "b has been backup since it started")
        XCTAssertGreaterThan(sb.statistics.advertisementsReceived, 1)
        XCTAssertEqual(sb.name, "VI_51")
    }

    func waitUntil(timeout: Duration = .seconds(5), _ condition: () async -> Bool, file: StaticString = #filePath, line: UInt = #line) async throws {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        XCTFail("condition not met within \(timeout)", file: file, line: line)
    }

    func assertThrows(_ body: @autoclosure () async throws -> Void, _ what: String = "", file: StaticString = #filePath, line: UInt = #line,
                      _ check: (any Error) -> Void = { _ in }) async {
        do {
            try await body()
            XCTFail("expected an error \(what)", file: file, line: line)
        } catch {
            check(error)
        }
    }

    func XCTAssertThrowsErrorAsync(_ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("expected an error", file: file, line: line)
        } catch {}
    }
}

/// A host that remembers every action applied to it, to prove what was never done.
actor RecordingHost: HostControl {
    let inner: InMemoryHost
    private(set) var applied: [HostAction] = []

    init(_ inner: InMemoryHost) { self.inner = inner }

    func observe(sysctls: [String], ipvs: IPVSObservation) async throws -> HostState {
        try await inner.observe(sysctls: sysctls, ipvs: ipvs)
    }

    func apply(_ actions: [HostAction]) async -> ApplyReport {
        applied += actions
        return await inner.apply(actions)
    }

    func ipvsServiceCount() async -> UInt32? { await inner.ipvsServiceCount() }

    func addresses() async throws -> Set<CIDR> {
        Set(try await inner.observe(sysctls: []).interface(named: "eth0")!.addresses.map(\.address))
    }
}

/// A speaker's log lines, for tests that check what an operator would read.
final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [String] = []

    var append: @Sendable (VRRPSpeaker.LogLevel, String) -> Void { { [self] _, line in lock.withLock { stored.append(line) } } }
    var lines: [String] { lock.withLock { stored } }
    var text: String { lines.joined(separator: "\n") }
}

/// Every transition a speaker streams, collected as it happens.
final class Transitions: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [VRRPTransition] = []
    private var task: Task<Void, Never>?

    init(_ speaker: VRRPSpeaker) {
        task = Task { [self] in
            for await t in speaker.transitions { lock.withLock { stored.append(t) } }
        }
    }

    deinit { task?.cancel() }

    var all: [VRRPTransition] { lock.withLock { stored } }
    var names: [String] { all.map { "\($0.from)->\($0.to)" } }
}
