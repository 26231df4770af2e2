import LBSpec

/// The fixed IPv6 header (RFC 8200), for VRRPv3 over IPv6. Linux's raw IPv6 sockets hand over the
/// payload alone; the transport rebuilds this header from what recvmsg says (source, IPV6_PKTINFO's
/// destination, IPV6_HOPLIMIT), so the state machine reads one datagram form for both families.
public struct IPv6Header: Sendable, Equatable {
    public static let length = 40
    public var trafficClass: UInt8
    public var payloadLength: UInt16
    public var nextHeader: UInt8
    public var hopLimit: UInt8
    public var source: IPAddress
    public var destination: IPAddress

    public init(trafficClass: UInt8 = 0xC0, payloadLength: UInt16 = 0, nextHeader: UInt8 = IPv4Header.vrrpProtocol, hopLimit: UInt8 = 255,
                source: IPAddress, destination: IPAddress) {
        self.trafficClass = trafficClass
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    /// The header and the payload it delimits (anything after `payloadLength` is ignored). Throws
    /// `.truncated` or `.badIPHeader`.
    public static func decode(_ datagram: ArraySlice<UInt8>) throws -> (header: IPv6Header, payload: ArraySlice<UInt8>) {
        let b = datagram, s = b.startIndex
        guard b.count >= length else { throw VRRPError(.truncated, "IPv6 header needs 40 bytes, got \(b.count)") }
        guard b[s] >> 4 == 6 else { throw VRRPError(.badIPHeader, "IP version \(b[s] >> 4), expected 6") }
        let payload = Int(b[s + 4]) << 8 | Int(b[s + 5])
        guard length + payload <= b.count else { throw VRRPError(.truncated, "IPv6 payload length \(payload), got \(b.count - length) bytes") }
        let header = IPv6Header(trafficClass: (b[s] & 0x0F) << 4 | b[s + 1] >> 4, payloadLength: UInt16(payload), nextHeader: b[s + 6],
                                hopLimit: b[s + 7], source: IPAddress(bytes: Array(b[(s + 8)..<(s + 24)]))!,
                                destination: IPAddress(bytes: Array(b[(s + 24)..<(s + 40)]))!)
        return (header, b[(s + length)..<(s + length + payload)])
    }

    /// This header (payload length computed, flow label 0) followed by `payload`.
    public func encoded(payload: [UInt8]) -> [UInt8] {
        precondition(source.family == .ipv6 && destination.family == .ipv6 && payload.count <= 0xFFFF)
        let n = payload.count
        return [0x60 | trafficClass >> 4, trafficClass << 4, 0, 0, UInt8(n >> 8), UInt8(n & 0xFF), nextHeader, hopLimit]
            + source.bytes + destination.bytes + payload
    }
}

/// The Ethernet frame of an unsolicited neighbour advertisement (RFC 4861 section 7.2.6), IPv6's
/// gratuitous ARP, as keepalived sends it: from the virtual address to all nodes (ff02::1), hop limit
/// 255, Override set, the interface's MAC as target link-layer address. A host that has the address in
/// its neighbour cache moves it to that MAC; switches learn the port.
public enum NeighbourAdvertisementFrame {
    public static let etherTypeIPv6: UInt16 = 0x86DD
    public static let allNodes = IPAddress("ff02::1")!

    /// 86 bytes: 14 of Ethernet, 40 of IPv6, 32 of ICMPv6 (24 of advertisement, 8 of option).
    public static func frame(senderMAC mac: [UInt8], address: IPAddress) -> [UInt8] {
        precondition(mac.count == 6 && address.family == .ipv6, "a neighbour advertisement is for IPv6 over Ethernet")
        var icmp: [UInt8] = [136, 0, 0, 0, 0x20, 0, 0, 0] + address.bytes + [2, 1] + mac
        // The ICMPv6 checksum covers the pseudo-header: source, destination, upper-layer length, next header 58.
        let pseudo = address.bytes + allNodes.bytes + [0, 0, 0, UInt8(icmp.count), 0, 0, 0, 58]
        let sum = InternetChecksum.checksum(icmp, initial: InternetChecksum.sum(pseudo))
        icmp[2] = UInt8(sum >> 8)
        icmp[3] = UInt8(sum & 0xFF)
        let ip = IPv6Header(trafficClass: 0, nextHeader: 58, hopLimit: 255, source: address, destination: allNodes).encoded(payload: icmp)
        // 33:33 and the group's last 32 bits: the Ethernet address of an IPv6 multicast group (RFC 2464).
        return [0x33, 0x33] + allNodes.bytes.suffix(4) + mac + [0x86, 0xDD] + ip
    }
}
