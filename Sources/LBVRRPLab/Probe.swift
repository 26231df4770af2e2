#if canImport(Glibc)
import Glibc
#endif
import LBSpec
import LBVRRP

/// The failover stopwatch, run inside the client namespace (`lb-vrrp-bench probe`): waits for an
/// advertisement from the master and kills it `killDelay` (5 ms) after the advert reached this namespace
/// (the kernel's receive timestamp, so the probe's own wake-up latency does not shift the phase), so every
/// run starts at the same phase of the advertisement cycle, close to the worst case for SIGKILL. Then it
/// sends an ARP request for the VIP every 0.25 ms until the backup's MAC answers. The kernel answers ARP
/// for an address only once it is configured, so the answer is the VIP answering on the backup.
public struct FailoverProbe {
    public var interface = "eth0"
    public var sender: IPAddress
    public var vip: IPAddress
    public var master: IPAddress
    public var backupMAC: [UInt8]
    /// kill(2) target: a pid, or a negative process group.
    public var target: pid_t
    public var signal: Int32
    public var timeout: Double = 15
    /// Seconds between the advert's arrival and the kill.
    public var killDelay: Double = 0.005
    /// Seconds between ARP requests: the stopwatch's resolution.
    public var arpInterval: Double = 0.00025

    public init(sender: IPAddress, vip: IPAddress, master: IPAddress, backupMAC: [UInt8], target: pid_t, signal: Int32) {
        self.sender = sender
        self.vip = vip
        self.master = master
        self.backupMAC = backupMAC
        self.target = target
        self.signal = signal
    }

    /// Milliseconds from the kill to the backup's first ARP answer for the VIP.
    public func run() throws -> Double {
        let index = Int32(if_nametoindex(interface))
        guard index > 0 else { throw LabError("no interface \(interface)") }
        let vrrp = socket(AF_INET, Int32(SOCK_RAW.rawValue), 112)
        guard vrrp >= 0 else { throw LabError("raw socket: \(String(cString: strerror(errno)))") }
        defer { close(vrrp) }
        var mreqn = ip_mreqn(imr_multiaddr: in_addr(s_addr: UInt32(0xE000_0012).bigEndian), imr_address: in_addr(s_addr: 0), imr_ifindex: index)
        guard setsockopt(vrrp, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &mreqn, socklen_t(MemoryLayout<ip_mreqn>.size)) == 0 else {
            throw LabError("IP_ADD_MEMBERSHIP: \(String(cString: strerror(errno)))")
        }
        let arp = socket(AF_PACKET, Int32(SOCK_RAW.rawValue), Int32(UInt16(0x0806).bigEndian))
        guard arp >= 0 else { throw LabError("packet socket: \(String(cString: strerror(errno)))") }
        defer { close(arp) }
        var ll = [UInt8](repeating: 0, count: 20)
        ll.withUnsafeMutableBytes { b in
            b.storeBytes(of: UInt16(AF_PACKET), toByteOffset: 0, as: UInt16.self)
            b.storeBytes(of: UInt16(0x0806).bigEndian, toByteOffset: 2, as: UInt16.self)
            b.storeBytes(of: index, toByteOffset: 4, as: Int32.self)
            b[11] = 6
            for i in 0..<6 { b[12 + i] = 0xFF }
        }
        guard ll.withUnsafeBytes({ bind(arp, $0.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t($0.count)) }) == 0 else {
            throw LabError("bind packet socket: \(String(cString: strerror(errno)))")
        }
        let myMAC = try Self.mac(interface)

        // 1. An advertisement from the master (priority > 0), with the kernel's receive time.
        var on: Int32 = 1
        guard setsockopt(vrrp, SOL_SOCKET, SO_TIMESTAMPNS, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
            throw LabError("SO_TIMESTAMPNS: \(String(cString: strerror(errno)))")
        }
        var buffer = [UInt8](repeating: 0, count: 2048)
        var control = [UInt8](repeating: 0, count: 128)
        let deadline = Lab.now() + timeout
        var killAt = 0.0
        while true {
            guard Lab.now() < deadline else { throw LabError("no advertisement from \(master)") }
            var p = pollfd(fd: vrrp, events: Int16(POLLIN), revents: 0)
            guard poll(&p, 1, 100) > 0 else { continue }
            guard let (n, received) = Self.receive(vrrp, &buffer, &control), n > 0,
                  let (header, payload) = try? IPv4Header.decode(Array(buffer[0..<n])), header.source == master,
                  let ad = try? VRRPAdvertisement.decode(payload, source: header.source, destination: header.destination), ad.priority > 0
            else { continue }
            killAt = received + killDelay
            if Lab.now() < killAt - 0.0005 { break }
            // Woken too late to keep the phase: wait for the next advert.
        }
        // 2. Kill at the chosen phase, start the stopwatch.
        Self.sleep(until: killAt)
        let t0 = Lab.now()
        guard kill(target, signal) == 0 else { throw LabError("kill(\(target), \(signal)): \(String(cString: strerror(errno)))") }
        // 3. ARP for the VIP every arpInterval until the backup answers.
        let request = GratuitousARPFrame.request(senderMAC: myMAC, sender: sender, target: vip)
        var nextSend = t0
        while Lab.now() - t0 < timeout {
            let now = Lab.now()
            if now >= nextSend {
                _ = request.withUnsafeBytes { f in ll.withUnsafeBytes { a in
                    sendto(arp, f.baseAddress, f.count, 0, a.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(a.count))
                } }
                nextSend = now + arpInterval
            }
            while true {
                let n = buffer.withUnsafeMutableBytes { recv(arp, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                guard n > 0 else { break }
                if let reply = GratuitousARPFrame.parseReply(Array(buffer[0..<n])), reply.sender == vip, reply.senderMAC == backupMAC {
                    return (Lab.now() - t0) * 1000
                }
            }
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000)
            nanosleep(&pause, nil)
        }
        throw LabError("the backup did not answer for \(vip) within \(timeout) s")
    }

    /// recvmsg with SO_TIMESTAMPNS: the bytes read and the kernel's receive time as CLOCK_MONOTONIC seconds.
    static func receive(_ fd: Int32, _ buffer: inout [UInt8], _ control: inout [UInt8]) -> (Int, Double)? {
        let n = buffer.withUnsafeMutableBytes { data in
            control.withUnsafeMutableBytes { ctl in
                var iov = iovec(iov_base: data.baseAddress, iov_len: data.count)
                return withUnsafeMutablePointer(to: &iov) { iovPtr in
                    var msg = msghdr()
                    msg.msg_iov = iovPtr
                    msg.msg_iovlen = 1
                    msg.msg_control = ctl.baseAddress
                    msg.msg_controllen = ctl.count
                    let n = recvmsg(fd, &msg, 0)
                    return n > 0 && msg.msg_controllen >= 32 ? n : -1
                }
            }
        }
        guard n > 0 else { return nil }
        // cmsghdr (len 8, level 4, type 4) then struct timespec (seconds 8, nanoseconds 8), CLOCK_REALTIME.
        let (level, type, seconds, nanoseconds) = control.withUnsafeBytes {
            ($0.load(fromByteOffset: 8, as: Int32.self), $0.load(fromByteOffset: 12, as: Int32.self),
             $0.load(fromByteOffset: 16, as: Int.self), $0.load(fromByteOffset: 24, as: Int.self))
        }
        guard level == SOL_SOCKET, type == SCM_TIMESTAMPNS else { return nil }
        var real = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        let age = (Double(real.tv_sec) + Double(real.tv_nsec) / 1e9) - (Double(seconds) + Double(nanoseconds) / 1e9)
        return (n, Lab.now() - age)
    }

    /// Sleeps until `deadline` (CLOCK_MONOTONIC seconds), spinning over the last 200 µs for precision.
    static func sleep(until deadline: Double) {
        while deadline - Lab.now() > 0.0002 {
            var pause = timespec(tv_sec: 0, tv_nsec: 100_000)
            nanosleep(&pause, nil)
        }
        while Lab.now() < deadline {}
    }

    static func mac(_ interface: String) throws -> [UInt8] {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var request = ifreq()
        withUnsafeMutableBytes(of: &request.ifr_ifrn.ifrn_name) { name in
            for (i, byte) in interface.utf8.prefix(15).enumerated() { name[i] = byte }
        }
        guard ioctl(fd, UInt(SIOCGIFHWADDR), &request) == 0 else { throw LabError("SIOCGIFHWADDR \(interface)") }
        return withUnsafeBytes(of: request.ifr_ifru.ifru_hwaddr.sa_data) { Array($0.prefix(6)) }
    }
}
