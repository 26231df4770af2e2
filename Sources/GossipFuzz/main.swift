// libFuzzer driver for the gossip packet decoder and the engine's receive path. A malformed or hostile
// packet must be an error or a harmless update, never a crash. Build and run with scripts/fuzz.sh gossip.
#if FUZZ
import LBFuzzSupport
import LBGossip

enum Decoders {
    static let node = GossipNode(name: "fuzz-0", address: "10.0.0.1:7946")

    /// Decodes the input; a packet that decodes is fed to an engine, re-encoded and decoded again.
    static func run(_ bytes: [UInt8]) {
        // Fetch requests arrive on streams from anyone holding the cluster key.
        if let head = try? GossipCodec.decodeFetch(bytes) {
            precondition((try? GossipCodec.decodeFetch(GossipCodec.encodeFetch(head))) == head, "fetch request round trip changed")
        }
        guard let packet = try? GossipCodec.decode(bytes) else { return }
        precondition(GossipCodec.size(of: packet) == bytes.count, "size(of:) disagrees with the decoded length")
        // A decoded packet must survive a round trip unchanged.
        let again = try? GossipCodec.decode(GossipCodec.encode(packet))
        precondition(again == packet, "gossip codec round trip changed a packet")
        guard var engine = try? GossipInstance(node: node, config: .lan, seed: 1) else { return }
        _ = engine.start(now: .zero, seeds: [])
        _ = engine.receive(packet, now: .seconds(1))
        if let head = packet.head { _ = engine.fetchFailed(head, from: packet.sender.name, now: .seconds(1)) }
        _ = engine.tick(now: .seconds(2))
        _ = engine.tick(now: .seconds(90))
    }

    /// Valid packets of every message type.
    static func seeds() -> [(String, [UInt8])] {
        let peer = GossipNode(name: "fuzz-1", address: "10.0.0.2:7946")
        let meta = MemberMetadata(roles: ["director"], agentVersion: "0.1.0", documentVersion: 7, documentDigest: Array(repeating: 0xAB, count: 32))
        let updates = [
            MemberUpdate(node: peer, incarnation: 3, status: .alive, metadata: meta, origin: "fuzz-1"),
            MemberUpdate(node: node, incarnation: 1, status: .suspect, metadata: MemberMetadata(), origin: "fuzz-1"),
        ]
        let head = DocumentHead(version: 4, digest: Array(repeating: 0xCD, count: 32))
        let reports = [NodeReport(node: "fuzz-1", version: 2, bytes: Array("healthy".utf8))]
        func p(_ body: GossipBody, _ u: [MemberUpdate] = updates) -> [UInt8] {
            GossipCodec.encode(GossipPacket(sender: peer, head: head, body: body, updates: u, reports: reports))
        }
        return [
            ("ping.bin", p(.ping(sequence: 1, target: node.name))),
            ("ping-request.bin", p(.pingRequest(sequence: 2, target: node, timeoutMillis: 500), [])),
            ("ack.bin", p(.ack(sequence: 1))),
            ("nack.bin", p(.nack(sequence: 2), [])),
            ("gossip.bin", p(.gossip)),
            ("join.bin", p(.join, [updates[0]])),
            ("sync.bin", p(.sync(reply: true))),
            ("fetch.bin", GossipCodec.encodeFetch(head)),
            // Once crashed the refuting member (incarnation + 1 overflowed).
            ("regression-incarnation-overflow.bin", p(.gossip, [MemberUpdate(node: node, incarnation: .max, status: .suspect, metadata: MemberMetadata(), origin: "fuzz-1")])),
        ]
    }
}

FuzzDriver.main(seeds: Decoders.seeds, body: Decoders.run)
#else
print("GossipFuzz must be built with -sanitize=fuzzer -DFUZZ; run scripts/fuzz.sh gossip")
#endif
