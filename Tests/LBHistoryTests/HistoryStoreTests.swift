import Foundation
import LBHistory
import XCTest

/// The history on a real SQLite file: chained appends, the loser of two concurrent applies, versions
/// seen on gossip, reopening, and a file that is not a history.
final class HistoryStoreTests: XCTestCase {
    var directory: String!

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "lb-history-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    func v(_ n: Int64, previous: String?, digest: String? = nil, source: String = "api") -> StoredVersion {
        StoredVersion(version: n, digest: digest ?? "sha256:\(String(repeating: "\(n % 10)", count: 64))", previous: previous,
                      envelope: Data("{\"payload\":\"v\(n)\"}".utf8), signers: ["ed25519:0011223344556677"],
                      summary: "v\(n)", acceptedAt: Date(timeIntervalSince1970: 1_700_000_000 + TimeInterval(n)), source: source)
    }

    func testVersionsChainFromOneAndTheHeadMovesWithThem() async throws {
        let store = try HistoryStore(path: directory + "/history.sqlite")
        let head0 = try await store.head()
        XCTAssertNil(head0)
        let mode = try await store.journalMode()
        XCTAssertEqual(mode, "wal")
        let v1 = v(1, previous: nil), v2 = v(2, previous: v(1, previous: nil).digest)
        try await store.appendExtendingHead(v1)
        try await store.appendExtendingHead(v2)
        let head = try await store.head()
        XCTAssertEqual(head, v2)
        let all = try await store.versions()
        XCTAssertEqual(all.map(\.version), [2, 1], "newest first")
        let one = try await store.version(1)
        XCTAssertEqual(one?.envelope, v1.envelope, "the envelope exactly as signed")
        XCTAssertEqual(one?.signers, ["ed25519:0011223344556677"])
    }

    func testOfTwoConcurrentAppliesOneWinsAndTheOtherIsToldWhoApplied() async throws {
        let store = try HistoryStore(path: directory + "/history.sqlite")
        try await store.appendExtendingHead(v(1, previous: nil))
        let a = v(2, previous: v(1, previous: nil).digest, digest: "sha256:" + String(repeating: "a", count: 64))
        let b = v(2, previous: v(1, previous: nil).digest, digest: "sha256:" + String(repeating: "b", count: 64))
        async let ra: Result<Void, any Error> = { do { try await store.appendExtendingHead(a); return .success(()) } catch { return .failure(error) } }()
        async let rb: Result<Void, any Error> = { do { try await store.appendExtendingHead(b); return .success(()) } catch { return .failure(error) } }()
        let results = await [ra, rb]
        XCTAssertEqual(results.filter { if case .success = $0 { true } else { false } }.count, 1, "exactly one winner")
        guard case .failure(let error as HistoryError) = results.first(where: { if case .failure = $0 { true } else { false } }),
              case .notTheNextVersion(let submitted, _, let head) = error else { return XCTFail("the loser is told why: \(results)") }
        XCTAssertEqual(submitted, 2)
        XCTAssertEqual(head?.version, 2)
        XCTAssertTrue("\(error)".contains("does not extend the head: v2"), "\(error)")
        // A stale chain and a gap are refused the same way; nothing is stored.
        do {
            try await store.appendExtendingHead(v(4, previous: head?.digest))
            XCTFail("a gap is refused")
        } catch HistoryError.notTheNextVersion {}
        let count = try await store.versions().count
        XCTAssertEqual(count, 2)
    }

    func testVersionsSeenOnGossipAreStoredOnceAndAnotherDigestForThemIsRefused() async throws {
        let store = try HistoryStore(path: directory + "/history.sqlite")
        let v3 = v(3, previous: "sha256:" + String(repeating: "2", count: 64), source: "gossip")
        let first = try await store.appendSeen(v3)
        let again = try await store.appendSeen(v3)
        XCTAssertTrue(first)
        XCTAssertFalse(again, "the same version again is nothing")
        do {
            try await store.appendSeen(v(3, previous: nil, digest: "sha256:" + String(repeating: "f", count: 64), source: "gossip"))
            XCTFail("two documents for one version")
        } catch let error as HistoryError {
            guard case .equivocation(3, _, _) = error else { return XCTFail("\(error)") }
        }
    }

    func testEventsKeepTheirOrderAndTheHistorySurvivesReopening() async throws {
        let path = directory + "/history.sqlite"
        do {
            let store = try HistoryStore(path: path)
            try await store.appendExtendingHead(v(1, previous: nil))
            let first = try await store.record(StoredEvent(at: Date(), kind: "vrrp", node: "lvs1", message: "VI_51: BACKUP -> MASTER"))
            try await store.record(StoredEvent(at: Date(), kind: "health", node: "lvs1", version: 1, message: "rs2 down after 3 failures"))
            let after = try await store.events(after: first.id)
            XCTAssertEqual(after.map(\.kind), ["health"])
        }
        let reopened = try HistoryStore(path: path)
        let head = try await reopened.head()
        XCTAssertEqual(head?.version, 1)
        let events = try await reopened.events()
        XCTAssertEqual(events.map(\.message), ["VI_51: BACKUP -> MASTER", "rs2 down after 3 failures"])
    }

    func testAFileThatIsNotAHistoryIsRefusedWithWhatToDo() throws {
        let path = directory + "/history.sqlite"
        try Data("not a database at all, but long enough to look like a header ........".utf8).write(to: URL(fileURLWithPath: path))
        XCTAssertThrowsError(try HistoryStore(path: path)) { error in
            XCTAssertTrue("\(error)".contains("is not an lb history database"), "\(error)")
            XCTAssertTrue("\(error)".contains("move it away"), "\(error)")
        }
    }
}
