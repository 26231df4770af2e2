import LBAgent
import LBHealth
import LBSpec
import XCTest

/// keepalived's quorum state (ipwrapper.c, update_quorum_state): the hysteresis band's edges, alpha at
/// start, a service going away, and omega at stop. Pure: counts in, commands out.
final class QuorumTrackerTests: XCTestCase {
    func plan(quorum: Int = 2, hysteresis: Int = 1, sorry: Bool = false, omega: Bool = false, alpha: Bool = false) throws -> HostPlan {
        var spec = Fixtures.reference()
        var s = spec.vips[0].services[0]
        s.realServers = (110...113).map { RealServer(address: IPAddress("192.168.1.\($0)")!) }
        s.quorum = quorum
        s.hysteresis = hysteresis
        s.quorumUp = "touch /tmp/up"
        s.quorumDown = "touch /tmp/down"
        s.omega = omega
        s.alpha = alpha
        if sorry { s.sorryServer = Endpoint(address: IPAddress("192.168.1.150")!, port: 80) }
        spec.vips[0].services[0] = s
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        return try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
    }

    /// Feeds `counts` one by one and says what each ran: "up", "down" or "-".
    func run(_ p: HostPlan, _ counts: [Int], tracker: inout QuorumTracker) -> [String] {
        let key = p.ipvsServices[0].key
        return counts.map { n in
            let actions = tracker.update(p, healthy: [key: n])
            return actions.isEmpty ? "-" : actions.map { $0.up ? "up" : "down" }.joined(separator: ",")
        }
    }

    func testTheBandHoldsTheStateBetweenQuorumMinusAndPlusHysteresis() throws {
        // quorum 2, hysteresis 1: gained at 3 servers, lost below 1 (keepalived: weight < quorum - hysteresis, or none).
        let p = try plan()
        var t = QuorumTracker()
        XCTAssertEqual(run(p, [4, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0], tracker: &t),
                       ["-", "-", "-", "-", "down", "-", "-", "up", "-", "-", "down"])
    }

    func testStartingBetweenTheEdgesIsDown() throws {
        // set_quorum_states: a first seen service has quorum only at quorum + hysteresis.
        let p = try plan()
        var t = QuorumTracker()
        XCTAssertEqual(run(p, [2], tracker: &t), ["-"], "no sorry server: starting down runs nothing")
        XCTAssertEqual(t.up[p.ipvsServices[0].key], false)
        XCTAssertEqual(run(p, [3], tracker: &t), ["up"])
    }

    func testWithoutHysteresisTheEdgeIsTheQuorum() throws {
        let p = try plan(hysteresis: 0)
        var t = QuorumTracker()
        XCTAssertEqual(run(p, [2, 1, 2, 1], tracker: &t), ["-", "down", "up", "down"])
    }

    func testTheSorryServerFollowsTheTrackedStateNotTheCount() throws {
        let p = try plan(sorry: true)
        let key = p.ipvsServices[0].key
        // Two of four healthy, but quorum was lost at none and is not back before three.
        let sorryIn = { (up: Bool) in
            DesiredState.compose(p, .unchecked, quorum: [key: up]).ipvs!.services[0].destinations.contains { $0.port == 80 && $0.address.description == "192.168.1.150" }
        }
        XCTAssertTrue(sorryIn(false))
        XCTAssertFalse(sorryIn(true))
    }

    func testAlphaStartsDownAndQuorumComesWithTheFirstSuccesses() throws {
        let p = try plan(sorry: true, alpha: true)
        let key = p.ipvsServices[0].key
        let unknown = ServingState()
        XCTAssertEqual(DesiredState.healthy(p, unknown)[key], 0, "alpha: unchecked servers count as failed")
        var t = QuorumTracker()
        let first = t.update(p, healthy: DesiredState.healthy(p, unknown))
        XCTAssertEqual(first.map(\.reason), [.startingDown], "keepalived runs quorum_down when it starts down with a sorry server")
        let state = DesiredState.compose(p, unknown, quorum: t.up)
        XCTAssertEqual(state.ipvs!.services[0].destinations.map(\.endpoint.description), ["192.168.1.150:80"], "only the sorry server")
        XCTAssertEqual(state.ipvs!.conditional, [:], "alpha: nothing left as the kernel has it")
        let three = (110...112).map { Endpoint(address: IPAddress("192.168.1.\($0)")!, port: 80) }
        let passing = ServingState(health: [key: Dictionary(uniqueKeysWithValues: three.map { ($0, DestinationHealth.up) })])
        XCTAssertEqual(t.update(p, healthy: DesiredState.healthy(p, passing)).map(\.reason), [.gained])
        // Without alpha the same start counts every unknown server and has quorum.
        XCTAssertEqual(DesiredState.healthy(try plan(sorry: true), unknown)[key], 4)
    }

    func testAServiceThatGoesAwayWithQuorumRunsQuorumDown() throws {
        let p = try plan()
        var t = QuorumTracker()
        _ = run(p, [4], tracker: &t)
        let gone = t.update(HostPlan(node: "lvs1"), healthy: [:])
        XCTAssertEqual(gone.map(\.reason), [.removed])
        XCTAssertEqual(gone.map(\.command), ["touch /tmp/down"])
        XCTAssertEqual(t.update(HostPlan(node: "lvs1"), healthy: [:]), [], "once")
    }

    func testOmegaRunsQuorumDownAtStopWhateverTheState() throws {
        var t = QuorumTracker()
        _ = run(try plan(omega: true), [4], tracker: &t)
        XCTAssertEqual(t.stop().map(\.reason), [.stopping])
        var down = QuorumTracker()
        _ = run(try plan(omega: true), [0], tracker: &down)
        XCTAssertEqual(down.stop().map(\.reason), [.stopping], "keepalived's update_vs_notifies(stopping) does not look at the state")
        var without = QuorumTracker()
        _ = run(try plan(), [4], tracker: &without)
        XCTAssertEqual(without.stop(), [], "without omega nothing runs at stop")
    }
}
