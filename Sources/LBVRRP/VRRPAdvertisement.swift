import LBSpec

/// The two protocol versions lb speaks. Both run over IPv4 (IP protocol 112, multicast 224.0.0.18);
/// v3 also defines IPv6, which this codec reads and writes but the runtime does not yet send.
public enum VRRPVersion: Int, Sendable, Codable, CaseIterable, CustomStringConvertible {
    /// RFC 3768: interval in whole seconds (8 bits), authentication none or simple text password,
    /// checksum over the VRRP message alone.
    case v2 = 2
    /// RFC 5798: interval in centiseconds (12 bits), no authentication, checksum over the IP
    /// pseudo-header and the VRRP message.
    case v3 = 3

    public var description: String { "VRRPv\(rawValue)" }
}

/// One VRRP ADVERTISEMENT, the only message either version defines. Wire layout (network byte order):
///
///     v2:  | ver 2 | type 1 | VRID | priority | count | auth type | adver int (s) | checksum |
///          | count × IPv4 address | 8 bytes authentication data |
///     v3:  | ver 3 | type 1 | VRID | priority | count | rsvd (4 bits) + max adver int (12 bits, cs) | checksum |
///          | count × IPv4 or IPv6 address |
public struct VRRPAdvertisement: Sendable, Equatable {
    /// Auth types of RFC 3768 section 5.3.6 (v2 only). 2 (IP authentication header) is historic.
    public enum AuthType {
        public static let none: UInt8 = 0
        public static let simpleText: UInt8 = 1
    }

    public static let type: UInt8 = 1
    /// Priority that means "the master is leaving: take over after Skew_Time".
    public static let resignPriority: UInt8 = 0
    /// Priority of the router that owns the virtual addresses.
    public static let ownerPriority: UInt8 = 255

    public var version: VRRPVersion
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// Advertisement interval in centiseconds. v2 carries whole seconds, so it is a multiple of 100
    /// (at most 25500); v3 carries 12 bits (at most 4095).
    public var intervalCentiseconds: Int
    /// v2 only (0 in v3): `AuthType.none` or `.simpleText`.
    public var authType: UInt8
    /// v2 only (empty in v3): the 8 bytes after the addresses, the zero-padded password for simple text.
    public var authData: [UInt8]
    public var addresses: [IPAddress]
    /// As decoded; encoding computes it afresh.
    public var checksum: UInt16

    public init(version: VRRPVersion, virtualRouterID: UInt8, priority: UInt8, intervalCentiseconds: Int,
                addresses: [IPAddress], authType: UInt8 = AuthType.none, authData: [UInt8] = [], checksum: UInt16 = 0) {
        self.version = version
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.intervalCentiseconds = intervalCentiseconds
        self.addresses = addresses
        self.authType = version == .v2 ? authType : 0
        self.authData = version == .v2 ? VRRPAdvertisement.padded(authData) : []
        self.checksum = checksum
    }

    /// A v2 simple text password as it travels: its UTF-8 bytes, zero-padded (or cut) to 8 bytes.
    public static func passwordData(_ password: String) -> [UInt8] { padded(Array(password.utf8)) }

    static func padded(_ bytes: [UInt8]) -> [UInt8] {
        Array((bytes + [UInt8](repeating: 0, count: 8)).prefix(8))
    }

    /// The number of VRRP bytes for `count` addresses of `family`.
    public static func length(version: VRRPVersion, family: IPAddress.Family, count: Int) -> Int {
        8 + count * (family == .ipv4 ? 4 : 16) + (version == .v2 ? 8 : 0)
    }
}
