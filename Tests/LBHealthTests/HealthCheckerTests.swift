import LBHealth
import LBSpec
import XCTest

/// The checker's decisions with a fake clock: no sockets, no sleeping.
final class HealthCheckerTests: XCTestCase {
    let service = "192.168.1.200:80/tcp"
    let rs1 = Endpoint(address: IPAddress("192.168.1.102")!, port: 80)
    let rs2 = Endpoint(address: IPAddress("192.168.1.103")!, port: 80)
    let check = HealthCheck(kind: .tcp, intervalMilliseconds: 5000, connectTimeoutMilliseconds: 3000, retries: 3, retryDelayMilliseconds: 1000)

    func plans(_ targets: [Endpoint], _ check: HealthCheck? = nil) -> [HealthCheckPlan] {
        targets.map { HealthCheckPlan(service: service, target: $0, check: check ?? self.check) }
    }

    let ok = ProbeResult(outcome: .success, latency: .milliseconds(2))
    let refused = ProbeResult(outcome: .failure("connection refused"), latency: .milliseconds(1))

    /// Runs the checker from `from` to `to` in 1 ms steps, answering each started check with `answer`.
    func run(_ checker: inout HealthChecker, from: Duration, to: Duration, answer: (HealthChecker.ID, Duration) -> ProbeResult) -> [(Duration, HealthChecker.ID, HealthChecker.Transition?)] {
        var log: [(Duration, HealthChecker.ID, HealthChecker.Transition?)] = []
        var now = from
        while now <= to {
            for run in checker.start(now: now) {
                let id = run.id
                log.append((now, id, checker.record(id, answer(id, now), now: now)))
            }
            guard let next = checker.nextDue(), next <= to else { break }
            now = max(now + .milliseconds(1), next)
        }
        return log
    }

    func testTheFirstRoundRunsWithinASecondAndTheNextOnesAnIntervalApart() {
        var checker = HealthChecker()
        checker.setChecks(plans([rs1]), now: .zero)
        let log = run(&checker, from: .zero, to: .seconds(21)) { _, _ in ok }
        XCTAssertLessThan(log[0].0, .seconds(1))
        XCTAssertEqual(log[0].2?.from, .unknown)
        XCTAssertEqual(log[0].2?.to, .up)
        let gaps = zip(log.dropFirst(2), log.dropFirst()).map { $0.0 - $1.0 }
        XCTAssertEqual(Set(gaps), [.seconds(5)], "steady state is one check per interval")
        XCTAssertTrue(log.dropFirst().allSatisfy { $0.2 == nil }, "staying up is no transition")
        XCTAssertEqual(checker.status(.init(service: service, destination: rs1))?.health, .up)
    }

    func testRetriesConsecutiveFailuresRetryDelayApartMarkDownAndOneSuccessMarksUp() {
        var checker = HealthChecker()
        let id = HealthChecker.ID(service: service, destination: rs1)
        checker.setChecks(plans([rs1]), now: .zero)
        var failFrom: Duration = .seconds(10)
        var failUntil: Duration = .seconds(30)
        let log = run(&checker, from: .zero, to: .seconds(45)) { _, now in now >= failFrom && now < failUntil ? refused : ok }
        let failures = log.filter { $0.0 >= failFrom && $0.0 < failUntil }
        // The first failure, then two retries a retry_delay apart: down at the third.
        XCTAssertEqual(failures[1].0 - failures[0].0, .seconds(1))
        XCTAssertEqual(failures[2].0 - failures[1].0, .seconds(1))
        XCTAssertNil(failures[0].2)
        XCTAssertNil(failures[1].2)
        XCTAssertEqual(failures[2].2, HealthChecker.Transition(id: id, from: .up, to: .down, failures: 3, reason: "connection refused", latency: .milliseconds(1)))
        // Down, it is checked on its grid again, every interval, not every retry_delay.
        XCTAssertEqual(failures[3].0 - failures[0].0, .seconds(5), "\(failures.map(\.0))")
        XCTAssertEqual(failures[4].0 - failures[3].0, .seconds(5), "\(failures.map(\.0))")
        let back = log.first { $0.0 >= failUntil }
        XCTAssertEqual(back?.2?.to, .up)
        XCTAssertEqual(back?.2?.from, .down)
        XCTAssertEqual(checker.status(id)?.transitions, 2)
        // Detection within the spec's bound: interval × retries + connect_timeout.
        XCTAssertLessThanOrEqual(failures[2].0 - failFrom, .milliseconds(5000 * 3 + 3000))
        failFrom = .zero; failUntil = .zero
    }

    func testAFailureBetweenSuccessesIsForgotten() {
        var checker = HealthChecker()
        checker.setChecks(plans([rs1]), now: .zero)
        var n = 0
        let log = run(&checker, from: .zero, to: .seconds(60)) { _, _ in
            n += 1
            return n % 3 == 0 ? refused : ok    // never 3 in a row
        }
        XCTAssertEqual(log.compactMap(\.2).map(\.to), [.up], "one failure at a time never marks down")
    }

    func testUnknownStaysUnknownUntilTheFirstResult() {
        var checker = HealthChecker()
        checker.setChecks(plans([rs1, rs2]), now: .zero)
        XCTAssertEqual(checker.health[service]?[rs1], .unknown)
        let started = checker.start(now: .seconds(1))
        XCTAssertEqual(started.count, 2)
        XCTAssertEqual(checker.health[service]?[rs1], .unknown, "running is not a result")
        // A first failure is not yet down, and not up either.
        checker.record(started[0].id, refused, now: .seconds(1))
        XCTAssertEqual(checker.health[service]?[started[0].id.destination], .unknown)
        // Its retry comes a retry_delay later; the other check is still running.
        XCTAssertEqual(checker.nextDue(), .seconds(2))
    }

    func testTenThousandChecksSpreadOverTheInterval() {
        var checker = HealthChecker()
        let targets = (0..<10_000).map { Endpoint(address: .v4(0x0A00_0000 | UInt32($0)), port: 80) }
        checker.setChecks(plans(targets), now: .zero)
        // After the first round, count starts per 500 ms slice of one interval.
        var slices = [Int](repeating: 0, count: 10)
        var now: Duration = .zero
        while let next = checker.nextDue(), next < .seconds(16) {
            now = next
            for run in checker.start(now: now) {
                let id = run.id
                if now >= .seconds(11) { slices[Int((now - .seconds(11)) / .milliseconds(500))] += 1 }
                checker.record(id, ok, now: now)
            }
        }
        XCTAssertEqual(slices.reduce(0, +), 10_000)
        XCTAssertLessThan(slices.max()!, 1_200, "\(slices)")
        XCTAssertGreaterThan(slices.min()!, 800, "\(slices)")
    }

    func testAChangedCheckKeepsItsHealthAndARemovedOneIsForgotten() {
        var checker = HealthChecker()
        checker.setChecks(plans([rs1, rs2]), now: .zero)
        for run in checker.start(now: .seconds(1)) { checker.record(run.id, ok, now: .seconds(1)) }
        var http = check
        http.kind = .http
        checker.setChecks(plans([rs1], http), now: .seconds(2))
        XCTAssertEqual(checker.count, 1)
        XCTAssertEqual(checker.health[service]?[rs1], .up)
        XCTAssertNil(checker.health[service]?[rs2])
        // Rescheduled within the first round of the new check.
        XCTAssertLessThan(checker.nextDue()!, .seconds(3))
        XCTAssertEqual(checker.start(now: .seconds(3)).map(\.check.kind), [.http])
    }

    func testARunningCheckIsNotStartedTwice() {
        var checker = HealthChecker()
        checker.setChecks(plans([rs1]), now: .zero)
        XCTAssertEqual(checker.start(now: .seconds(1)).count, 1)
        XCTAssertNil(checker.nextDue())
        XCTAssertEqual(checker.start(now: .seconds(100)).count, 0)
        // A document that changes nothing does not restart it either.
        checker.setChecks(plans([rs1]), now: .seconds(100))
        XCTAssertEqual(checker.start(now: .seconds(101)).count, 0)
    }
}
