import LBSpec

/// One entry of the kernel's IPVS connection table: a connection, or a persistence template (the
/// client-to-real-server binding persistence keeps), as /proc/net/ip_vs_conn lists it and the sync
/// daemon carries it.
public struct IPVSConnection: Hashable, Sendable, CustomStringConvertible {
    /// IP protocol number: 6 TCP, 17 UDP, 132 SCTP; 0 for the templates of fwmark services.
    public var protocolNumber: UInt8
    public var client: IPAddress
    public var clientPort: UInt16
    public var virtual: IPAddress
    public var virtualPort: UInt16
    public var destination: IPAddress
    public var destinationPort: UInt16
    /// The kernel's state number: IP_VS_TCP_S_* for TCP, 0 for UDP, IP_VS_CTPL_S_* for templates.
    public var state: UInt16
    public var isTemplate: Bool
    /// Seconds until the entry expires (the listing's Expires; what a sync message carries as timeout).
    public var expiresSeconds: UInt32

    public init(protocolNumber: UInt8, client: IPAddress, clientPort: UInt16, virtual: IPAddress, virtualPort: UInt16,
                destination: IPAddress, destinationPort: UInt16, state: UInt16, isTemplate: Bool, expiresSeconds: UInt32) {
        self.protocolNumber = protocolNumber
        self.client = client
        self.clientPort = clientPort
        self.virtual = virtual
        self.virtualPort = virtualPort
        self.destination = destination
        self.destinationPort = destinationPort
        self.state = state
        self.isTemplate = isTemplate
        self.expiresSeconds = expiresSeconds
    }

    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17

    /// IP_VS_TCP_S_* in the kernel's order (include/net/ip_vs.h); the listing prints these names.
    public static let tcpStates = ["NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE",
                                   "CLOSE_WAIT", "LAST_ACK", "LISTEN", "SYNACK"]
    public static let tcpEstablished: UInt16 = 1
    /// IP_VS_CTPL_S_*: a template is NONE until a connection it made was established, then ASSURED.
    public static let templateStates = ["NONE", "ASSURED"]

    /// An established TCP connection (the kind that must survive a change of director).
    public var isEstablished: Bool { !isTemplate && protocolNumber == Self.tcp && state == Self.tcpEstablished }

    /// The virtual service it belongs to, as (protocol, address, port); templates of fwmark services have none.
    public var service: (protocolNumber: UInt8, address: IPAddress, port: UInt16) { (protocolNumber, virtual, virtualPort) }

    static func endpoint(_ a: IPAddress, _ p: UInt16) -> String {
        a.family == .ipv6 ? "[\(a)]:\(p)" : "\(a):\(p)"
    }

    public var stateName: String {
        let names = isTemplate ? Self.templateStates : protocolNumber == Self.tcp ? Self.tcpStates : ["UDP"]
        return Int(state) < names.count ? names[Int(state)] : "\(state)"
    }

    public var description: String {
        let proto = protocolNumber == Self.tcp ? "TCP" : protocolNumber == Self.udp ? "UDP" : "IP\(protocolNumber)"
        return "\(isTemplate ? "template " : "")\(proto) \(Self.endpoint(client, clientPort)) -> \(Self.endpoint(virtual, virtualPort))"
            + " -> \(Self.endpoint(destination, destinationPort)) \(stateName) \(expiresSeconds)s"
    }
}
