/// Constants of the sealed wire format (docs/gossip.md), in one place so both ends agree.
enum Wire {
    /// Binds a datagram's ciphertext to UDP, so a captured datagram cannot be replayed as a stream frame.
    static let datagramAAD = Array("lb-gossip/udp/1".utf8)
    /// Binds a frame's ciphertext to TCP, for the same reason in the other direction.
    static let streamAAD = Array("lb-gossip/tcp/1".utf8)
    /// The big-endian length that precedes every sealed frame.
    static let lengthPrefixBytes = 4

    /// The first plaintext byte of a frame: what the receiver must do with the rest.
    enum Kind: UInt8 {
        /// Deliver to `inbound` as a reliable message; no answer.
        case message = 0
        /// Hand to the request handler and answer with one `.response`.
        case request = 1
        /// The answer to a `.request`.
        case response = 2
    }
}
