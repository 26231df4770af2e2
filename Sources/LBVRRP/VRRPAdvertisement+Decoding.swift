import LBSpec

extension VRRPAdvertisement {
    /// Decodes the VRRP part of a datagram that came from `source` to `destination` (the addresses of
    /// the IP header: the family of the addresses and the v3 pseudo-header come from them).
    ///
    /// Checks everything that makes a packet malformed, in the order of RFC 3768 / RFC 5798 section 7.1:
    /// version 2 or 3, type ADVERTISEMENT, the complete message for its address count (no more, no less),
    /// the checksum, a non-zero VRID and (v3) interval. Whether the packet is meant for this router (VRID,
    /// authentication, interval, addresses) is the state machine's business, not the decoder's.
    public static func decode(_ bytes: ArraySlice<UInt8>, source: IPAddress, destination: IPAddress) throws -> VRRPAdvertisement {
        let b = bytes
        let s = b.startIndex
        guard b.count >= 8 else { throw VRRPError(.truncated, "VRRP header needs 8 bytes, got \(b.count)") }
        let family = source.family
        guard destination.family == family else { throw VRRPError(.badIPHeader, "source \(source) and destination \(destination) differ in family") }
        let rawVersion = b[s] >> 4
        guard let version = VRRPVersion(rawValue: Int(rawVersion)) else {
            throw VRRPError(.badVersion, "VRRP version \(rawVersion), expected 2 or 3")
        }
        guard version == .v3 || family == .ipv4 else { throw VRRPError(.badVersion, "VRRPv2 is defined over IPv4 only") }
        guard b[s] & 0x0F == type else { throw VRRPError(.badType, "VRRP type \(b[s] & 0x0F), expected 1 (ADVERTISEMENT)") }
        let vrid = b[s + 1]
        let priority = b[s + 2]
        let count = Int(b[s + 3])
        let expected = length(version: version, family: family, count: count)
        guard b.count >= expected else {
            throw VRRPError(.truncated, "\(version) advertisement with \(count) address(es) needs \(expected) bytes, got \(b.count)")
        }
        guard b.count == expected else {
            throw VRRPError(.trailingBytes, "\(version) advertisement with \(count) address(es) is \(expected) bytes, got \(b.count)")
        }
        let checksum = UInt16(b[s + 6]) << 8 | UInt16(b[s + 7])
        let initial = version == .v3 ? pseudoHeaderSum(source: source, destination: destination, length: expected) : 0
        guard InternetChecksum.verifies(b, initial: initial) else {
            let computed = InternetChecksum.checksum(b[s..<(s + 6)] + [0, 0] + b[(s + 8)...], initial: initial)
            throw VRRPError(.badChecksum, "\(version) checksum 0x\(hex(checksum)), computed 0x\(hex(computed))")
        }
        guard vrid != 0 else { throw VRRPError(.badField, "VRID 0 is not a virtual router") }

        let width = family == .ipv4 ? 4 : 16
        let addresses = (0..<count).map { i -> IPAddress in
            let start = s + 8 + i * width
            return IPAddress(bytes: Array(b[start..<(start + width)]))!
        }
        switch version {
        case .v2:
            let authStart = s + 8 + count * 4
            return VRRPAdvertisement(version: .v2, virtualRouterID: vrid, priority: priority, intervalCentiseconds: Int(b[s + 5]) * 100,
                                     addresses: addresses, authType: b[s + 4], authData: Array(b[authStart..<(authStart + 8)]), checksum: checksum)
        case .v3:
            let interval = (Int(b[s + 4]) << 8 | Int(b[s + 5])) & 0x0FFF
            guard interval != 0 else { throw VRRPError(.badField, "VRRPv3 advertisement interval 0") }
            return VRRPAdvertisement(version: .v3, virtualRouterID: vrid, priority: priority, intervalCentiseconds: interval,
                                     addresses: addresses, checksum: checksum)
        }
    }

    /// The sum of the IPv4 or IPv6 pseudo-header that VRRPv3 includes in its checksum (RFC 5798 section
    /// 5.2.8, referring to RFC 768 / RFC 2460 section 8.1): source, destination, zero, protocol 112, length.
    static func pseudoHeaderSum(source: IPAddress, destination: IPAddress, length: Int) -> UInt32 {
        let tail: [UInt8]
        if source.family == .ipv4 {
            tail = [0, IPv4Header.vrrpProtocol, UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        } else {
            tail = [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF),
                    0, 0, 0, IPv4Header.vrrpProtocol]
        }
        return InternetChecksum.sum(source.bytes + destination.bytes + tail)
    }
}

func hex(_ v: UInt16) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: max(0, 4 - s.count)) + s
}
