import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A daemon's state directory: created private, and locked while a daemon uses it.
public enum StateDirectory {
    /// Why the directory cannot be used.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    public static func create(_ path: String) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard info.st_mode & S_IFMT == S_IFDIR else { throw Failure("state_dir \(path) exists and is not a directory") }
            return
        }
        // Parents as `mkdir -p` makes them; the directory itself private, since it holds the ledger.
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Failure("cannot create state_dir \(path): \(error.localizedDescription)")
        }
    }

    /// An exclusive lock on `path/file`, held until the descriptor is closed: two agents on one host
    /// would fight over the kernel, and `lb-agent reset` under a running agent would be undone at once;
    /// two controllers on one history would both think they own it. `holder` and `stop` name who holds
    /// it and how to stop that, for the error.
    public static func lock(_ path: String, file name: String, holder: String, stop: String) throws -> Int32 {
        let file = path + "/" + name
        let fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot open \(file): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = read(fd, &buffer, buffer.count)
            close(fd)
            let pid = n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : "?"
            throw Failure("another \(holder) (pid \(pid)) uses \(path); stop it first (\(stop))")
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }
}
