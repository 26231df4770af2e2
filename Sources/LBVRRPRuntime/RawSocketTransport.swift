#if canImport(Glibc)
import Glibc
#endif
import LBSpec
import LBVRRP

/// VRRP over Linux raw sockets, in the calling thread's network namespace:
/// - one `AF_INET`/`SOCK_RAW`/protocol 112 socket, bound to the interface (SO_BINDTODEVICE), member of
///   224.0.0.18 on it (IP_ADD_MEMBERSHIP, and IP_MULTICAST_ALL off so groups joined by other sockets do
///   not leak in), sending with IP_MULTICAST_IF, TTL 255 (IP_MULTICAST_TTL and IP_TTL), TOS 0xc0 and our
///   own multicast not looped back; the source address of each advert is set per packet (IP_PKTINFO);
/// - for IPv6 (VRRPv3, RFC 5798) an `AF_INET6` one likewise, member of ff02::12, hop limit 255, traffic
///   class 0xc0, source and interface per packet (IPV6_PKTINFO); the kernel hands it the payload alone,
///   so each datagram is rebuilt with the IPv6 header recvmsg describes (source, IPV6_PKTINFO's
///   destination, IPV6_HOPLIMIT) for the state machine's checks;
/// - one `AF_PACKET` socket of protocol 0 (it receives nothing) for gratuitous ARP (IPv4) and unsolicited
///   neighbour advertisements (IPv6), on the interface or on another one a VIP is on;
/// - a dedicated thread blocked in poll(2) on the raw socket and a wake-up pipe, never the cooperative pool.
public final class RawSocketTransport: VRRPTransport, @unchecked Sendable {
    public static let multicastGroup = VRRPConfiguration.multicastGroup(.ipv4)

    public let interface: String
    public let interfaceIndex: Int32
    public let mac: [UInt8]
    public let family: IPAddress.Family
    private let raw: Int32
    private let packet: Int32
    private let wake: (read: Int32, write: Int32)
    // Set once by startReceiving, read by close; both are called from the owning speaker, never concurrently.
    private var thread: pthread_t?
    private var closed = false

    /// Opens the sockets on `interface` for `family`; `joinMulticast` false for unicast peers only.
    public init(interface: String, family: IPAddress.Family = .ipv4, joinMulticast: Bool = true) throws {
        self.interface = interface
        self.family = family
        let index = if_nametoindex(interface)
        guard index != 0 else { throw VRRPRuntimeError("no interface \(interface)") }
        interfaceIndex = Int32(index)

        let domain = family == .ipv4 ? AF_INET : AF_INET6
        let raw = socket(domain, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), Int32(IPv4Header.vrrpProtocol))
        guard raw >= 0 else { throw VRRPRuntimeError.errno("socket(\(family == .ipv4 ? "AF_INET" : "AF_INET6"), SOCK_RAW, 112)") }
        let packet = socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard packet >= 0 else { let e = VRRPRuntimeError.errno("socket(AF_PACKET, SOCK_RAW, 0)"); Glibc.close(raw); throw e }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { let e = VRRPRuntimeError.errno("pipe2"); Glibc.close(raw); Glibc.close(packet); throw e }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        self.raw = raw
        self.packet = packet
        wake = (fds[0], fds[1])
        do {
            mac = try Self.hardwareAddress(interface, socket: raw)
            try Self.set(raw, SOL_SOCKET, SO_BINDTODEVICE, Array(interface.utf8) + [0], "SO_BINDTODEVICE \(interface)")
            if family == .ipv6 {
                try Self.configureIPv6(raw, interface: interface, index: interfaceIndex, joinMulticast: joinMulticast)
                return
            }
            let group = Self.inAddr(Self.multicastGroup)
            var mreqn = ip_mreqn(imr_multiaddr: group, imr_address: in_addr(s_addr: 0), imr_ifindex: interfaceIndex)
            if joinMulticast {
                try Self.set(raw, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &mreqn, "IP_ADD_MEMBERSHIP 224.0.0.18 on \(interface)")
            }
            var off: Int32 = 0, ttl: Int32 = 255, tos: Int32 = 0xC0
            try Self.set(raw, Int32(IPPROTO_IP), IP_MULTICAST_ALL, &off, "IP_MULTICAST_ALL")
            mreqn.imr_multiaddr = in_addr(s_addr: 0)
            try Self.set(raw, Int32(IPPROTO_IP), IP_MULTICAST_IF, &mreqn, "IP_MULTICAST_IF \(interface)")
            try Self.set(raw, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, "IP_MULTICAST_TTL")
            try Self.set(raw, Int32(IPPROTO_IP), IP_TTL, &ttl, "IP_TTL")
            try Self.set(raw, Int32(IPPROTO_IP), IP_TOS, &tos, "IP_TOS")
            try Self.set(raw, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &off, "IP_MULTICAST_LOOP")
        } catch {
            Glibc.close(raw); Glibc.close(packet); Glibc.close(fds[0]); Glibc.close(fds[1])
            throw error
        }
    }

    deinit { close() }

    public func startReceiving(_ receive: @escaping @Sendable ([UInt8]) -> Void) throws {
        precondition(thread == nil, "startReceiving called twice")
        let loop = ReceiveLoop(socket: raw, wake: wake.read, ipv6: family == .ipv6, deliver: receive)
        var tid = pthread_t()
        let context = Unmanaged.passRetained(loop).toOpaque()
        let status = pthread_create(&tid, nil, { raw in
            let loop = Unmanaged<ReceiveLoop>.fromOpaque(raw!).takeRetainedValue()
            loop.run()
            return nil
        }, context)
        guard status == 0 else {
            Unmanaged<ReceiveLoop>.fromOpaque(context).release()
            throw VRRPRuntimeError("cannot start the receive thread (pthread_create \(status))")
        }
        thread = tid
    }

    public func send(_ vrrp: [UInt8], from source: IPAddress, to destination: IPAddress) throws {
        if family == .ipv6 { return try send6(vrrp, from: source, to: destination) }
        var dst = sockaddr_in()
        dst.sin_family = sa_family_t(AF_INET)
        dst.sin_addr = Self.inAddr(destination)
        // IP_PKTINFO: the source address and outgoing interface of this one packet.
        var control = [UInt8](repeating: 0, count: 32)
        control.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt(16 + MemoryLayout<in_pktinfo>.size), toByteOffset: 0, as: UInt.self)  // cmsg_len = CMSG_LEN(12)
            c.storeBytes(of: Int32(IPPROTO_IP), toByteOffset: 8, as: Int32.self)
            c.storeBytes(of: Int32(IP_PKTINFO), toByteOffset: 12, as: Int32.self)
            c.storeBytes(of: interfaceIndex, toByteOffset: 16, as: Int32.self)
            c.storeBytes(of: Self.inAddr(source).s_addr, toByteOffset: 20, as: UInt32.self)  // ipi_spec_dst
        }
        guard Self.send(raw, vrrp, to: &dst, control: &control) == vrrp.count else { throw VRRPRuntimeError.errno("sendmsg to \(destination)") }
    }

    /// sendmsg(2) of one buffer to `destination` (a sockaddr_in or sockaddr_in6) with `control` messages.
    static func send<Address>(_ fd: Int32, _ bytes: [UInt8], to destination: inout Address, control: inout [UInt8]) -> Int {
        var payload = bytes
        return withUnsafeMutablePointer(to: &destination) { dstPtr in
            payload.withUnsafeMutableBytes { body in
                control.withUnsafeMutableBytes { ctl in
                    var iov = iovec(iov_base: body.baseAddress, iov_len: body.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPtr in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(dstPtr)
                        msg.msg_namelen = socklen_t(MemoryLayout<Address>.size)
                        msg.msg_iov = iovPtr
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        return sendmsg(fd, &msg, 0)
                    }
                }
            }
        }
    }

    public func sendGratuitousARP(for addresses: [IPAddress], count: Int, on name: String) throws {
        // Another interface is looked up on each burst (bursts are rare, and it may have been re-created),
        // through the socket, so in the socket's network namespace rather than the calling thread's.
        let index: Int32, mac: [UInt8]
        if name == interface {
            (index, mac) = (interfaceIndex, self.mac)
        } else {
            (index, mac) = (try Self.interfaceIndex(name, socket: raw), try Self.hardwareAddress(name, socket: raw))
        }
        // sockaddr_ll: family, protocol (network order, set per frame below), ifindex, hatype, pkttype, halen, addr[8].
        var ll = [UInt8](repeating: 0, count: 20)
        ll.withUnsafeMutableBytes { b in
            b.storeBytes(of: UInt16(AF_PACKET), toByteOffset: 0, as: UInt16.self)
            b.storeBytes(of: index, toByteOffset: 4, as: Int32.self)
            b[11] = 6
            for i in 0..<6 { b[12 + i] = 0xFF }
        }
        for address in addresses {
            let frame = address.family == .ipv4 ? GratuitousARPFrame.frame(senderMAC: mac, address: address)
                : NeighbourAdvertisementFrame.frame(senderMAC: mac, address: address)
            // sockaddr_ll's protocol: what the frame's EtherType says.
            let type = address.family == .ipv4 ? GratuitousARPFrame.etherTypeARP : NeighbourAdvertisementFrame.etherTypeIPv6
            ll.withUnsafeMutableBytes { $0.storeBytes(of: type.bigEndian, toByteOffset: 2, as: UInt16.self) }
            for _ in 0..<count {
                let sent = frame.withUnsafeBytes { f in
                    ll.withUnsafeBytes { a in
                        sendto(packet, f.baseAddress, f.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(a.count))
                    }
                }
                guard sent == frame.count else {
                    throw VRRPRuntimeError.errno("\(address.family == .ipv4 ? "gratuitous ARP" : "neighbour advertisement") for \(address) on \(name)")
                }
            }
        }
    }

    public func close() {
        guard !closed else { return }
        closed = true
        var one: UInt8 = 1
        _ = write(wake.write, &one, 1)
        if let thread { pthread_join(thread, nil) }
        Glibc.close(raw)
        Glibc.close(packet)
        Glibc.close(wake.read)
        Glibc.close(wake.write)
    }

    // MARK: IPv6

    static func configureIPv6(_ fd: Int32, interface: String, index: Int32, joinMulticast: Bool) throws {
        var on: Int32 = 1, off: Int32 = 0, hops: Int32 = 255, tclass: Int32 = 0xC0, ifindex = index
        if joinMulticast {
            // struct ipv6_mreq: the group, then the interface index.
            let address = VRRPConfiguration.multicastGroup(.ipv6)
            var group = address.bytes
            withUnsafeBytes(of: UInt32(index)) { group += $0 }
            try set(fd, Int32(IPPROTO_IPV6), IPV6_ADD_MEMBERSHIP, group, "IPV6_ADD_MEMBERSHIP \(address) on \(interface)")
        }
        try set(fd, Int32(IPPROTO_IPV6), ipv6MulticastAll, &off, "IPV6_MULTICAST_ALL")
        try set(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_IF, &ifindex, "IPV6_MULTICAST_IF \(interface)")
        try set(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_HOPS, &hops, "IPV6_MULTICAST_HOPS")
        try set(fd, Int32(IPPROTO_IPV6), IPV6_UNICAST_HOPS, &hops, "IPV6_UNICAST_HOPS")
        try set(fd, Int32(IPPROTO_IPV6), IPV6_MULTICAST_LOOP, &off, "IPV6_MULTICAST_LOOP")
        try set(fd, Int32(IPPROTO_IPV6), ipv6TClass, &tclass, "IPV6_TCLASS")
        try set(fd, Int32(IPPROTO_IPV6), ipv6RecvPktInfo, &on, "IPV6_RECVPKTINFO")
        try set(fd, Int32(IPPROTO_IPV6), ipv6RecvHopLimit, &on, "IPV6_RECVHOPLIMIT")
    }

    // <linux/in6.h> values Glibc's module leaves out (they sit behind _GNU_SOURCE).
    static let ipv6RecvPktInfo: Int32 = 49, ipv6PktInfo: Int32 = 50, ipv6RecvHopLimit: Int32 = 51, ipv6HopLimit: Int32 = 52
    static let ipv6TClass: Int32 = 67, ipv6MulticastAll: Int32 = 29

    private func send6(_ vrrp: [UInt8], from source: IPAddress, to destination: IPAddress) throws {
        var dst = sockaddr_in6()
        dst.sin6_family = sa_family_t(AF_INET6)
        dst.sin6_addr = Self.in6Addr(destination)
        dst.sin6_scope_id = UInt32(interfaceIndex)
        // IPV6_PKTINFO (struct in6_pktinfo: the address, then the interface index).
        var control = [UInt8](repeating: 0, count: 40)
        control.withUnsafeMutableBytes { c in
            c.storeBytes(of: UInt(16 + 20), toByteOffset: 0, as: UInt.self)  // cmsg_len = CMSG_LEN(20)
            c.storeBytes(of: Int32(IPPROTO_IPV6), toByteOffset: 8, as: Int32.self)
            c.storeBytes(of: Self.ipv6PktInfo, toByteOffset: 12, as: Int32.self)
            for (i, byte) in source.bytes.enumerated() { c[16 + i] = byte }
            c.storeBytes(of: interfaceIndex, toByteOffset: 32, as: Int32.self)
        }
        guard Self.send(raw, vrrp, to: &dst, control: &control) == vrrp.count else { throw VRRPRuntimeError.errno("sendmsg to \(destination)") }
    }

    static func in6Addr(_ a: IPAddress) -> in6_addr {
        var out = in6_addr()
        withUnsafeMutableBytes(of: &out) { b in for (i, byte) in a.bytes.enumerated() { b[i] = byte } }
        return out
    }

    // MARK: helpers

    static func inAddr(_ a: IPAddress) -> in_addr {
        guard case .v4(let v) = a else { return in_addr(s_addr: 0) }
        return in_addr(s_addr: v.bigEndian)
    }

    static func set<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: inout T, _ what: String) throws {
        guard setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<T>.size)) == 0 else { throw VRRPRuntimeError.errno(what) }
    }

    static func set(_ fd: Int32, _ level: Int32, _ name: Int32, _ bytes: [UInt8], _ what: String) throws {
        let status = bytes.withUnsafeBytes { setsockopt(fd, level, name, $0.baseAddress, socklen_t($0.count)) }
        guard status == 0 else { throw VRRPRuntimeError.errno(what) }
    }

    /// An ifreq naming `interface`, for the SIOCGIF* ioctls.
    static func request(_ interface: String) -> ifreq {
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (i, byte) in interface.utf8.prefix(15).enumerated() { name[i] = byte }
        }
        return request
    }

    static func interfaceIndex(_ interface: String, socket fd: Int32) throws -> Int32 {
        var request = Self.request(interface)
        guard ioctl(fd, UInt(SIOCGIFINDEX), &request) == 0 else {
            if errno == ENODEV { throw VRRPRuntimeError("no interface \(interface)") }
            throw VRRPRuntimeError.errno("SIOCGIFINDEX \(interface)")
        }
        return request.ifr_ifru.ifru_ivalue
    }

    static func hardwareAddress(_ interface: String, socket fd: Int32) throws -> [UInt8] {
        var request = Self.request(interface)
        guard ioctl(fd, UInt(SIOCGIFHWADDR), &request) == 0 else { throw VRRPRuntimeError.errno("SIOCGIFHWADDR \(interface)") }
        return withUnsafeBytes(of: request.ifr_ifru.ifru_hwaddr.sa_data) { Array($0.prefix(6)) }
    }
}

/// The body of the receive thread: poll the raw socket and the wake-up pipe, hand each datagram over.
final class ReceiveLoop: @unchecked Sendable {
    let socket: Int32
    let wake: Int32
    let ipv6: Bool
    let deliver: @Sendable ([UInt8]) -> Void

    init(socket: Int32, wake: Int32, ipv6: Bool = false, deliver: @escaping @Sendable ([UInt8]) -> Void) {
        self.socket = socket
        self.wake = wake
        self.ipv6 = ipv6
        self.deliver = deliver
    }

    func run() {
        var buffer = [UInt8](repeating: 0, count: 65536)
        var fds = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: wake, events: Int16(POLLIN), revents: 0)]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[1].revents != 0 { return }
            guard fds[0].revents & Int16(POLLIN) != 0 else {
                if fds[0].revents != 0 { return }  // POLLERR / POLLNVAL: the socket is gone
                continue
            }
            if ipv6 {
                if let datagram = receive6(&buffer) { deliver(datagram) }
                continue
            }
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n > 0 { deliver(Array(buffer[0..<n])) }
        }
    }

    /// One IPv6 datagram: the payload recvmsg gives, behind the header its source, IPV6_PKTINFO and
    /// IPV6_HOPLIMIT describe. nil when nothing was read or the kernel left out what the header needs.
    func receive6(_ buffer: inout [UInt8]) -> [UInt8]? {
        var from = sockaddr_in6()
        var control = [UInt8](repeating: 0, count: 128)
        let n = withUnsafeMutablePointer(to: &from) { fromPtr in
            buffer.withUnsafeMutableBytes { body in
                control.withUnsafeMutableBytes { ctl in
                    var iov = iovec(iov_base: body.baseAddress, iov_len: body.count)
                    return withUnsafeMutablePointer(to: &iov) { iovPtr in
                        var msg = msghdr()
                        msg.msg_name = UnsafeMutableRawPointer(fromPtr)
                        msg.msg_namelen = socklen_t(MemoryLayout<sockaddr_in6>.size)
                        msg.msg_iov = iovPtr
                        msg.msg_iovlen = 1
                        msg.msg_control = ctl.baseAddress
                        msg.msg_controllen = ctl.count
                        let n = recvmsg(socket, &msg, Int32(MSG_DONTWAIT))
                        return n > 0 ? (n, Int(msg.msg_controllen)) : nil
                    }
                }
            }
        }
        guard let (length, controlLength) = n, length <= 0xFFFF else { return nil }
        var destination: IPAddress?, hops: UInt8?
        var offset = 0
        while offset + 16 <= controlLength {
            let (len, level, type) = control.withUnsafeBytes {
                (Int($0.load(fromByteOffset: offset, as: UInt.self)), $0.load(fromByteOffset: offset + 8, as: Int32.self),
                 $0.load(fromByteOffset: offset + 12, as: Int32.self))
            }
            guard len >= 16, offset + len <= controlLength else { break }
            if level == Int32(IPPROTO_IPV6), type == RawSocketTransport.ipv6PktInfo, len >= 16 + 20 {
                destination = IPAddress(bytes: Array(control[(offset + 16)..<(offset + 32)]))
            } else if level == Int32(IPPROTO_IPV6), type == RawSocketTransport.ipv6HopLimit, len >= 16 + 4 {
                hops = UInt8(clamping: control.withUnsafeBytes { $0.load(fromByteOffset: offset + 16, as: Int32.self) })
            }
            offset += (len + 7) & ~7
        }
        let source = withUnsafeBytes(of: from.sin6_addr) { IPAddress(bytes: Array($0)) }
        guard let source, let destination, let hops else { return nil }
        return IPv6Header(hopLimit: hops, source: source, destination: destination).encoded(payload: Array(buffer[0..<length]))
    }
}
