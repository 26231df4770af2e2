import LBSpec

/// How a speaker reaches the LAN: IPv4 datagrams of protocol 112 in and out, and gratuitous ARPs out.
/// `RawSocketTransport` is the real one; tests may provide an in-memory one.
///
/// Concurrency: `send` and `sendGratuitousARP` are called from the speaker's actor and must not block
/// for long (a socket send). The `receive` handler passed to `startReceiving` is called from the
/// transport's own thread, never from the cooperative pool, once per datagram, and must only enqueue.
public protocol VRRPTransport: Sendable {
    /// Starts delivering every received datagram (IPv4 header included) to `receive`.
    func startReceiving(_ receive: @escaping @Sendable ([UInt8]) -> Void) throws
    /// Sends a VRRP message (the IP header is the transport's business: TTL 255, TOS 0xc0, protocol 112).
    func send(_ vrrp: [UInt8], from source: IPAddress, to destination: IPAddress) throws
    /// Broadcasts `count` gratuitous ARPs for each of `addresses` on `interface` (the advert interface, or
    /// the one a VIP is on), from that interface's MAC.
    func sendGratuitousARP(for addresses: [IPAddress], count: Int, on interface: String) throws
    /// Stops receiving and releases the sockets; idempotent.
    func close()
}
