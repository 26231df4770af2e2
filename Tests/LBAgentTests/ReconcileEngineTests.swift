@testable import LBAgent
import LBHost
import LBNetlink
import LBSpec
import Logging
import XCTest

/// The reconciler's decisions with the in-memory host and a clock the test moves.
final class ReconcileEngineTests: XCTestCase {
    let vipKey = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)

    func target(_ node: String, version: UInt64 = 1, spec: ClusterSpec = Fixtures.reference()) throws -> ReconcileEngine.Target {
        ReconcileEngine.Target(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(spec, node: node))), version: version)
    }

    /// One pass against `host`: decide, apply, observe again, record. `.skip` is the drift watcher's
    /// light pass, which does not look at IPVS.
    @discardableResult
    func pass(_ engine: inout ReconcileEngine, _ host: InMemoryHost, ipvs: IPVSObservation = .configuration,
              now: Duration) async throws -> (ReconcileEngine.Pass, [ReconcileEngine.Event]) {
        let before = try await host.observe(sysctls: engine.sysctlKeys, ipvs: ipvs)
        if ipvs != .skip { engine.note(ipvs: before.ipvs) }
        let decided = engine.decide(observed: before, now: now)
        let report = await host.apply(decided.actions)
        let after = try await host.observe(sysctls: engine.sysctlKeys, ipvs: ipvs)
        let remaining = engine.decide(observed: after, now: now)
        return (decided, engine.record(decided, report, before: before, remaining: remaining, now: now))
    }

    func testNothingHappensBeforeADocument() async throws {
        var engine = ReconcileEngine()
        let host = InMemoryHost()
        let (decided, events) = try await pass(&engine, host, now: .zero)
        XCTAssertEqual(decided.actions, [], "no document, no change: lb touches nothing before it has a verified document")
        XCTAssertEqual(events, [])
        XCTAssertFalse(engine.isConverged)
    }

    func testFirstApplyIsAChangeThenTamperingIsARepairWithItsKind() async throws {
        var engine = ReconcileEngine()
        engine.setTarget(try target("rs1"))
        let host = InMemoryHost()
        let (first, events) = try await pass(&engine, host, now: .zero)
        XCTAssertEqual(first.actions.count, 5)
        XCTAssertEqual(first.repairs, Array(repeating: nil, count: 5), "applying a version is not drift")
        XCTAssertEqual(events, [.applied(version: 1, actions: 5), .converged(version: 1)])
        XCTAssertTrue(engine.isConverged)
        XCTAssertEqual(engine.ledger.addresses.map(\.address.description), ["192.168.1.200/32"])

        await host.tamper { state, sysctls in
            state.interfaces[0].addresses.removeAll { $0.address.address == IPAddress("192.168.1.200")! }
            sysctls["net.ipv4.conf.eth0.arp_ignore"] = "0"
        }
        let (_, repairs) = try await pass(&engine, host, now: .seconds(1))
        XCTAssertEqual(repairs, [
            .repaired(Repair(kind: .address, description: "192.168.1.200/32 missing on lo: re-added")),
            .repaired(Repair(kind: .sysctl, description: "net.ipv4.conf.eth0.arp_ignore was 0, want 1: set")),
        ])
        XCTAssertEqual(engine.repairs, [.address: 1, .sysctl: 1])
        XCTAssertTrue(engine.isConverged)
        let (idle, none) = try await pass(&engine, host, now: .seconds(2))
        XCTAssertEqual(idle.actions, [])
        XCTAssertEqual(none, [], "a converged host costs a pass nothing but the observation")
    }

    func testAForeignAddressAndAForeignServiceAreNeverTouched() async throws {
        var engine = ReconcileEngine()
        engine.setTarget(try target("lvs1"))
        let host = InMemoryHost()
        let foreignKey = IPVSServiceKey(address: IPAddress("10.9.9.9")!, port: 443, protocol: .tcp)
        _ = await host.apply([.addAddress(interface: "eth0", address: CIDR("10.0.0.5/24")!, label: nil),
                              .addService(IPVSService(key: foreignKey, scheduler: "rr"))])
        for t in 0..<3 { try await pass(&engine, host, now: .seconds(Int64(t))) }
        XCTAssertTrue(engine.isConverged)
        let state = try await host.observe(sysctls: [])
        XCTAssertTrue(state.interface(named: "eth0")!.addresses.contains { $0.address == CIDR("10.0.0.5/24")! })
        XCTAssertNotNil(state.ipvs.table?.entry(foreignKey), "a service lb did not make survives every pass")
        XCTAssertFalse(engine.ledger.services.contains(foreignKey))

        // A new version that drops the VIP removes lb's own service, and only that.
        var spec = Fixtures.reference()
        spec.vips[0].services = []
        engine.setTarget(try target("lvs1", version: 2, spec: spec))
        try await pass(&engine, host, now: .seconds(10))
        let after = try await host.observe(sysctls: [])
        XCTAssertNil(after.ipvs.table?.entry(vipKey))
        XCTAssertNotNil(after.ipvs.table?.entry(foreignKey))
    }

    func testAFailingActionIsRetriedWithBackoffAndDoesNotStopTheOthers() async throws {
        var engine = ReconcileEngine(retryBase: .seconds(1), retryMax: .seconds(4))
        // rr only: the plan's wrr service cannot be added, everything else can.
        let host = InMemoryHost(schedulers: ["rr"])
        engine.setTarget(try target("lvs1"))
        let (first, events) = try await pass(&engine, host, now: .zero)
        XCTAssertTrue(first.actions.contains { if case .addService = $0 { return true } else { return false } })
        XCTAssertTrue(events.contains { if case .failed(.addService, _, let retry) = $0 { return retry == .seconds(1) } else { return false } },
                      "\(events)")
        XCTAssertFalse(engine.isConverged)
        let state = try await host.observe(sysctls: [])
        XCTAssertEqual(state.ipvs.table?.timeouts.tcp, 7260, "timeouts were set although the service failed")
        XCTAssertNotNil(engine.lastError)

        // Before the retry is due the failing action is not tried again.
        let early = engine.decide(observed: try await host.observe(sysctls: engine.sysctlKeys), now: .milliseconds(500))
        XCTAssertFalse(early.actions.contains { if case .addService = $0 { return true } else { return false } })
        XCTAssertTrue(early.deferred.contains { if case .addService = $0 { return true } else { return false } })
        XCTAssertFalse(early.actions.contains { if case .addDestination = $0 { return true } else { return false } },
                       "the destinations of a service that waits out its backoff wait with it: they would only fail")
        XCTAssertEqual(early.deferred.filter { if case .addDestination = $0 { return true } else { return false } }.count, 2)
        XCTAssertEqual(engine.nextRetry, .seconds(1))

        // Each failure doubles the wait, up to retryMax.
        var delays: [Duration] = []
        var now = Duration.seconds(1)
        for _ in 0..<4 {
            let (_, ev) = try await pass(&engine, host, now: now)
            for case .failed(.addService, _, let retry) in ev { delays.append(retry) }
            now = engine.nextRetry!
        }
        XCTAssertEqual(delays, [.seconds(2), .seconds(4), .seconds(4), .seconds(4)])
    }

    func testAnInterfaceThatAppearsLaterGetsItsPartThen() async throws {
        var spec = Fixtures.reference()
        spec.nodes[2].interface = "eth1"
        var engine = ReconcileEngine()
        engine.setTarget(try target("rs1", spec: spec))
        let host = InMemoryHost()
        let (first, events) = try await pass(&engine, host, now: .zero)
        XCTAssertEqual(first.waiting.map(\.description), [
            "set net.ipv4.conf.eth1.arp_announce = 2: waiting for interface eth1",
            "set net.ipv4.conf.eth1.arp_ignore = 1: waiting for interface eth1",
        ])
        XCTAssertEqual(first.actions.count, 3, "the VIP and the all.* sysctls go in at once")
        XCTAssertFalse(events.contains { if case .failed = $0 { return true } else { return false } }, "waiting is no error")
        XCTAssertFalse(engine.isConverged)

        await host.tamper { state, sysctls in
            state.interfaces.append(HostState.Interface(index: 3, name: "eth1", isUp: true))
            sysctls["net.ipv4.conf.eth1.arp_ignore"] = "0"
            sysctls["net.ipv4.conf.eth1.arp_announce"] = "0"
        }
        let (second, _) = try await pass(&engine, host, now: .seconds(1))
        XCTAssertEqual(second.actions.map(\.description), ["set net.ipv4.conf.eth1.arp_announce = 2", "set net.ipv4.conf.eth1.arp_ignore = 1"])
        XCTAssertTrue(engine.isConverged)
    }

    func testAVersionThatChangesNothingForThisHostDoesNothing() async throws {
        var engine = ReconcileEngine()
        engine.setTarget(try target("rs1"))
        let host = InMemoryHost()
        try await pass(&engine, host, now: .zero)
        var spec = Fixtures.reference()
        spec.vips[0].vrrp.directors[1].priority = 98   // a director's business only
        engine.setTarget(try target("rs1", version: 2, spec: spec))
        let (decided, events) = try await pass(&engine, host, now: .seconds(1))
        XCTAssertEqual(decided.actions, [])
        XCTAssertEqual(events, [.converged(version: 2)])
    }

    func testALightPassNeverCallsADirectorConvergedWhoseIPVSNobodyHasSeen() async throws {
        var engine = ReconcileEngine()
        let host = InMemoryHost()
        engine.setTarget(try target("lvs1"))
        let (_, light) = try await pass(&engine, host, ipvs: .skip, now: .zero)
        XCTAssertEqual(light, [], "nothing but IPVS to do, and this pass did not look at it")
        XCTAssertFalse(engine.isConverged)
        let (_, full) = try await pass(&engine, host, now: .seconds(1))
        XCTAssertEqual(full, [.applied(version: 1, actions: 8), .converged(version: 1)], "IPVS's own sysctls wait for a pass that sees IPVS")
        let (_, quiet) = try await pass(&engine, host, ipvs: .skip, now: .seconds(2))
        XCTAssertEqual(quiet, [])
        XCTAssertTrue(engine.isConverged, "a light pass confirms what the last full pass saw")

        // A new version with a third real server: the light pass that meets it first says nothing, and the
        // full pass that adds the destination applies a change; it does not repair drift.
        var spec = Fixtures.reference()
        spec.nodes.append(Node(name: "rs3", address: CIDR("192.168.1.104/24")!))
        spec.vips[0].services[0].realServers.append(RealServer(node: "rs3"))
        engine.setTarget(try target("lvs1", version: 2, spec: spec))
        let (_, early) = try await pass(&engine, host, ipvs: .skip, now: .seconds(3))
        XCTAssertEqual(early, [])
        XCTAssertFalse(engine.isConverged)
        let (added, applied) = try await pass(&engine, host, now: .seconds(4))
        XCTAssertEqual(added.actions.map(\.description), ["add destination 192.168.1.104:80 to 192.168.1.200:80/tcp dr weight 1"])
        XCTAssertEqual(applied, [.applied(version: 2, actions: 1), .converged(version: 2)])
        XCTAssertEqual(engine.repairs, [:])

        // Drift in IPVS (ipvsadm -C) is the full pass's to find, and it is a repair once the version was seen.
        await host.tamper { state, _ in
            if case .available(var table) = state.ipvs { table.services.removeAll(); state.ipvs = .available(table) }
        }
        try await pass(&engine, host, now: .seconds(5))
        XCTAssertTrue(engine.isConverged)
        XCTAssertEqual(engine.repairs, [.ipvsService: 1, .ipvsDestination: 3])
    }

    func testADirectorWithoutIPVSIsNeverConvergedAndSaysWhy() async throws {
        var engine = ReconcileEngine()
        let host = InMemoryHost(ipvs: false)
        engine.setTarget(try target("lvs1"))
        for t in 0..<3 {
            let (_, full) = try await pass(&engine, host, now: .seconds(Int64(2 * t)))
            XCTAssertEqual(full, [], "no converged event on a director that cannot hold its services")
            let (_, light) = try await pass(&engine, host, ipvs: .skip, now: .seconds(Int64(2 * t + 1)))
            XCTAssertEqual(light, [])
            XCTAssertFalse(engine.isConverged)
        }
        XCTAssertEqual(engine.blocked.map { $0.hasPrefix("this node is a director, but IPVS is not available") }, true, "\(engine.blocked ?? "nil")")
        XCTAssertEqual(engine.lastError, engine.blocked)

        // A real server needs no IPVS: it converges on the same host.
        var rs = ReconcileEngine()
        rs.setTarget(try target("rs1"))
        let (_, events) = try await pass(&rs, host, now: .zero)
        XCTAssertEqual(events, [.applied(version: 1, actions: 5), .converged(version: 1)])
        XCTAssertNil(rs.lastError)
    }

    func testBackoffFormula() {
        XCTAssertEqual((1...7).map { ReconcileEngine.delay(failures: $0, base: .seconds(1), max: .seconds(30)) }, [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
    }
}

/// The reconciler shell: passes through a real actor, the ledger on disk, restore after a restart.
final class ReconcilerTests: XCTestCase {
    func testTheLedgerSurvivesARestartAndTheNewAgentAdoptsWhatTheOldOneMade() async throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = InMemoryHost()
        let plan = try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "rs1"))
        let first = try Reconciler(host: host, ledgerPath: LedgerFile.path(in: dir), logger: Logger(label: "test"))
        await first.setTarget(.init(state: DesiredState.compose(plan), version: 1))
        let result = await first.pass(.full)
        XCTAssertTrue(result.events.contains(.converged(version: 1)))
        let stored = try LedgerFile.read(LedgerFile.path(in: dir))
        XCTAssertEqual(stored.addresses.count, 1)
        XCTAssertEqual(stored.sysctlOriginals["net.ipv4.conf.all.arp_ignore"], "0")

        // A second agent (a restart) with a document that no longer has rs1 removes what the first made.
        let second = try Reconciler(host: host, ledgerPath: LedgerFile.path(in: dir), logger: Logger(label: "test"))
        await second.setTarget(.init(state: DesiredState.compose(HostPlan(node: "rs1")), version: 2))
        await second.pass(.full)
        let state = try await host.observe(sysctls: ["net.ipv4.conf.all.arp_ignore"])
        XCTAssertFalse(state.interface(named: "lo")!.addresses.contains { $0.address.address == IPAddress("192.168.1.200")! })
        XCTAssertEqual(state.sysctls["net.ipv4.conf.all.arp_ignore"], "0", "sysctls lb set go back to what they were")
        XCTAssertEqual(try LedgerFile.read(LedgerFile.path(in: dir)), Ledger())
    }

    func testACorruptLedgerIsRefusedRatherThanForgotten() throws {
        let dir = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data("{not json".utf8).write(to: URL(fileURLWithPath: LedgerFile.path(in: dir)))
        XCTAssertThrowsError(try Reconciler(host: InMemoryHost(), ledgerPath: LedgerFile.path(in: dir), logger: Logger(label: "test"))) {
            XCTAssertTrue("\($0)".contains("is not a ledger lb wrote"), "\($0)")
        }
    }

    func testADirectorWithoutIPVSIsNeverConvergedAndSaysWhy() async throws {
        // This machine's kernel: no IPVS. The addresses and sysctls still go in; the director is not converged.
        let reconciler = try Reconciler(host: InMemoryHost(ipvs: false), ledgerPath: nil, logger: Logger(label: "test"))
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "lvs1"))), version: 1))
        for scope in [Reconciler.Scope.full, .light, .full, .light] {
            let result = await reconciler.pass(scope)
            XCTAssertFalse(result.converged, "\(scope) pass")
            XCTAssertFalse(result.events.contains(.converged(version: 1)), "\(scope) pass: \(result.events)")
            let snapshot = await reconciler.snapshot
            XCTAssertFalse(snapshot.converged, "\(scope) pass")
            XCTAssertTrue(snapshot.lastError?.contains("IPVS is not available") ?? false, "\(scope) pass: \(snapshot.lastError ?? "no lastError")")
        }
    }

    func testALightPassDoesNotForgetThatIPVSWorkFailed() async throws {
        // rr only: the plan's wrr service cannot be added. A light pass does not look at IPVS, so it must
        // not declare the director converged (nor clear the error) behind the full pass's back.
        let reconciler = try Reconciler(host: InMemoryHost(schedulers: ["rr"]), ledgerPath: nil, logger: Logger(label: "test"))
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "lvs1"))), version: 1))
        let full = await reconciler.pass(.full)
        XCTAssertFalse(full.converged)
        let error = await reconciler.snapshot.lastError
        XCTAssertNotNil(error)
        let light = await reconciler.pass(.light)
        XCTAssertFalse(light.converged, "\(light.events)")
        XCTAssertFalse(light.events.contains(.converged(version: 1)), "\(light.events)")
        let after = await reconciler.snapshot
        XCTAssertFalse(after.converged)
        XCTAssertEqual(after.lastError, error)
    }

    func testAPassThatChangesWhatTheNodeReportsSaysSoAndAQuietOneDoesNot() async throws {
        final class Count: @unchecked Sendable { var n = 0 }
        let count = Count()
        let reconciler = try Reconciler(host: InMemoryHost(), ledgerPath: nil, logger: Logger(label: "test"), onChange: { count.n += 1 })
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "rs1"))), version: 1))
        let first = await reconciler.pass(.full)
        XCTAssertTrue(first.converged)
        XCTAssertEqual(count.n, 1, "converging is news: the report must go out now, not at the next periodic one")
        _ = await reconciler.pass(.light)
        _ = await reconciler.pass(.full)
        XCTAssertEqual(count.n, 1, "passes that change nothing say nothing")
    }

    func testALightPassAfterAConvergedFullPassStaysConverged() async throws {
        let reconciler = try Reconciler(host: InMemoryHost(), ledgerPath: nil, logger: Logger(label: "test"))
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "lvs1"))), version: 1))
        let full = await reconciler.pass(.full)
        XCTAssertTrue(full.converged, "\(full.events)")
        let light = await reconciler.pass(.light)
        XCTAssertTrue(light.converged)
        XCTAssertEqual(light.events, [], "nothing to say about a host that stays converged")
    }

    func testALightPassThatSeesTheServiceCountChangeRepairsIPVSAtOnce() async throws {
        let host = InMemoryHost()
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: Logger(label: "test"))
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "lvs1"))), version: 1))
        _ = await reconciler.pass(.full)
        // A destination deleted behind lb's back leaves the count as it was: the light pass leaves it
        // to the next full pass and does not read the table.
        await host.tamper { state, _ in
            if case .available(var table) = state.ipvs { table.services[0].destinations.removeLast(); state.ipvs = .available(table) }
        }
        let quiet = await reconciler.pass(.light)
        XCTAssertEqual(quiet.actions, [])
        // ipvsadm -C: the count drops, and this light pass becomes a full one.
        await host.tamper { state, _ in
            if case .available(var table) = state.ipvs { table.services.removeAll(); state.ipvs = .available(table) }
        }
        let repaired = await reconciler.pass(.light)
        XCTAssertTrue(repaired.converged, "\(repaired.events)")
        XCTAssertEqual(repaired.actions.filter { if case .addService = $0 { true } else { false } }.count, 1)
        let observed = try await host.observe(sysctls: [])
        let table = try XCTUnwrap(observed.ipvs.table)
        XCTAssertEqual(table.services.first?.destinations.count, 2, "the destination deleted first is back too")
        // Its own repair does not look like drift to the next light pass.
        let after = await reconciler.pass(.light)
        XCTAssertEqual(after.actions, [])
        XCTAssertEqual(after.events, [])
    }

    func testANewTargetThatArrivesWhileAPassLooksIsNotJudgedByThatPass() async throws {
        let interfaces = InMemoryHost.defaultInterfaces + [HostState.Interface(index: 3, name: "eth1", isUp: true)]
        let host = GatedHost(InMemoryHost(interfaces: interfaces, sysctls: InMemoryHost.defaultSysctls(["lo", "eth0", "eth1"])))
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: Logger(label: "test"))
        let v1 = try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "rs1"))
        await reconciler.setTarget(.init(state: DesiredState.compose(v1), version: 1))
        let first = await reconciler.pass(.full)
        XCTAssertTrue(first.converged)

        // v2 moves rs1 to eth1 while a light pass is looking at the host for v1's sysctls (eth0's).
        var spec = Fixtures.reference()
        spec.nodes[2].interface = "eth1"
        let v2 = try XCTUnwrap(HostPlanner.plan(spec, node: "rs1"))
        await host.holdNextObservation()
        let light = Task { await reconciler.pass(.light) }
        await host.waitUntilHeld()
        await reconciler.setTarget(.init(state: DesiredState.compose(v2), version: 2))
        await host.release()
        let stale = await light.value
        XCTAssertEqual(stale.actions, [])
        XCTAssertEqual(stale.waiting, [], "eth1's sysctls were not read by that pass; they exist, and nothing waits for them")
        XCTAssertEqual(stale.events, [])

        let next = await reconciler.pass(.full)
        XCTAssertEqual(next.actions.map(\.description), ["set net.ipv4.conf.eth1.arp_announce = 2", "set net.ipv4.conf.eth1.arp_ignore = 1",
                                                         "set net.ipv4.conf.eth0.arp_announce = 0", "set net.ipv4.conf.eth0.arp_ignore = 0"],
                       "eth1 gets rs1's sysctls and eth0 goes back to what it had")
        XCTAssertTrue(next.converged)
    }

    func testKicksDuringAPassMergeIntoOne() async throws {
        let host = InMemoryHost()
        let reconciler = try Reconciler(host: host, ledgerPath: nil, logger: Logger(label: "test"))
        await reconciler.setTarget(.init(state: DesiredState.compose(try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "rs1"))), version: 1))
        let running = Task { try await reconciler.run() }
        defer { running.cancel() }
        for _ in 0..<50 { reconciler.kick(.light) }
        try await Task.sleep(for: .milliseconds(300))
        let passes = await reconciler.snapshot.passes
        XCTAssertGreaterThanOrEqual(passes, 1)
        XCTAssertLessThanOrEqual(passes, 3, "50 kicks in a burst are a few passes, not 50")
        let converged = await reconciler.snapshot.converged
        XCTAssertTrue(converged)
    }
}

/// A host whose next observation waits until the test lets it go: a pass suspended where the actor can
/// take other calls.
actor GatedHost: HostControl {
    let inner: InMemoryHost
    private var holdNext = false
    private var held: CheckedContinuation<Void, Never>?
    private var waiter: CheckedContinuation<Void, Never>?

    init(_ inner: InMemoryHost) { self.inner = inner }

    func holdNextObservation() { holdNext = true }

    func waitUntilHeld() async {
        guard held == nil else { return }
        await withCheckedContinuation { waiter = $0 }
    }

    func release() {
        held?.resume()
        held = nil
    }

    func observe(sysctls: [String], ipvs: IPVSObservation) async throws -> HostState {
        if holdNext {
            holdNext = false
            await withCheckedContinuation { c in
                held = c
                waiter?.resume()
                waiter = nil
            }
        }
        return try await inner.observe(sysctls: sysctls, ipvs: ipvs)
    }

    func apply(_ actions: [HostAction]) async -> ApplyReport { await inner.apply(actions) }
    func ipvsServiceCount() async -> UInt32? { await inner.ipvsServiceCount() }
}

/// What a periodic pass costs on a large table, in the engine alone (the kernel's share is the lab's to
/// measure): printed, and bounded loosely so a quadratic slip fails.
final class ReconcileScaleTests: XCTestCase {
    func testANoOpPassOverThreeThousandServicesIsCheap() async throws {
        var spec = Fixtures.reference()
        let template = spec.vips[0].services[0]
        spec.vips[0].services = (0..<3_000).map { i in var s = template; s.port = 10_000 + i; return s }
        var engine = ReconcileEngine()
        let plan = try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
        engine.setTarget(.init(state: DesiredState.compose(plan), version: 1))
        let host = InMemoryHost()
        let before = try await host.observe(sysctls: engine.sysctlKeys)
        let first = engine.decide(observed: before, now: .zero)
        XCTAssertEqual(first.actions.count, 3_000 * 3 + 5)   // a service and two destinations each; timeouts, two sync daemons, two sysctls
        let report = await host.apply(first.actions)
        XCTAssertTrue(report.succeeded)
        let after = try await host.observe(sysctls: engine.sysctlKeys)
        _ = engine.record(first, report, before: before, remaining: engine.decide(observed: after, now: .zero), now: .zero)
        XCTAssertTrue(engine.isConverged)
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for _ in 0..<5 { XCTAssertEqual(engine.decide(observed: after, now: .seconds(1)).actions, []) }
        }
        print("no-op decide over 3,000 services × 2 destinations: \(elapsed / 5) per pass (debug build)")
        XCTAssertLessThan(elapsed / 5, .milliseconds(600), "a no-op pass must stay linear in the table")
    }
}
