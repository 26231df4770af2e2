import CSodium

/// SHA-256 through libsodium's crypto_hash_sha256.
public enum SHA256 {
    /// The digest length in bytes.
    public static let byteCount = 32

    /// The digest of `bytes`.
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        bytes.withUnsafeBytes { hash($0) }
    }

    /// The digest of the bytes in `buffer`.
    public static func hash(_ buffer: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialised()
        var digest = [UInt8](repeating: 0, count: byteCount)
        digest.withUnsafeMutableBufferPointer { out in
            let input = buffer.bindMemory(to: UInt8.self)
            // crypto_hash_sha256 cannot fail; it returns 0 unconditionally.
            _ = crypto_hash_sha256(out.baseAddress!, input.baseAddress, UInt64(input.count))
        }
        return digest
    }
}
