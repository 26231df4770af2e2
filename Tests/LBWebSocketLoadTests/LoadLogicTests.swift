import LBWebSocketLoad
import XCTest

final class LoadMixTests: XCTestCase {
    func testParsesAndAssignsExactCounts() throws {
        let mix = try XCTUnwrap(LoadMix(parsing: "fast:0.1,heartbeat:0.8,idle:0.1"))
        XCTAssertEqual(mix, .standard)
        let kinds = mix.assign(count: 10)
        XCTAssertEqual(kinds.filter { $0 == .fast }.count, 1)
        XCTAssertEqual(kinds.filter { $0 == .heartbeat }.count, 8)
        XCTAssertEqual(kinds.filter { $0 == .idle }.count, 1)
        // Largest remainders: 7 × (0.1, 0.8, 0.1) = 0.7, 5.6, 0.7 → 1, 5, 1.
        XCTAssertEqual(mix.assign(count: 7).count, 7)
        XCTAssertEqual(mix.assign(count: 7).filter { $0 == .heartbeat }.count, 5)
    }

    func testInterleavesKinds() throws {
        let kinds = try XCTUnwrap(LoadMix(parsing: "fast:0.5,idle:0.5")).assign(count: 6)
        XCTAssertEqual(Set(kinds.prefix(2)), [.fast, .idle], "interleaved, not in blocks: \(kinds)")
        XCTAssertEqual(kinds.filter { $0 == .fast }.count, 3)
    }

    func testRefusesNonsense() {
        for text in ["", "fast", "fast:x", "slow:1", "fast:-1", "fast:0", "fast:1,fast:1"] {
            XCTAssertNil(LoadMix(parsing: text), text)
        }
    }
}

final class SendScheduleTests: XCTestCase {
    func testIntervalsPerKindAndSeed() {
        XCTAssertEqual(SendSchedule.make(id: 3, kind: .fast, seed: 1).interval, .milliseconds(200))
        let heartbeats = (0..<200).map { SendSchedule.make(id: $0, kind: .heartbeat, seed: 7).interval }
        XCTAssertTrue(heartbeats.allSatisfy { $0 >= .seconds(2) && $0 <= .seconds(30) })
        XCTAssertGreaterThan(Set(heartbeats).count, 100, "intervals are spread, not one value")
        let idles = (0..<200).map { SendSchedule.make(id: $0, kind: .idle, seed: 7).interval }
        XCTAssertTrue(idles.allSatisfy { $0 >= .seconds(60) && $0 <= .seconds(300) })
        XCTAssertEqual(heartbeats, (0..<200).map { SendSchedule.make(id: $0, kind: .heartbeat, seed: 7).interval }, "same seed, same run")
        XCTAssertNotEqual(heartbeats, (0..<200).map { SendSchedule.make(id: $0, kind: .heartbeat, seed: 8).interval })
    }
}

final class EchoTrackerTests: XCTestCase {
    func testInOrderEchoesAndGaps() {
        var t = EchoTracker(connection: 4)
        let a = t.send(at: 100)
        let b = t.send(at: 200)
        XCTAssertEqual(EchoMessage.parse(a)?.connection, 4)
        XCTAssertEqual(EchoMessage.parse(b)?.seq, 1)
        t.receive(a, at: 150)
        t.receive(b, at: 500)
        t.finish(at: 1000)
        XCTAssertEqual([t.sent, t.echoed, t.lost, t.outOfOrder, t.corrupted], [2, 2, 0, 0, 0])
        XCTAssertEqual(t.longestEchoGap, 300)
        // Outstanding from 100; echoes at 150 and 500: the longest wait without one is 350.
        XCTAssertEqual(t.longestStall, 350)
    }

    func testLostAndStallAtTheEnd() {
        var t = EchoTracker(connection: 0)
        _ = t.send(at: 0)
        _ = t.send(at: 10)
        t.finish(at: 5000)
        XCTAssertEqual(t.lost, 2)
        XCTAssertEqual(t.echoed, 0)
        XCTAssertEqual(t.longestStall, 5000)
    }

    func testOutOfOrderSkipsStayOutstanding() {
        var t = EchoTracker(connection: 1)
        let a = t.send(at: 0)
        let b = t.send(at: 0)
        t.receive(b, at: 10)
        XCTAssertEqual(t.outOfOrder, 1)
        XCTAssertEqual(t.outstandingCount, 1)
        t.receive(a, at: 20)
        t.finish(at: 30)
        XCTAssertEqual([t.echoed, t.outOfOrder, t.lost, t.corrupted], [2, 1, 0, 0])
    }

    func testCorruptedDuplicatedAndForeignFrames() {
        var t = EchoTracker(connection: 2)
        let a = t.send(at: 0)
        t.receive(String(a.dropLast()) + "!", at: 1)
        t.receive(a, at: 2)
        t.receive(EchoMessage.text(connection: 3, seq: 0), at: 3)
        t.receive("hello", at: 4)
        t.finish(at: 5)
        // The changed echo answered seq 0, so the real one after it is a duplicate: all four are corrupted.
        XCTAssertEqual([t.echoed, t.corrupted, t.lost], [0, 4, 0])
    }

    func testLongRunsKeepLittleState() {
        var t = EchoTracker(connection: 9)
        for i in 0..<5000 as Range<UInt64> { t.receive(t.send(at: i * 10), at: i * 10 + 3) }
        t.finish(at: 60_000)
        XCTAssertEqual([t.sent, t.echoed, t.lost], [5000, 5000, 0])
        XCTAssertEqual(t.longestEchoGap, 3)
    }
}

final class LoadSummaryTests: XCTestCase {
    func testFoldsReports() throws {
        var clean = EchoTracker(connection: 0)
        clean.receive(clean.send(at: 0), at: 2_000_000)
        clean.finish(at: 3_000_000)
        var dropped = EchoTracker(connection: 1)
        _ = dropped.send(at: 0)
        dropped.finish(at: 1_000_000)
        let summary = LoadSummary(reports: [
            ConnectionReport(kind: .fast, opened: true, closedEarly: nil, closedCleanly: true, tracker: clean),
            ConnectionReport(kind: .idle, opened: true, closedEarly: .reset, closedCleanly: false, tracker: dropped),
            ConnectionReport(kind: .fast, opened: false, closedEarly: .connectFailed, closedCleanly: false, tracker: EchoTracker(connection: 2)),
        ], durationS: 3)
        XCTAssertEqual(summary.connections.requested, 3)
        XCTAssertEqual(summary.connections.opened, 2)
        XCTAssertEqual(summary.connections.stillOpenAtEnd, 1)
        XCTAssertEqual(summary.connections.closedEarly, 1)
        XCTAssertEqual(summary.connections.failedToOpen, 1)
        XCTAssertEqual(summary.connections.reasons, ["reset": 1, "connect_failed": 1])
        XCTAssertEqual(summary.messages.sent, 2)
        XCTAssertEqual(summary.messages.lost, 1)
        XCTAssertEqual(summary.longestEchoGapMs, 2)
        XCTAssertEqual(summary.p99EchoGapMs, 2)
        XCTAssertEqual(summary.mix, ["fast": 2, "idle": 1])
        XCTAssertFalse(summary.passed)
        let decoded = try JSONDecoder().decode(LoadSummary.self, from: Data(summary.json.utf8))
        XCTAssertEqual(decoded, summary)
        XCTAssertFalse(summary.json.contains("\n"))
        for key in ["\"still_open_at_end\":1", "\"closed_early\":1", "\"out_of_order\":0", "\"longest_echo_gap_ms\":2", "\"p99_echo_gap_ms\":2"] {
            XCTAssertTrue(summary.json.contains(key), key)
        }
    }
}
