import LBSpec

/// An IPv4 header as received on a raw socket (Linux hands raw IPv4 sockets the whole datagram, header
/// included, with every field in network byte order). Decoded to check what VRRP checks in the IP layer
/// (TTL 255, the addresses of the v3 pseudo-header) and encoded so captures round-trip byte for byte.
public struct IPv4Header: Sendable, Equatable {
    public static let vrrpProtocol: UInt8 = 112

    /// Differentiated services and ECN; VRRP senders use 0xc0 (internetwork control).
    public var typeOfService: UInt8
    /// Header plus payload, in bytes.
    public var totalLength: UInt16
    public var identification: UInt16
    /// Flags (3 bits, DF = 0x4000, MF = 0x2000) and fragment offset (13 bits, in 8-byte units).
    public var flagsAndFragmentOffset: UInt16
    public var timeToLive: UInt8
    public var protocolNumber: UInt8
    /// As received; `encoded(payload:)` computes it afresh.
    public var checksum: UInt16
    public var source: IPAddress
    public var destination: IPAddress
    /// Options, a multiple of 4 bytes (VRRP senders use none).
    public var options: [UInt8]

    public init(typeOfService: UInt8 = 0xC0, totalLength: UInt16 = 0, identification: UInt16 = 0, flagsAndFragmentOffset: UInt16 = 0,
                timeToLive: UInt8 = 255, protocolNumber: UInt8 = IPv4Header.vrrpProtocol, checksum: UInt16 = 0,
                source: IPAddress, destination: IPAddress, options: [UInt8] = []) {
        self.typeOfService = typeOfService
        self.totalLength = totalLength
        self.identification = identification
        self.flagsAndFragmentOffset = flagsAndFragmentOffset
        self.timeToLive = timeToLive
        self.protocolNumber = protocolNumber
        self.checksum = checksum
        self.source = source
        self.destination = destination
        self.options = options
    }

    public var headerLength: Int { 20 + options.count }

    /// The header and the payload it delimits (`totalLength` bytes minus the header; anything after that,
    /// such as Ethernet padding, is ignored). Throws `.truncated` or `.badIPHeader`.
    public static func decode(_ datagram: ArraySlice<UInt8>) throws -> (header: IPv4Header, payload: ArraySlice<UInt8>) {
        let b = datagram
        let s = b.startIndex
        guard b.count >= 20 else { throw VRRPError(.truncated, "IPv4 header needs 20 bytes, got \(b.count)") }
        guard b[s] >> 4 == 4 else { throw VRRPError(.badIPHeader, "IP version \(b[s] >> 4), expected 4") }
        let ihl = Int(b[s] & 0x0F) * 4
        guard ihl >= 20 else { throw VRRPError(.badIPHeader, "IPv4 header length \(ihl) is below 20") }
        guard b.count >= ihl else { throw VRRPError(.truncated, "IPv4 header of \(ihl) bytes, got \(b.count)") }
        let total = Int(b[s + 2]) << 8 | Int(b[s + 3])
        guard total >= ihl else { throw VRRPError(.badIPHeader, "IPv4 total length \(total) is shorter than its header (\(ihl))") }
        guard total <= b.count else { throw VRRPError(.truncated, "IPv4 total length \(total), got \(b.count) bytes") }
        guard InternetChecksum.verifies(b[s..<(s + ihl)]) else { throw VRRPError(.badIPHeader, "IPv4 header checksum does not verify") }
        let fragment = UInt16(b[s + 6]) << 8 | UInt16(b[s + 7])
        guard fragment & 0x3FFF == 0 else { throw VRRPError(.badIPHeader, "IPv4 fragment (flags/offset 0x\(String(fragment, radix: 16)))") }
        let header = IPv4Header(
            typeOfService: b[s + 1], totalLength: UInt16(total), identification: UInt16(b[s + 4]) << 8 | UInt16(b[s + 5]),
            flagsAndFragmentOffset: fragment, timeToLive: b[s + 8], protocolNumber: b[s + 9],
            checksum: UInt16(b[s + 10]) << 8 | UInt16(b[s + 11]),
            source: IPAddress(bytes: Array(b[(s + 12)..<(s + 16)]))!, destination: IPAddress(bytes: Array(b[(s + 16)..<(s + 20)]))!,
            options: Array(b[(s + 20)..<(s + ihl)]))
        return (header, b[(s + ihl)..<(s + total)])
    }

    public static func decode(_ datagram: [UInt8]) throws -> (header: IPv4Header, payload: ArraySlice<UInt8>) {
        try decode(datagram[...])
    }

    /// The datagram: this header (total length and checksum computed) followed by `payload`.
    public func encoded(payload: [UInt8]) -> [UInt8] {
        precondition(options.count % 4 == 0 && options.count <= 40, "IPv4 options must be a multiple of 4 bytes, at most 40")
        let total = headerLength + payload.count
        var out: [UInt8] = [UInt8(0x40 | headerLength / 4), typeOfService, UInt8(total >> 8), UInt8(total & 0xFF),
                            UInt8(identification >> 8), UInt8(identification & 0xFF),
                            UInt8(flagsAndFragmentOffset >> 8), UInt8(flagsAndFragmentOffset & 0xFF),
                            timeToLive, protocolNumber, 0, 0]
        out += source.bytes + destination.bytes + options
        let sum = InternetChecksum.checksum(out)
        out[10] = UInt8(sum >> 8)
        out[11] = UInt8(sum & 0xFF)
        return out + payload
    }
}
