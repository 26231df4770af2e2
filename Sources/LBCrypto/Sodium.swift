import CSodium

/// The one place that initialises libsodium.
enum Sodium {
    // A static `let` is initialised exactly once, under the runtime's once-lock, so concurrent first
    // callers cannot race inside sodium_init (which picks CPU-specific implementations).
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureInitialised() {
        precondition(initialised, "libsodium failed to initialise (sodium_init returned -1)")
    }
}

/// Overwrites the array's storage with zeros in a way the optimiser may not remove.
func wipeArray(_ bytes: inout [UInt8]) {
    bytes.withUnsafeMutableBytes { buffer in
        if let base = buffer.baseAddress { sodium_memzero(base, buffer.count) }
    }
}

/// Compares in time that depends only on the length, for tags, keys and digests.
func constantTimeEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
    guard a.count == b.count else { return false }
    guard a.count > 0, let pa = a.baseAddress, let pb = b.baseAddress else { return true }
    return sodium_memcmp(pa, pb, a.count) == 0
}
