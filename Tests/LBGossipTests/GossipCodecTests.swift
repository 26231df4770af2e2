import LBGossip
import XCTest

final class GossipCodecTests: XCTestCase {
    let a = GossipNode(name: "a", address: "10.0.0.1:7946")
    let b = GossipNode(name: "b", address: "10.0.0.2:7946")
    var update: MemberUpdate {
        MemberUpdate(node: b, incarnation: 0x0102_0304_0506_0708, status: .suspect,
                     metadata: MemberMetadata(roles: ["director", "real"], agentVersion: "0.1", documentVersion: 9, documentDigest: [1, 2, 3]),
                     origin: "a")
    }

    func testEveryMessageRoundTrips() throws {
        let bodies: [GossipBody] = [.ping(sequence: 7, target: "b"), .pingRequest(sequence: 8, target: b, timeoutMillis: 500), .ack(sequence: 7),
                                    .nack(sequence: 8), .gossip, .join, .sync(reply: true), .sync(reply: false)]
        for body in bodies {
            let p = GossipPacket(sender: a, head: DocumentHead(version: 9, digest: [1, 2, 3]), body: body, updates: [update, update],
                                 reports: [NodeReport(node: "a", version: 2, bytes: [0xFF, 0])])
            XCTAssertEqual(try GossipCodec.decode(GossipCodec.encode(p)), p)
            XCTAssertEqual(GossipCodec.size(of: p), GossipCodec.encode(p).count, "the size used for budgets and the benchmark is exact")
        }
    }

    func testFetchRequestRoundTripsAndRefusesNoDocument() throws {
        let h = DocumentHead(version: 12, digest: Array(repeating: 0xAA, count: 32))
        XCTAssertEqual(try GossipCodec.decodeFetch(GossipCodec.encodeFetch(h)), h)
        XCTAssertThrowsError(try GossipCodec.decodeFetch([0x4C, 0x46, 1] + Array(repeating: 0, count: 9))) {
            XCTAssertEqual($0 as? GossipError, .invalidHead)
        }
        let good = GossipCodec.encodeFetch(h)
        for n in 0..<good.count { XCTAssertThrowsError(try GossipCodec.decodeFetch(Array(good.prefix(n)))) }
    }

    func testLayoutIsBigEndianAndVersioned() {
        let bytes = GossipCodec.encode(GossipPacket(sender: a, body: .ack(sequence: 0x0A0B_0C0D)))
        XCTAssertEqual(Array(bytes.prefix(4)), [0x4C, 0x47, 1, GossipMessageType.ack.rawValue])
        // sender: u16 len "a", u16 len "10.0.0.1:7946", no head (u64 0, u8 0), the sequence big-endian,
        // then zero updates and zero reports.
        XCTAssertEqual(Array(bytes[4..<7]), [0, 1, 0x61])
        XCTAssertEqual(Array(bytes.suffix(17)), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0A, 0x0B, 0x0C, 0x0D, 0, 0, 0, 0])
    }

    func testMalformedInputThrowsNeverTraps() {
        let good = GossipCodec.encode(GossipPacket(sender: a, body: .gossip, updates: [update]))
        for n in 0..<good.count { XCTAssertThrowsError(try GossipCodec.decode(Array(good.prefix(n))), "prefix \(n)") }
        XCTAssertThrowsError(try GossipCodec.decode(good + [0])) { XCTAssertEqual($0 as? GossipError, .trailingBytes(1)) }
        var v = good; v[2] = 2
        XCTAssertThrowsError(try GossipCodec.decode(v)) { XCTAssertEqual($0 as? GossipError, .unsupportedVersion(2)) }
        var t = good; t[3] = 200
        XCTAssertThrowsError(try GossipCodec.decode(t)) { XCTAssertEqual($0 as? GossipError, .unknownMessageType(200)) }
        var rng = GossipRandom(seed: 42)
        for _ in 0..<20_000 {
            var bytes = good
            for _ in 0..<Int(rng.next() % 4 + 1) { bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? GossipCodec.decode(bytes)
            let random = (0..<Int(rng.next() % 64)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = try? GossipCodec.decode([0x4C, 0x47, 1] + random)
        }
    }
}
