import CSodium

/// The 4-byte name of a cluster key, carried in every sealed message so the receiver can pick the key.
/// It is the first four bytes, read big-endian, of SHA-256("lb-cluster-key-id-v1" || 0x00 || key).
/// The domain prefix keeps it unrelated to any other hash of the key; 32 bits of a hash of a 256-bit
/// random key tell an observer nothing useful about the key.
public struct ClusterKeyID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Eight lowercase hex digits.
    public var description: String { Hex.encode(bytes) }

    /// The four bytes as they appear on the wire (network byte order).
    public var bytes: [UInt8] { withUnsafeBytes(of: rawValue.bigEndian) { Array($0) } }

    init(derivedFrom key: SecretBytes) {
        var input = Array("lb-cluster-key-id-v1".utf8) + [0]
        key.withUnsafeBytes { input += $0 }
        let digest = SHA256.hash(input)
        wipeArray(&input)
        rawValue = digest.prefix(4).reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A 32-byte XChaCha20-Poly1305 key shared by the members of one cluster to seal gossip traffic.
public final class ClusterKey: Sendable, CustomStringConvertible {
    /// crypto_aead_xchacha20poly1305_ietf_KEYBYTES.
    public static let byteCount = 32

    public let id: ClusterKeyID
    let secret: SecretBytes

    /// Takes ownership of `secret`, which must be 32 bytes.
    public init(secret: SecretBytes) throws {
        guard secret.count == Self.byteCount else {
            throw CryptoError(.invalidLength, "a cluster key is \(Self.byteCount) bytes, not \(secret.count)")
        }
        self.secret = secret
        self.id = ClusterKeyID(derivedFrom: secret)
    }

    /// A new key from the secure random source.
    public static func generate() -> ClusterKey {
        // A random 32-byte buffer is always a valid key.
        try! ClusterKey(secret: SecretBytes.random(count: byteCount))
    }

    /// Zeroes the key now; sealing or opening with it afterwards stops the process.
    public func wipe() { secret.wipe() }

    public var description: String { "ClusterKey(\(id))" }
}
