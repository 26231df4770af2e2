import LBAgent
import LBHealth
import LBHost
import LBNetlink
import LBSpec
import XCTest

/// keepalived's misc_dynamic through the agent's pure parts: what a passing probe's weight does to the
/// checker's state and to the destinations the reconciler is asked to hold.
final class DynamicWeightTests: XCTestCase {
    let rs1 = Endpoint(address: IPAddress("192.168.1.102")!, port: 80)
    let rs2 = Endpoint(address: IPAddress("192.168.1.103")!, port: 80)

    func plan(inhibit: Bool = false) throws -> HostPlan {
        var spec = Fixtures.reference()
        spec.vips[0].services[0].healthCheck = HealthCheck(kind: .exec, command: "/usr/local/bin/load", dynamicWeight: true)
        spec.vips[0].services[0].realServers[0].weight = 5
        spec.vips[0].services[0].inhibitOnFailure = inhibit
        XCTAssertEqual(SpecValidator.validate(spec).filter { $0.severity == .error }, [])
        return try XCTUnwrap(HostPlanner.plan(spec, node: "lvs1"))
    }

    func wanted(_ s: DesiredHostState) -> [String] {
        s.ipvs!.services[0].destinations.map { "\($0.endpoint) w\($0.weight)" }
    }

    func testTheCheckersWeightIsTheLastPassingProbes() throws {
        let p = try plan()
        var checker = HealthChecker()
        checker.setChecks(p.healthChecks, now: .zero)
        let runs = checker.start(now: .seconds(2))
        XCTAssertEqual(runs.count, 2)
        let id1 = try XCTUnwrap(runs.first { $0.id.destination == rs1 }).id
        let id2 = try XCTUnwrap(runs.first { $0.id.destination == rs2 }).id
        checker.record(id1, ProbeResult(outcome: .success, latency: .milliseconds(3), weight: 10), now: .seconds(2))
        checker.record(id2, ProbeResult(outcome: .success, latency: .milliseconds(3)), now: .seconds(2))
        XCTAssertEqual(checker.weights, [p.ipvsServices[0].key: [rs1: 10]])
        XCTAssertEqual(checker.status(id1)?.weight, 10)
        // Exit 0 again: back to the planned weight, as keepalived resets cur_weight.
        _ = checker.start(now: .seconds(20))
        checker.record(id1, ProbeResult(outcome: .success, latency: .milliseconds(3)), now: .seconds(20))
        XCTAssertEqual(checker.weights, [:])
    }

    func testUpServersAreHeldAtTheCheckersWeightOthersAtThePlannedOne() throws {
        let p = try plan()
        let key = p.ipvsServices[0].key
        let serving = ServingState(health: [key: [rs1: .up, rs2: .up]], weights: [key: [rs1: 0, rs2: 42]])
        XCTAssertEqual(wanted(DesiredState.compose(p, serving)), ["192.168.1.102:80 w0", "192.168.1.103:80 w42"])
        let planned = ServingState(health: [key: [rs1: .up, rs2: .up]])
        XCTAssertEqual(wanted(DesiredState.compose(p, planned)), ["192.168.1.102:80 w5", "192.168.1.103:80 w1"])
    }

    func testADownServerIgnoresAStaleWeight() throws {
        let p = try plan(inhibit: true)
        let key = p.ipvsServices[0].key
        let serving = ServingState(health: [key: [rs1: .down, rs2: .up]], weights: [key: [rs1: 9]])
        XCTAssertEqual(wanted(DesiredState.compose(p, serving)), ["192.168.1.102:80 w0", "192.168.1.103:80 w1"])
    }
}
