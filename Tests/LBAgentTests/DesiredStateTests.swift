import LBAgent
import LBHealth
import LBHost
import LBNetlink
import LBSpec
import XCTest

/// plan ⊗ health ⊗ drain: keepalived's rules for down, inhibit, quorum and the sorry server, and lb's
/// for unknown health and drain.
final class DesiredStateTests: XCTestCase {
    let rs1 = Endpoint(address: IPAddress("192.168.1.102")!, port: 80)
    let rs2 = Endpoint(address: IPAddress("192.168.1.103")!, port: 80)
    let sorry = Endpoint(address: IPAddress("192.168.1.150")!, port: 80)

    func plan(quorum: Int = 1, sorry: Bool = false, inhibit: Bool = false, drainRS2: Bool = false, check: Bool = true) throws -> HostPlan {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].quorum = quorum
        if sorry { spec.vips[0].services[0].sorryServer = self.sorry }
        spec.vips[0].services[0].inhibitOnFailure = inhibit
        spec.vips[0].services[0].realServers[1].drain = drainRS2
        if !check { spec.vips[0].services[0].healthCheck = nil }
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        return try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
    }

    func serving(_ plan: HostPlan, _ health: [Endpoint: DestinationHealth], drained: Set<Endpoint> = []) -> ServingState {
        let key = plan.ipvsServices[0].key
        return ServingState(health: [key: health], drained: drained.isEmpty ? [:] : [key: drained])
    }

    func wanted(_ s: DesiredHostState) -> [String] {
        s.ipvs!.services[0].destinations.map { "\($0.endpoint) w\($0.weight)" }
    }

    func kept(_ s: DesiredHostState) -> [String] {
        (s.ipvs!.conditional[s.ipvs!.services[0].service.key] ?? []).map { "\($0.address):\($0.port)\($0.configuration.map { " w\($0.weight)" } ?? " as is")" }
    }

    func testTheReportNamesARealServerThatIsDownAndOutOfTheKernel() throws {
        let p = try plan()
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        let inKernel = IPVSDestination(address: rs1.address, port: 80, forwarding: .dr, weight: 1)
        let table = IPVSTable(services: [.init(service: IPVSService(key: key, scheduler: "wrr"), destinations: [inKernel])])
        let counts = ReportPublisher.services(table, plan: p, serving: serving(p, [rs1: .up, rs2: .down]))
        XCTAssertEqual(counts.first?.destinations?.map { "\($0.endpoint) \($0.health) w\($0.weight)" },
                       ["192.168.1.102:80 up w1", "192.168.1.103:80 down w0"])
    }

    func testUpIsHeldDownIsRemovedUnknownIsLeftAsTheKernelHasIt() throws {
        let p = try plan()
        let s = DesiredState.compose(p, serving(p, [rs1: .up, rs2: .down]))
        XCTAssertEqual(wanted(s), ["192.168.1.102:80 w1"])
        XCTAssertEqual(kept(s), [])
        let fresh = DesiredState.compose(p, ServingState())
        XCTAssertEqual(wanted(fresh), [], "nothing added before a first result")
        XCTAssertEqual(kept(fresh), ["192.168.1.102:80 as is", "192.168.1.103:80 as is"], "nor removed: a restart flaps nothing")
    }

    func testWithoutChecksOrWithUncheckedEveryRealServerIsUp() throws {
        XCTAssertEqual(wanted(DesiredState.compose(try plan(check: false), ServingState())), ["192.168.1.102:80 w1", "192.168.1.103:80 w1"])
        XCTAssertEqual(wanted(DesiredState.compose(try plan(), .unchecked)), ["192.168.1.102:80 w1", "192.168.1.103:80 w1"])
    }

    func testInhibitOnFailureHoldsADownServerAtWeightZero() throws {
        let p = try plan(inhibit: true)
        XCTAssertEqual(wanted(DesiredState.compose(p, serving(p, [rs1: .up, rs2: .down]))), ["192.168.1.102:80 w1", "192.168.1.103:80 w0"])
    }

    func testBelowQuorumTheSorryServerIsAddedAndGoesAgainWhenEnoughAreBack() throws {
        let p = try plan(quorum: 2, sorry: true)
        XCTAssertEqual(wanted(DesiredState.compose(p, serving(p, [rs1: .up, rs2: .up]))), ["192.168.1.102:80 w1", "192.168.1.103:80 w1"])
        XCTAssertEqual(wanted(DesiredState.compose(p, serving(p, [rs1: .up, rs2: .down]))), ["192.168.1.102:80 w1", "192.168.1.150:80 w1"])
        XCTAssertEqual(wanted(DesiredState.compose(p, ServingState())), [], "unknown counts as up: no sorry server at start")
        // Inhibited servers take no new connections, so they do not count.
        let q = try plan(quorum: 2, sorry: true, inhibit: true)
        XCTAssertEqual(wanted(DesiredState.compose(q, serving(q, [rs1: .up, rs2: .down]))), ["192.168.1.102:80 w1", "192.168.1.103:80 w0", "192.168.1.150:80 w1"])
    }

    /// keepalived's sorry_server_inhibit: the sorry server stays at weight 0 while not needed, so its
    /// connections outlive the real servers' return; its own forwarding (sorry_server_lvs_method) is used.
    func testAnInhibitedSorryServerStaysAtWeightZeroAndKeepsItsForwarding() throws {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].quorum = 2
        spec.vips[0].services[0].sorryServer = sorry
        spec.vips[0].services[0].sorryServerInhibit = true
        spec.vips[0].services[0].sorryServerForwarding = .nat
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        let p = try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
        let up = DesiredState.compose(p, serving(p, [rs1: .up, rs2: .up]))
        XCTAssertEqual(wanted(up), ["192.168.1.102:80 w1", "192.168.1.103:80 w1", "192.168.1.150:80 w0"])
        let down = DesiredState.compose(p, serving(p, [rs1: .up, rs2: .down]))
        XCTAssertEqual(wanted(down), ["192.168.1.102:80 w1", "192.168.1.150:80 w1"])
        XCTAssertEqual(down.ipvs!.services[0].destinations.map(\.forwarding), [.dr, .nat])
    }

    /// A sorry server that is also a real server is one IPVS destination: while needed it has weight 1 at least.
    func testASorryServerThatIsARealServerIsOneDestination() throws {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].quorum = 2
        spec.vips[0].services[0].sorryServer = rs1
        spec.vips[0].services[0].inhibitOnFailure = true
        let p = try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
        XCTAssertEqual(wanted(DesiredState.compose(p, serving(p, [rs1: .down, rs2: .up]))), ["192.168.1.102:80 w1", "192.168.1.103:80 w1"])
        XCTAssertEqual(wanted(DesiredState.compose(p, serving(p, [rs1: .up, rs2: .up]))), ["192.168.1.102:80 w1", "192.168.1.103:80 w1"])
    }

    func testADrainingServerIsHeldAtWeightZeroWhileThereAndRemovedWhenDone() throws {
        let p = try plan(drainRS2: true)
        let draining = DesiredState.compose(p, serving(p, [rs1: .up, rs2: .up]))
        XCTAssertEqual(wanted(draining), ["192.168.1.102:80 w1"])
        XCTAssertEqual(kept(draining), ["192.168.1.103:80 w0"], "weight 0 while the kernel has it, never added back")
        let done = DesiredState.compose(p, serving(p, [rs1: .up, rs2: .up], drained: [rs2]))
        XCTAssertEqual(wanted(done), ["192.168.1.102:80 w1"])
        XCTAssertEqual(kept(done), [], "done: removed as a stray")
    }

    func testTheDrainTrackerEndsADrainAtZeroConnectionsOrAtTheDeadline() throws {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].realServers[1].drain = true
        spec.vips[0].services[0].realServers[1].drainDeadline = 2_000
        let p = try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
        let key = IPVSServiceKey(address: IPAddress("192.168.1.200")!, port: 80, protocol: .tcp)
        func table(active: UInt32, inactive: UInt32) -> IPVSTable {
            var d = IPVSDestination(address: rs2.address, port: 80, forwarding: .dr, weight: 0)
            d.activeConnections = active
            d.inactiveConnections = inactive
            return IPVSTable(services: [IPVSTable.Entry(service: IPVSService(key: key, scheduler: "wrr"), destinations: [d])])
        }
        var tracker = DrainTracker()
        XCTAssertEqual(tracker.update(plan: p, observed: nil, fresh: true, now: 1_000), [], "nothing known of its connections")
        XCTAssertEqual(tracker.update(plan: p, observed: table(active: 2, inactive: 1), fresh: true, now: 1_001), [])
        XCTAssertEqual(tracker.update(plan: p, observed: table(active: 0, inactive: 1), fresh: true, now: 1_002), [], "inactive connections count too")
        XCTAssertEqual(tracker.update(plan: p, observed: table(active: 0, inactive: 0), fresh: false, now: 1_003), [],
                       "a look from before the drain began cannot show it idle")
        let idle = tracker.update(plan: p, observed: table(active: 0, inactive: 0), fresh: true, now: 1_003)
        XCTAssertEqual(idle.map(\.openConnections), [0])
        XCTAssertEqual(idle.map(\.byDeadline), [false])
        XCTAssertEqual(tracker.drained, [p.ipvsServices[0].key: [rs2]])
        XCTAssertEqual(tracker.update(plan: p, observed: table(active: 5, inactive: 0), fresh: true, now: 1_004), [], "done stays done")

        var late = DrainTracker()
        XCTAssertEqual(late.update(plan: p, observed: table(active: 3, inactive: 4), fresh: true, now: 1_999), [])
        let deadline = late.update(plan: p, observed: table(active: 3, inactive: 4), fresh: false, now: 2_000)
        XCTAssertEqual(deadline.map(\.openConnections), [7], "the report says how many were still open")
        XCTAssertEqual(deadline.map(\.byDeadline), [true])
        XCTAssertEqual(late.update(plan: p, observed: nil, fresh: true, now: 2_001), [], "by deadline even unobserved")

        // A document that stops draining it forgets the drain.
        XCTAssertEqual(late.update(plan: try XCTUnwrap(HostPlanner.plan(Fixtures.reference(), node: "lvs1")), observed: nil, fresh: true, now: 2_002), [])
        XCTAssertEqual(late.drained, [:])
    }
}
