import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// systemd's end of NOTIFY_SOCKET for tests of sd_notify: a real unix datagram socket, bound to a path
/// or an abstract name, read one datagram at a time.
public final class NotifySocket {
    let fd: Int32
    /// What NOTIFY_SOCKET says: the path, or `@` and the abstract name.
    public let name: String
    private let path: String?

    /// A file socket unless `abstract`. Abstract names belong to one network namespace, so a daemon
    /// started in another must be given a file.
    public init(abstract: Bool) throws {
        let unique = "lb-notify-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        path = abstract ? nil : NSTemporaryDirectory() + unique
        name = abstract ? "@" + unique : path!
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var bytes = Array(name.utf8)
        if abstract { bytes[0] = 0 }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count + (abstract ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// The next datagram, or nil after 5 s without one.
    public func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n < 0 ? nil : String(decoding: buffer.prefix(n), as: UTF8.self)
    }

    deinit {
        close(fd)
        if let path { unlink(path) }
    }
}
