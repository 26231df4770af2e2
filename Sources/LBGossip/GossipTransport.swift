/// How a shell moves packets: best-effort datagrams (probes, gossip) and reliable streams (join, sync).
///
/// The engine never calls a transport; it returns `.send` directives and the shell hands them here.
/// Implementations seal packets with the cluster keyring and drop (and count) anything that fails to
/// open or decode. `send` must not block; delivery is best effort even when `reliable` is true (a
/// failed stream is a lost message to SWIM). Today only LBGossipSim implements it; the NIO UDP/TCP
/// transport plugs in here later.
public protocol GossipTransport: Sendable {
    /// Sends one packet to a "host:port" address.
    func send(_ packet: GossipPacket, to address: String, reliable: Bool)
}

/// Deterministic randomness carried inside the engine value (SplitMix64), so a seed replays a run.
public struct GossipRandom: RandomNumberGenerator, Sendable {
    var state: UInt64
    public init(seed: UInt64) { state = seed }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
