#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// File reads and writes for key material: permission checks on read, atomic replacement on write.
enum SecureFile {
    /// Key files are tiny; anything bigger is not one, and is not read into memory.
    static let maximumBytes = 1 << 20

    /// Reads a file holding a secret, refusing it (as ssh does) if group or others have any access.
    static func readSecret(at path: String) throws -> [UInt8] {
        try read(at: path, requirePrivate: true)
    }

    /// Reads a file that holds nothing secret.
    static func readPublic(at path: String, maximumBytes: Int = SecureFile.maximumBytes) throws -> [UInt8] {
        try read(at: path, requirePrivate: false, maximumBytes: maximumBytes)
    }

    private static func read(at path: String, requirePrivate: Bool, maximumBytes: Int = SecureFile.maximumBytes) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open", path) }
        defer { close(fd) }
        // fstat on the open descriptor, so the mode checked is the mode of the file actually read.
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError("cannot stat", path) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw CryptoError(.io, "'\(path)' is not a regular file", path: path)
        }
        if requirePrivate && info.st_mode & 0o077 != 0 {
            let mode = String(info.st_mode & 0o7777, radix: 8)
            throw CryptoError(.insecurePermissions,
                              "permissions \(String(repeating: "0", count: max(0, 4 - mode.count)) + mode) for '\(path)' are too open; it holds a secret key, so run chmod 600 \(path)",
                              path: path)
        }
        guard Int(info.st_size) <= maximumBytes else {
            throw CryptoError(.io, "'\(path)' is \(info.st_size) bytes, more than the \(maximumBytes) such a file may have", path: path)
        }
        return try readAll(fd, path: path, maximumBytes: maximumBytes)
    }

    private static func readAll(_ fd: Int32, path: String, maximumBytes: Int) throws -> [UInt8] {
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        defer { wipeArray(&chunk) }
        while true {
            let n = chunk.withUnsafeMutableBytes { systemRead(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else {
                wipeArray(&contents)
                throw ioError("cannot read", path)
            }
            if n == 0 { return contents }
            contents += chunk.prefix(n)
            guard contents.count <= maximumBytes else {
                wipeArray(&contents)
                throw CryptoError(.io, "'\(path)' grew past \(maximumBytes) bytes while being read", path: path)
            }
        }
    }

    /// Writes `bytes` to `path` so that readers see the old file or the whole new one, never a part:
    /// a temporary file in the same directory, created with `mode`, fsynced, then renamed (or, when
    /// `overwrite` is false, hard-linked, which fails atomically if `path` exists), then the
    /// directory is fsynced so the new name survives a crash.
    static func writeAtomically(_ bytes: [UInt8], to path: String, mode: mode_t, overwrite: Bool) throws {
        if !overwrite && exists(path) {
            throw CryptoError(.fileExists, "'\(path)' already exists; refusing to overwrite it", path: path)
        }
        let (directory, name) = split(path)
        let temporary = directory + "/." + name + ".tmp-" + Hex.encode(SecureRandom.bytes(count: 6))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw ioError("cannot create", temporary) }
        do {
            defer { close(fd) }
            // The umask may have narrowed `mode`; set it exactly, so public files stay readable.
            guard fchmod(fd, mode) == 0 else { throw ioError("cannot chmod", temporary) }
            try writeAll(fd, bytes, path: temporary)
            guard fsync(fd) == 0 else { throw ioError("cannot fsync", temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        defer { unlink(temporary) }
        if overwrite {
            guard rename(temporary, path) == 0 else { throw ioError("cannot rename \(temporary) to", path) }
        } else if link(temporary, path) != 0 {
            if errno == EEXIST {
                throw CryptoError(.fileExists, "'\(path)' already exists; refusing to overwrite it", path: path)
            }
            throw ioError("cannot link \(temporary) to", path)
        }
        syncDirectory(directory)
    }

    private static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + offset, $0.count - offset) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ioError("cannot write", path) }
            offset += n
        }
    }

    // Best effort: a directory that cannot be opened or synced (some network filesystems) still holds
    // a complete file, only its durability across a power cut is weaker.
    private static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    private static func ioError(_ action: String, _ path: String) -> CryptoError {
        let reason = String(cString: strerror(errno))
        return CryptoError(.io, "\(action) '\(path)': \(reason)", path: path)
    }
}

// Inside SecureFile, `read` names its own static methods, so the system call needs another name.
private func systemRead(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
    read(fd, buffer, count)
}
