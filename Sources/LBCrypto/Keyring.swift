import CSodium

/// The cluster keys a member holds: it seals with the primary and opens with whichever key a message
/// names, so keys can rotate without a flag day (install everywhere, switch primary, remove the old).
///
/// Sealed format, version 1 (all integers big-endian):
///
///     offset 0   1 byte    format version (1)
///     offset 1   4 bytes   key id (`ClusterKeyID`)
///     offset 5   24 bytes  random nonce
///     offset 29  n + 16    XChaCha20-Poly1305-IETF ciphertext and tag
///
/// The 29-byte header, followed by the caller's associated data, is the AEAD associated data, so a
/// changed version, key id or nonce fails authentication like a changed ciphertext does.
public struct Keyring: Sendable {
    /// The version byte this build writes and the only one it reads.
    public static let formatVersion: UInt8 = 1
    /// Version, key id and nonce.
    public static let headerByteCount = 1 + 4 + nonceByteCount
    /// crypto_aead_xchacha20poly1305_ietf_NPUBBYTES: random nonces of this size never repeat in practice.
    public static let nonceByteCount = 24
    /// crypto_aead_xchacha20poly1305_ietf_ABYTES.
    public static let tagByteCount = 16
    /// How many bytes sealing adds to a plaintext.
    public static let overheadByteCount = headerByteCount + tagByteCount

    /// The keys, primary first, then in the order they were installed.
    public private(set) var keys: [ClusterKey]

    /// The key that seals.
    public var primary: ClusterKey { keys[0] }

    /// A keyring whose primary is `keys[0]`; ids must be distinct.
    public init(keys: [ClusterKey]) throws {
        guard let first = keys.first else {
            throw CryptoError(.invalidArgument, "a keyring needs at least one key")
        }
        self.keys = [first]
        for key in keys.dropFirst() { try install(key) }
    }

    /// The installed key with this id.
    public func key(for id: ClusterKeyID) -> ClusterKey? { keys.first { $0.id == id } }

    /// Adds a key that can open messages; installing a key that is already present does nothing.
    public mutating func install(_ key: ClusterKey) throws {
        if let existing = self.key(for: key.id) {
            guard existing.secret.constantTimeEquals(key.secret) else {
                throw CryptoError(.keyringRule, "key id \(key.id) collides with a different installed key; generate another key")
            }
            return
        }
        keys.append(key)
    }

    /// Makes an installed key the one that seals.
    public mutating func usePrimary(_ id: ClusterKeyID) throws {
        guard let index = keys.firstIndex(where: { $0.id == id }) else {
            throw CryptoError(.keyringRule, "key \(id) is not installed; install it before making it primary")
        }
        keys.insert(keys.remove(at: index), at: 0)
    }

    /// Removes a key; messages sealed under it will no longer open. The primary cannot be removed.
    public mutating func remove(_ id: ClusterKeyID) throws {
        guard let index = keys.firstIndex(where: { $0.id == id }) else {
            throw CryptoError(.keyringRule, "key \(id) is not installed")
        }
        guard index != 0 else {
            throw CryptoError(.keyringRule, "key \(id) is the primary; make another key primary before removing it")
        }
        keys.remove(at: index)
    }

    /// Seals `plaintext` under the primary key with a fresh random nonce.
    public func seal(_ plaintext: [UInt8], associatedData: [UInt8] = []) -> [UInt8] {
        let key = primary
        var sealed = [Self.formatVersion] + key.id.bytes + SecureRandom.bytes(count: Self.nonceByteCount)
        let header = sealed
        let additional = header + associatedData
        var body = [UInt8](repeating: 0, count: plaintext.count + Self.tagByteCount)
        var bodyCount: UInt64 = 0
        key.secret.withUnsafeBytes { secret in
            _ = crypto_aead_xchacha20poly1305_ietf_encrypt(
                &body, &bodyCount, plaintext, UInt64(plaintext.count), additional, UInt64(additional.count),
                nil, Array(header[5...]), secret.bindMemory(to: UInt8.self).baseAddress!)
        }
        sealed += body.prefix(Int(bodyCount))
        return sealed
    }

    /// Opens a message sealed by any installed key, or throws `sealedTooShort`, `unsupportedFormat`,
    /// `unknownKey` or `authenticationFailed`. Never traps on hostile input.
    public func open(_ sealed: [UInt8], associatedData: [UInt8] = []) throws -> [UInt8] {
        guard sealed.count >= Self.overheadByteCount else {
            throw CryptoError(.sealedTooShort, "sealed message is \(sealed.count) bytes, shorter than the \(Self.overheadByteCount)-byte minimum")
        }
        guard sealed[0] == Self.formatVersion else {
            throw CryptoError(.unsupportedFormat, "sealed message has format version \(sealed[0]); this build reads version \(Self.formatVersion)")
        }
        let id = ClusterKeyID(rawValue: sealed[1..<5].reduce(0) { $0 << 8 | UInt32($1) })
        guard let key = key(for: id) else {
            throw CryptoError(.unknownKey, "sealed message names key \(id), which this keyring does not hold")
        }
        let header = Array(sealed[..<Self.headerByteCount])
        let nonce = Array(sealed[5..<Self.headerByteCount])
        let body = Array(sealed[Self.headerByteCount...])
        let additional = header + associatedData
        var plaintext = [UInt8](repeating: 0, count: body.count - Self.tagByteCount)
        var plaintextCount: UInt64 = 0
        let rc = key.secret.withUnsafeBytes { secret in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                &plaintext, &plaintextCount, nil, body, UInt64(body.count), additional, UInt64(additional.count),
                nonce, secret.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard rc == 0 else {
            throw CryptoError(.authenticationFailed, "sealed message under key \(id) failed authentication (wrong key, tampered or corrupted)")
        }
        return Array(plaintext.prefix(Int(plaintextCount)))
    }
}
