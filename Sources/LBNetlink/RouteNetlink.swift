import LBSpec

/// A network interface as rtnetlink reports it.
public struct Link: Sendable, Equatable, Codable {
    public var index: Int32
    public var name: String
    /// Administratively up (IFF_UP).
    public var isUp: Bool
    /// Carrier present (IFF_LOWER_UP).
    public var hasCarrier: Bool
    public var isLoopback: Bool
    public var mtu: UInt32?
}

/// An address on an interface, with its label (`lo:0`) when it has one.
public struct InterfaceAddress: Sendable, Equatable, Hashable, Codable {
    public var interfaceIndex: Int32
    public var address: CIDR
    /// IPv4 only; defaults to the interface name.
    public var label: String?
    /// RT_SCOPE_*: 0 universe, 253 link, 254 host.
    public var scope: UInt8

    public init(interfaceIndex: Int32, address: CIDR, label: String? = nil, scope: UInt8 = 0) {
        self.interfaceIndex = interfaceIndex
        self.address = address
        self.label = label
        self.scope = scope
    }
}

/// rtnetlink requests and reply parsing for links and addresses. Pure: no socket here.
public enum RouteMessages {
    public static func dumpLinks() -> NetlinkRequest {
        NetlinkRequest(type: RT.getLink, flags: NL.fDump, payload: [UInt8](repeating: 0, count: RT.ifInfoSize), description: "list interfaces")
    }

    public static func dumpAddresses() -> NetlinkRequest {
        NetlinkRequest(type: RT.getAddr, flags: NL.fDump, payload: [UInt8](repeating: 0, count: RT.ifAddrSize), description: "list addresses")
    }

    /// Adds an address; `replace` makes it idempotent (NLM_F_REPLACE), otherwise an existing one is EEXIST.
    public static func addAddress(_ a: InterfaceAddress, interfaceName: String, replace: Bool = false) -> NetlinkRequest {
        let flags = NL.fCreate | (replace ? NL.fReplace : NL.fExcl)
        return NetlinkRequest(type: RT.newAddr, flags: flags, payload: addressPayload(a),
                              description: "add address \(a.address) to \(interfaceName)\(a.label.map { " label \($0)" } ?? "")")
    }

    public static func deleteAddress(_ a: InterfaceAddress, interfaceName: String) -> NetlinkRequest {
        NetlinkRequest(type: RT.delAddr, flags: 0, payload: addressPayload(a), description: "delete address \(a.address) from \(interfaceName)")
    }

    static func addressPayload(_ a: InterfaceAddress) -> [UInt8] {
        let family = a.address.address.family == .ipv4 ? RT.afInet : RT.afInet6
        // IPv6 addresses lb adds are VIPs, held by one director at a time by design: duplicate address
        // detection would hold a new master's VIP back (tentative) and fail it while the old one lets go.
        let flags: UInt8 = family == RT.afInet6 ? RT.ifaFlagNoDAD : 0
        var header: [UInt8] = [family, UInt8(a.address.prefixLength), flags, a.scope]
        header.appendHost(UInt32(bitPattern: a.interfaceIndex))
        var w = AttributeWriter(prefix: header)
        w.put(RT.ifaLocal, a.address.address.bytes)
        w.put(RT.ifaAddress, a.address.address.bytes)
        if let label = a.label, family == RT.afInet { w.put(RT.ifaLabel, string: label) }
        return w.bytes
    }

    /// A link from RTM_NEWLINK (dump reply or event).
    public static func parseLink(_ m: NetlinkMessage) throws(NetlinkError) -> Link {
        let p = m.payload
        guard p.count >= RT.ifInfoSize else { throw .malformed("link message of \(p.count) bytes") }
        let index = Int32(bitPattern: p.readHost(UInt32.self, at: 4))
        let flags = p.readHost(UInt32.self, at: 8)
        let attributes = try NetlinkAttribute.parseAll(p[RT.ifInfoSize...])
        guard let name = attributes.first(RT.iflaIfName)?.string() else { throw .malformed("link \(index) has no name") }
        return Link(index: index, name: name, isUp: flags & RT.iffUp != 0, hasCarrier: flags & RT.iffLowerUp != 0,
                    isLoopback: flags & RT.iffLoopback != 0, mtu: try attributes.first(RT.iflaMTU)?.u32())
    }

    /// An address from RTM_NEWADDR / RTM_DELADDR.
    public static func parseAddress(_ m: NetlinkMessage) throws(NetlinkError) -> InterfaceAddress {
        let p = m.payload
        guard p.count >= RT.ifAddrSize else { throw .malformed("address message of \(p.count) bytes") }
        let family = p[0], prefix = Int(p[1]), scope = p[3]
        let index = Int32(bitPattern: p.readHost(UInt32.self, at: 4))
        let attributes = try NetlinkAttribute.parseAll(p[RT.ifAddrSize...])
        // IFA_LOCAL is the address itself; IFA_ADDRESS is the peer on point-to-point links.
        guard let raw = attributes.first(RT.ifaLocal) ?? attributes.first(RT.ifaAddress),
              let ip = IPAddress(bytes: Array(raw.value)),
              (family == RT.afInet && ip.family == .ipv4) || (family == RT.afInet6 && ip.family == .ipv6),
              prefix <= ip.bitWidth
        else { throw .malformed("address message for interface \(index) has no usable address") }
        return InterfaceAddress(interfaceIndex: index, address: CIDR(address: ip, prefixLength: prefix),
                                label: attributes.first(RT.ifaLabel)?.string(), scope: scope)
    }
}

/// An rtnetlink event: a link or address appeared, changed or went away.
public enum RouteEvent: Sendable, Equatable {
    case linkChanged(Link)
    case linkRemoved(Link)
    case addressAdded(InterfaceAddress)
    case addressRemoved(InterfaceAddress)

    /// Decodes a multicast message; other message types are nil.
    public static func decode(_ m: NetlinkMessage) throws(NetlinkError) -> RouteEvent? {
        switch m.type {
        case RT.newLink: return .linkChanged(try RouteMessages.parseLink(m))
        case RT.delLink: return .linkRemoved(try RouteMessages.parseLink(m))
        case RT.newAddr: return .addressAdded(try RouteMessages.parseAddress(m))
        case RT.delAddr: return .addressRemoved(try RouteMessages.parseAddress(m))
        default: return nil
        }
    }
}
