#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-file replacement that a crash cannot leave half done: temporary file, fsync, rename, directory
/// fsync. The agent's held document and ledger, and every file lbctl writes, go through it.
public enum AtomicFile {
    /// Replaces `path` with `bytes` (mode `mode`, exactly, whatever the umask).
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws(CryptoError) {
        do {
            try SecureFile.writeAtomically(bytes, to: path, mode: mode_t(mode), overwrite: true)
        } catch let error as CryptoError {
            throw error
        } catch {
            throw CryptoError(.io, "cannot write '\(path)': \(error)", path: path)
        }
    }

    /// The whole file, or nil when it does not exist; larger than `maximumBytes` or unreadable throws.
    public static func read(_ path: String, maximumBytes: Int = 16 << 20) throws(CryptoError) -> [UInt8]? {
        guard SecureFile.exists(path) else { return nil }
        do {
            return try SecureFile.readPublic(at: path, maximumBytes: maximumBytes)
        } catch let error as CryptoError {
            throw error
        } catch {
            throw CryptoError(.io, "cannot read '\(path)': \(error)", path: path)
        }
    }
}
