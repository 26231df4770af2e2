#if canImport(Glibc)
import Glibc
#endif

/// How many IPv4 services the kernel's IPVS table holds, in one system call: the legacy socket option
/// IP_VS_SO_GET_INFO (what ipvsadm asks first). Generic netlink's GET_INFO carries no count, and a dump is
/// one message per service, so this is the only O(1) way to notice an `ipvsadm -C` on a large table.
/// The kernel counts IPv4 services only ("for old get/setsockopt interface"); the count follows the
/// network namespace of the calling thread.
public final class IPVSServiceCount {
    private let fd: Int32

    public init() throws(NetlinkError) {
        fd = socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPPROTO_RAW))
        guard fd >= 0 else { throw .system(errno: errno, call: "socket(AF_INET, SOCK_RAW)") }
    }

    deinit { close(fd) }

    /// The number of IPv4 services; fails with ENOPROTOOPT when IPVS is not loaded.
    public func current() throws(NetlinkError) -> UInt32 {
        // struct ip_vs_getinfo { unsigned int version, size, num_services; }
        var info: (UInt32, UInt32, UInt32) = (0, 0, 0)
        var length = socklen_t(MemoryLayout.size(ofValue: info))
        guard getsockopt(fd, Int32(IPPROTO_IP), Self.getInfo, &info, &length) == 0 else {
            throw .system(errno: errno, call: "getsockopt(IP_VS_SO_GET_INFO)")
        }
        return info.2
    }

    /// IP_VS_SO_GET_INFO: IP_VS_BASE_CTL (64 + 1024 + 64) + 1.
    static let getInfo: Int32 = 64 + 1024 + 64 + 1
}
