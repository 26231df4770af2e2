/// One packet-marking rule a director holds: packets to `address`:`port`/`protocol` get firewall mark
/// `mark`, which an IPVS fwmark service then matches. lb keeps these in its own nftables table.
public struct PacketMark: Codable, Sendable, Hashable, Comparable, CustomStringConvertible {
    public var address: IPAddress
    public var `protocol`: ServiceProtocol
    public var port: UInt16
    public var mark: UInt32

    public init(address: IPAddress, protocol: ServiceProtocol, port: UInt16, mark: UInt32) {
        self.address = address
        self.protocol = `protocol`
        self.port = port
        self.mark = mark
    }

    public var description: String { "\(Endpoint(address: address, port: Int(port)))/\(`protocol`.rawValue) → mark \(mark)" }

    public static func < (a: Self, b: Self) -> Bool {
        (a.address, a.port, a.protocol.rawValue, a.mark) < (b.address, b.port, b.protocol.rawValue, b.mark)
    }
}
