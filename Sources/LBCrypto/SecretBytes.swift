import CSodium

/// Secret key material in memory from sodium_malloc: guard pages around it, locked against swapping
/// where the system allows, and zeroed when wiped or released.
///
/// Reading it after `wipe()` is a programming error and stops the process, because silently signing or
/// sealing with zeros would be worse.
// @unchecked Sendable: the bytes are written only while the object is being built (before anyone else can
// see it) and by wipe(), which takes the write lock that every reader holds as a read lock.
public final class SecretBytes: @unchecked Sendable, CustomStringConvertible {
    /// How many bytes of secret this holds; it stays the same after `wipe()`.
    public let count: Int
    private var base: UnsafeMutableRawPointer?
    private let lock = ReadWriteLock()

    /// Allocates `count` guarded bytes and lets `initialise` fill them; if it throws, the memory is
    /// wiped and released and the error passes through.
    init(count: Int, initialisingWith initialise: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count > 0, "SecretBytes needs at least one byte")
        Sodium.ensureInitialised()
        guard let memory = sodium_malloc(count) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory or over the locked-memory limit")
        }
        sodium_memzero(memory, count)
        self.count = count
        self.base = memory
        do {
            try initialise(UnsafeMutableRawBufferPointer(start: memory, count: count))
        } catch {
            sodium_free(memory)
            self.base = nil
            throw error
        }
    }

    /// Copies `bytes` into guarded memory; the caller remains responsible for wiping its own copy.
    public convenience init(copying bytes: [UInt8]) {
        self.init(count: bytes.count) { buffer in buffer.copyBytes(from: bytes) }
    }

    /// Fresh bytes from the operating system's secure random source.
    public static func random(count: Int) -> SecretBytes {
        SecretBytes(count: count) { buffer in SecureRandom.fill(buffer) }
    }

    deinit {
        // sodium_free zeroes the region before unmapping it.
        if let base { sodium_free(base) }
    }

    /// Lends the secret for the duration of `body`; do not let the pointer escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try lock.withReadLock {
            guard let base else { preconditionFailure("SecretBytes read after wipe()") }
            return try body(UnsafeRawBufferPointer(start: base, count: count))
        }
    }

    /// Zeroes and releases the secret now rather than when the last reference goes away.
    public func wipe() {
        lock.withWriteLock {
            if let base { sodium_free(base) }
            base = nil
        }
    }

    /// Whether `wipe()` has run.
    public var isWiped: Bool { lock.withReadLock { base == nil } }

    /// Compares two secrets in time that depends only on their length.
    public func constantTimeEquals(_ other: SecretBytes) -> Bool {
        withUnsafeBytes { mine in other.withUnsafeBytes { theirs in constantTimeEqual(mine, theirs) } }
    }

    public var description: String { "SecretBytes(\(count) bytes, redacted)" }
}
