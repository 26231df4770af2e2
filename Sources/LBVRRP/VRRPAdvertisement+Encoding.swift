import LBSpec

extension VRRPAdvertisement {
    /// The VRRP bytes of this advertisement sent from `source` to `destination`, checksum computed
    /// (v3 includes the pseudo-header, so each unicast destination gets its own checksum).
    public func encoded(source: IPAddress, destination: IPAddress) -> [UInt8] {
        precondition(addresses.count <= 255, "at most 255 addresses fit the count field")
        var out: [UInt8] = [UInt8(version.rawValue << 4) | VRRPAdvertisement.type, virtualRouterID, priority, UInt8(addresses.count)]
        switch version {
        case .v2:
            precondition(intervalCentiseconds % 100 == 0 && (0...25500).contains(intervalCentiseconds), "VRRPv2 carries whole seconds, at most 255")
            out += [authType, UInt8(intervalCentiseconds / 100), 0, 0]
        case .v3:
            precondition((0...0x0FFF).contains(intervalCentiseconds), "VRRPv3 carries at most 4095 centiseconds")
            out += [UInt8(intervalCentiseconds >> 8), UInt8(intervalCentiseconds & 0xFF), 0, 0]
        }
        for address in addresses { out += address.bytes }
        if version == .v2 { out += VRRPAdvertisement.padded(authData) }
        let initial = version == .v3 ? VRRPAdvertisement.pseudoHeaderSum(source: source, destination: destination, length: out.count) : 0
        let sum = InternetChecksum.checksum(out, initial: initial)
        out[6] = UInt8(sum >> 8)
        out[7] = UInt8(sum & 0xFF)
        return out
    }

    /// The whole IPv4 datagram as a VRRP speaker puts it on the wire: TOS 0xc0, TTL 255, protocol 112.
    public func datagram(source: IPAddress, destination: IPAddress, identification: UInt16 = 0, flagsAndFragmentOffset: UInt16 = 0) -> [UInt8] {
        IPv4Header(identification: identification, flagsAndFragmentOffset: flagsAndFragmentOffset, source: source, destination: destination)
            .encoded(payload: encoded(source: source, destination: destination))
    }
}
