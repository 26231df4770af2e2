import CSodium

/// Bytes from the operating system's secure random source (getrandom on Linux), through libsodium.
public enum SecureRandom {
    /// `count` fresh random bytes, for values that are not secret themselves (nonces, file suffixes).
    public static func bytes(count: Int) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        result.withUnsafeMutableBytes { fill($0) }
        return result
    }

    /// Fills `buffer` with random bytes.
    public static func fill(_ buffer: UnsafeMutableRawBufferPointer) {
        Sodium.ensureInitialised()
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        randombytes_buf(base, buffer.count)
    }
}
