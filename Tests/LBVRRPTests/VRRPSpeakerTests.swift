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
    private(set) var gratuitousARPs: [(from: IPAddress, address: IPAddress)] = []

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
        func sendGratuitousARP(for addresses: [IPAddress], count: Int) throws {
            lan.lock.withLock { for a in addresses { for _ in 0..<count { lan.gratuitousARPs.append((address, a)) } } }
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

    func XCTAssertThrowsErrorAsync(_ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async {
        do {
            try await body()
            XCTFail("expected an error", file: file, line: line)
        } catch {}
    }
}
