import LBCrypto

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

/// The wire format's sealing and opening as pure functions: the transport seals and opens through
/// them, and they are public so the fuzzer (GossipNetFuzz) and tests drive the same code without sockets.
extension SealedTransport {
    /// The plaintext of a received datagram, opened as the UDP path opens it (before its size check, which
    /// the caller applies); throws `CryptoError` when it is malformed or does not authenticate.
    public static func openDatagram(_ sealed: [UInt8], keyring: Keyring) throws -> [UInt8] {
        try keyring.open(sealed, associatedData: Wire.datagramAAD)
    }

    /// A datagram as an unreliable `send` seals it.
    public static func sealDatagram(_ plaintext: [UInt8], keyring: Keyring) -> [UInt8] {
        keyring.seal(plaintext, associatedData: Wire.datagramAAD)
    }

    /// The plaintext of a received frame (without its length prefix): the kind byte (0 message, 1 request,
    /// 2 response), then the body. Throws `CryptoError` when it is malformed or does not authenticate;
    /// the kind is not checked here (the stream handler drops empty plaintext and unknown kinds).
    public static func openFrame(_ sealed: [UInt8], keyring: Keyring) throws -> [UInt8] {
        try keyring.open(sealed, associatedData: Wire.streamAAD)
    }

    /// A frame (without its length prefix) as the transport seals a body of the given kind byte.
    public static func sealFrame(kind: UInt8, _ body: [UInt8], keyring: Keyring) -> [UInt8] {
        keyring.seal([kind] + body, associatedData: Wire.streamAAD)
    }
}
