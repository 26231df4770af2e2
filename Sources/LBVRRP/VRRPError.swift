/// Why a VRRP packet or configuration was refused. The one error type of LBVRRP: decoders throw it for
/// malformed input (a bad packet costs a counter increment, never a crash), and configuration
/// validation throws it with every problem at once.
public struct VRRPError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Kind: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Fewer bytes than the header or the address count asks for.
        public static let truncated = Kind(rawValue: "truncated")
        /// More bytes than the header and the address count account for.
        public static let trailingBytes = Kind(rawValue: "trailing-bytes")
        /// An IPv4 header that is not one (version, header length, total length, fragment, checksum).
        public static let badIPHeader = Kind(rawValue: "bad-ip-header")
        /// An IP packet that does not carry VRRP (protocol 112).
        public static let notVRRP = Kind(rawValue: "not-vrrp")
        /// VRRP version other than 2 or 3, or version 2 over IPv6.
        public static let badVersion = Kind(rawValue: "bad-version")
        /// Type other than 1 (ADVERTISEMENT), the only type either RFC defines.
        public static let badType = Kind(rawValue: "bad-type")
        /// The VRRP checksum does not verify.
        public static let badChecksum = Kind(rawValue: "bad-checksum")
        /// A field holds a value the protocol forbids (a zero advertisement interval, a zero VRID).
        public static let badField = Kind(rawValue: "bad-field")
        /// A configuration that cannot run.
        public static let invalidConfiguration = Kind(rawValue: "invalid-configuration")
        /// A configuration a running instance cannot take in place (another VRID, interface, version,
        /// source address, address ownership or multicast/unicast mode): stop it and start a new one.
        public static let restartRequired = Kind(rawValue: "restart-required")
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
