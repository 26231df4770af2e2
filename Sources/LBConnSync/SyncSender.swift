#if canImport(Glibc)
import Glibc
#endif
import LBSpec

/// Multicasts sync messages on one interface to the group the kernel's backup threads listen on.
///
/// A plain non-blocking UDP socket: a datagram is handed to the kernel or refused at once (EAGAIN), so
/// nothing blocks; the sender paces itself instead, because a backup's receive buffer holds only about
/// a hundred datagrams and what overflows it is lost.
public final class SyncSender {
    let fd: Int32
    let interface: String

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public init(interface: String, ttl: UInt8 = 1) throws(Failure) {
        let index = if_nametoindex(interface)
        guard index != 0 else { throw Failure(description: "no interface \(interface)") }
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        self.interface = interface
        var request = ip_mreqn()
        request.imr_ifindex = Int32(index)
        var hops = Int32(ttl)
        var loop: Int32 = 0   // the sender's own backup thread must not take its own entries back
        let ok = setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &request, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0
            && setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &hops, socklen_t(MemoryLayout<Int32>.size)) == 0
            && setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &loop, socklen_t(MemoryLayout<Int32>.size)) == 0
        guard ok else {
            let e = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "multicast on \(interface): \(e)")
        }
    }

    deinit { close(fd) }

    /// Sends every datagram to group:port, `burst` at a time with `pause` between bursts; a full send
    /// buffer waits a millisecond and tries again. Returns how many were sent.
    public func send(_ datagrams: [[UInt8]], group: IPAddress = SyncMessage.group, port: UInt16 = SyncMessage.port,
                     burst: Int = 32, pause: Duration = .milliseconds(2)) async throws -> Int {
        guard case .v4(let g) = group else { throw Failure(description: "IPv6 sync groups are not supported") }
        var to = sockaddr_in()
        to.sin_family = sa_family_t(AF_INET)
        to.sin_port = port.bigEndian
        to.sin_addr.s_addr = g.bigEndian
        var sent = 0
        for d in datagrams {
            if sent > 0 && sent % burst == 0 { try await Task.sleep(for: pause) }
            var tries = 0
            while true {
                let n = d.withUnsafeBytes { b in
                    withUnsafePointer(to: &to) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, b.baseAddress, b.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                }
                if n >= 0 { break }
                let e = errno
                guard e == EAGAIN || e == EWOULDBLOCK || e == ENOBUFS || e == EINTR, tries < 1000 else {
                    throw Failure(description: "send on \(interface): \(String(cString: strerror(e)))")
                }
                tries += 1
                try await Task.sleep(for: .milliseconds(1))
            }
            sent += 1
        }
        return sent
    }
}
