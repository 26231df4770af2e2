import CSodium

/// An Ed25519 public key: 32 bytes, compared by value, written as standard base64.
public struct PublicKey: Hashable, Sendable, Codable, CustomStringConvertible {
    /// crypto_sign_PUBLICKEYBYTES.
    public static let byteCount = 32
    /// crypto_sign_BYTES: the length of a detached signature.
    public static let signatureByteCount = 64

    /// The raw key as RFC 8032 encodes it.
    public let bytes: [UInt8]

    /// Accepts 32 bytes that encode a point of the main subgroup; small-order and non-canonical
    /// encodings are refused here so that a trust list cannot hold a key that verifies junk.
    public init(bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError(.invalidLength, "an ed25519 public key is \(Self.byteCount) bytes, not \(bytes.count)")
        }
        Sodium.ensureInitialised()
        guard crypto_core_ed25519_is_valid_point(bytes) == 1 else {
            throw CryptoError(.invalidEncoding, "those 32 bytes are not a valid ed25519 public key")
        }
        self.bytes = bytes
    }

    /// Parses the base64 form (either alphabet).
    public init(base64: String) throws {
        try self.init(bytes: Base64.decode(base64))
    }

    /// Standard base64 with padding.
    public var base64: String { Base64.encode(bytes) }

    /// A short, stable name for the key: "ed25519:" followed by the first 16 lowercase hex digits
    /// (8 bytes) of SHA-256 over the 32 raw public key bytes. It names, it does not authenticate:
    /// verification always uses the key itself.
    public var keyID: String { "ed25519:" + Hex.encode(SHA256.hash(bytes).prefix(8)) }

    /// Whether `signature` is this key's Ed25519 signature of `message` (libsodium's strict checks:
    /// canonical S, no small-order R or key).
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard signature.count == Self.signatureByteCount else { return false }
        Sodium.ensureInitialised()
        return message.withUnsafeBufferPointer { msg in
            crypto_sign_verify_detached(signature, msg.baseAddress, UInt64(msg.count), bytes) == 0
        }
    }

    public var description: String { keyID }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do {
            try self.init(base64: text)
        } catch let error as CryptoError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.message))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(base64)
    }
}

/// An Ed25519 signing key. The 32-byte seed and libsodium's expanded secret stay in guarded memory.
public final class SigningKey: Sendable, CustomStringConvertible {
    /// crypto_sign_SEEDBYTES.
    public static let seedByteCount = 32

    /// The key that verifies this key's signatures.
    public let publicKey: PublicKey
    // libsodium's 64-byte secret key: the seed followed by the public key.
    private let secretKey: SecretBytes

    /// Derives the key pair from a 32-byte seed (RFC 8032 section 5.1.5).
    public init(seed: SecretBytes) throws {
        guard seed.count == Self.seedByteCount else {
            throw CryptoError(.invalidLength, "an ed25519 seed is \(Self.seedByteCount) bytes, not \(seed.count)")
        }
        var publicBytes = [UInt8](repeating: 0, count: PublicKey.byteCount)
        secretKey = SecretBytes(count: Int(crypto_sign_SECRETKEYBYTES)) { secret in
            seed.withUnsafeBytes { seedBytes in
                _ = crypto_sign_seed_keypair(&publicBytes, secret.bindMemory(to: UInt8.self).baseAddress!,
                                             seedBytes.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        publicKey = try PublicKey(bytes: publicBytes)
    }

    /// Derives the key pair from seed bytes held in ordinary memory, for test vectors and tools.
    public convenience init(seedBytes: [UInt8]) throws {
        try self.init(seed: SecretBytes(copying: seedBytes))
    }

    /// A new key from a fresh random seed.
    public static func generate() -> SigningKey {
        // A random 32-byte seed is always a valid Ed25519 seed.
        try! SigningKey(seed: SecretBytes.random(count: seedByteCount))
    }

    /// The public key's id; see `PublicKey.keyID`.
    public var keyID: String { publicKey.keyID }

    /// The 64-byte detached Ed25519 signature of `message`.
    public func signature(for message: [UInt8]) -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: PublicKey.signatureByteCount)
        secretKey.withUnsafeBytes { secret in
            message.withUnsafeBufferPointer { msg in
                _ = crypto_sign_detached(&signature, nil, msg.baseAddress, UInt64(msg.count),
                                         secret.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        return signature
    }

    /// Lends the 32-byte seed, which is all a key file needs to store.
    func withSeed<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try secretKey.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(Self.seedByteCount))) }
    }

    /// Zeroes the secret now; any later signing stops the process.
    public func wipe() { secretKey.wipe() }

    public var description: String { "SigningKey(\(keyID))" }
}
