/// How a gossip shell moves bytes: best-effort datagrams (probes, gossip), one-way reliable messages
/// (join, sync) and reliable request/response (document fetch).
///
/// The engine never calls a transport; it returns directives and the shell hands the encoded packets
/// here. Implementations seal everything with the cluster keyring and drop (and count) whatever fails
/// to open or is oversized before it reaches `inbound`. `send` never blocks or throws: delivery is best
/// effort even when `reliable` is true (a failed stream is a lost message to SWIM). The default
/// implementation is `SealedTransport` (LBGossipNet, SwiftNIO UDP and TCP).
public protocol GossipTransport: Sendable {
    /// The "host:port" this transport receives on (UDP and TCP share the port).
    var localAddress: String { get }
    /// Messages that opened under the keyring, in arrival order. Finishes when the transport shuts down.
    var inbound: AsyncStream<GossipInbound> { get }
    /// Sends one message: a datagram, or when `reliable` a one-way message on a stream.
    func send(_ bytes: [UInt8], to address: String, reliable: Bool)
    /// Sends a request on a stream and waits for the peer's answer (nil from the peer's handler, a
    /// closed stream or the timeout all throw).
    func request(_ bytes: [UInt8], to address: String, timeout: Duration) async throws -> [UInt8]
    /// Sets what answers requests; a nil answer closes the stream without a reply.
    func serveRequests(_ handler: @escaping @Sendable ([UInt8]) async -> [UInt8]?)
    /// Closes sockets; `inbound` finishes.
    func shutdown() async
}

/// One message that arrived and opened under the keyring.
public struct GossipInbound: Sendable {
    /// The plaintext.
    public var bytes: [UInt8]
    /// The peer's "host:port" as the socket saw it (for streams, the peer's ephemeral port).
    public var from: String
    /// Whether it came on a stream.
    public var reliable: Bool
    public init(bytes: [UInt8], from: String, reliable: Bool) { self.bytes = bytes; self.from = from; self.reliable = reliable }
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
