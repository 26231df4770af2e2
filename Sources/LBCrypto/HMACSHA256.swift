import CSodium

/// HMAC-SHA256 (RFC 2104) through libsodium's crypto_auth_hmacsha256 init/update/final, which takes a
/// key of any length (the one-shot call wants exactly 32 bytes): what signs webhook deliveries.
public enum HMACSHA256 {
    /// The code's length in bytes.
    public static let byteCount = 32

    /// The authentication code of `message` under `key`.
    public static func authenticationCode(for message: [UInt8], key: SecretBytes) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { code(for: $0, key: k) } }
    }

    /// The authentication code of `message` under `key`, for keys that are not secret (test vectors).
    public static func authenticationCode(for message: [UInt8], key: [UInt8]) -> [UInt8] {
        key.withUnsafeBytes { k in message.withUnsafeBytes { code(for: $0, key: k) } }
    }

    /// Whether `code` is `message`'s code under `key`, compared in constant time.
    public static func isValid(_ code: [UInt8], for message: [UInt8], key: SecretBytes) -> Bool {
        let expected = authenticationCode(for: message, key: key)
        return expected.withUnsafeBytes { e in code.withUnsafeBytes { constantTimeEqual(e, $0) } }
    }

    /// Reads a shared secret from a file of its own: the raw bytes less one trailing newline (`\n` or
    /// `\r\n`, which editors and `echo` add), refused as `SecureFile` refuses any secret that group or
    /// others may access, and refused when nothing is left.
    public static func readKey(at path: String) throws -> SecretBytes {
        var contents = try SecureFile.readSecret(at: path)
        defer { wipeArray(&contents) }
        var end = contents.count
        if end > 0 && contents[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        if end > 0 && contents[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        guard end > 0 else {
            throw CryptoError(.invalidLength, "'\(path)' holds no secret; write one, e.g. head -c 32 /dev/urandom | base64 > \(path)", path: path)
        }
        return SecretBytes(count: end) { buffer in
            contents.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(end))) }
        }
    }

    private static func code(for message: UnsafeRawBufferPointer, key: UnsafeRawBufferPointer) -> [UInt8] {
        Sodium.ensureInitialised()
        var state = crypto_auth_hmacsha256_state()
        defer { withUnsafeMutableBytes(of: &state) { sodium_memzero($0.baseAddress!, $0.count) } }
        var out = [UInt8](repeating: 0, count: byteCount)
        // These calls cannot fail; each returns 0 unconditionally.
        address(of: key) { _ = crypto_auth_hmacsha256_init(&state, $0, key.count) }
        address(of: message) { _ = crypto_auth_hmacsha256_update(&state, $0, UInt64(message.count)) }
        out.withUnsafeMutableBufferPointer { _ = crypto_auth_hmacsha256_final(&state, $0.baseAddress!) }
        return out
    }

    /// `bytes`' address, or for an empty buffer (which may have none) some valid address: libsodium reads
    /// no byte of a zero-length key or message but wants a pointer all the same.
    private static func address(of bytes: UnsafeRawBufferPointer, _ body: (UnsafePointer<UInt8>) -> Void) {
        if let base = bytes.baseAddress {
            body(base.assumingMemoryBound(to: UInt8.self))
        } else {
            var none: UInt8 = 0
            withUnsafePointer(to: &none, body)
        }
    }
}
