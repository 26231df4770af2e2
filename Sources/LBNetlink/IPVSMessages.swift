import LBSpec

/// Builds IPVS generic-netlink requests and parses replies. Pure: the family id comes in, bytes go out.
public struct IPVSMessages: Sendable {
    public let family: UInt16

    public init(family: UInt16) { self.family = family }

    // MARK: requests

    public func newService(_ s: IPVSService) -> NetlinkRequest {
        request(IPVSABI.cmdNewService, "add service \(s.key)") { $0.nest(IPVSABI.attrService) { Self.putService(s, full: true, into: &$0) } }
    }

    public func editService(_ s: IPVSService) -> NetlinkRequest {
        request(IPVSABI.cmdSetService, "edit service \(s.key)") { $0.nest(IPVSABI.attrService) { Self.putService(s, full: true, into: &$0) } }
    }

    public func deleteService(_ key: IPVSServiceKey) -> NetlinkRequest {
        request(IPVSABI.cmdDelService, "delete service \(key)") { $0.nest(IPVSABI.attrService) { Self.putKey(key, into: &$0) } }
    }

    /// One service by key (not a dump): how a single service's flags are read.
    public func getService(_ key: IPVSServiceKey) -> NetlinkRequest {
        request(IPVSABI.cmdGetService, "get service \(key)") { $0.nest(IPVSABI.attrService) { Self.putKey(key, into: &$0) } }
    }

    public func dumpServices() -> NetlinkRequest {
        request(IPVSABI.cmdGetService, "list IPVS services", dump: true) { _ in }
    }

    public func newDestination(_ d: IPVSDestination, of key: IPVSServiceKey) -> NetlinkRequest {
        destinationRequest(IPVSABI.cmdNewDest, "add destination \(d.endpoint) to \(key)", d, key, full: true)
    }

    public func editDestination(_ d: IPVSDestination, of key: IPVSServiceKey) -> NetlinkRequest {
        destinationRequest(IPVSABI.cmdSetDest, "edit destination \(d.endpoint) of \(key)", d, key, full: true)
    }

    public func deleteDestination(_ d: IPVSDestination, of key: IPVSServiceKey) -> NetlinkRequest {
        destinationRequest(IPVSABI.cmdDelDest, "delete destination \(d.endpoint) from \(key)", d, key, full: false)
    }

    public func dumpDestinations(of key: IPVSServiceKey) -> NetlinkRequest {
        request(IPVSABI.cmdGetDest, "list destinations of \(key)", dump: true) { $0.nest(IPVSABI.attrService) { Self.putKey(key, into: &$0) } }
    }

    public func setTimeouts(_ t: IPVSTimeoutConfig) -> NetlinkRequest {
        request(IPVSABI.cmdSetConfig, "set IPVS timeouts tcp \(t.tcp) tcpfin \(t.tcpFin) udp \(t.udp)") { w in
            w.put(IPVSABI.attrTimeoutTCP, host: t.tcp)
            w.put(IPVSABI.attrTimeoutTCPFin, host: t.tcpFin)
            w.put(IPVSABI.attrTimeoutUDP, host: t.udp)
        }
    }

    public func getTimeouts() -> NetlinkRequest {
        request(IPVSABI.cmdGetConfig, "get IPVS timeouts") { _ in }
    }

    public func startDaemon(_ d: IPVSSyncDaemon) -> NetlinkRequest {
        request(IPVSABI.cmdNewDaemon, "start sync daemon \(d.state.rawValue) on \(d.interface) id \(d.syncID)") { w in
            w.nest(IPVSABI.attrDaemon) {
                $0.put(IPVSABI.daemonState, host: Self.state(d.state))
                $0.put(IPVSABI.daemonMcastIfn, string: d.interface)
                $0.put(IPVSABI.daemonSyncID, host: d.syncID)
            }
        }
    }

    public func stopDaemon(_ state: IPVSSyncDaemon.State) -> NetlinkRequest {
        request(IPVSABI.cmdDelDaemon, "stop sync daemon \(state.rawValue)") { w in
            w.nest(IPVSABI.attrDaemon) { $0.put(IPVSABI.daemonState, host: Self.state(state)) }
        }
    }

    public func dumpDaemons() -> NetlinkRequest {
        request(IPVSABI.cmdGetDaemon, "list sync daemons", dump: true) { _ in }
    }

    public func getInfo() -> NetlinkRequest {
        request(IPVSABI.cmdGetInfo, "get IPVS version") { _ in }
    }

    public func flush() -> NetlinkRequest {
        request(IPVSABI.cmdFlush, "flush IPVS table") { _ in }
    }

    private func request(_ cmd: UInt8, _ description: String, dump: Bool = false, _ body: (inout AttributeWriter) -> Void) -> NetlinkRequest {
        var w = AttributeWriter(prefix: [cmd, IPVSABI.version, 0, 0])
        body(&w)
        return NetlinkRequest(type: family, flags: dump ? NL.fDump : 0, payload: w.bytes, description: description)
    }

    private func destinationRequest(_ cmd: UInt8, _ description: String, _ d: IPVSDestination, _ key: IPVSServiceKey, full: Bool) -> NetlinkRequest {
        request(cmd, description) { w in
            w.nest(IPVSABI.attrService) { Self.putKey(key, into: &$0) }
            w.nest(IPVSABI.attrDest) { a in
                a.put(IPVSABI.destAddr, Self.addressBytes(d.address))
                a.put(IPVSABI.destPort, Self.be16(d.port))
                a.put(IPVSABI.destAddrFamily, host: Self.af(d.address))
                if full {
                    a.put(IPVSABI.destFwdMethod, host: Self.forwardingBits(d.forwarding))
                    a.put(IPVSABI.destWeight, host: UInt32(bitPattern: d.weight))
                    a.put(IPVSABI.destUThresh, host: d.upperThreshold)
                    a.put(IPVSABI.destLThresh, host: d.lowerThreshold)
                }
            }
        }
    }

    static func putKey(_ key: IPVSServiceKey, into w: inout AttributeWriter) {
        w.put(IPVSABI.svcAF, host: af(key.address))
        // The kernel keys a firewall-mark service by family and mark alone (ip_vs_genl_parse_service).
        if let mark = key.fwmark { return w.put(IPVSABI.svcFWMark, host: mark) }
        w.put(IPVSABI.svcProtocol, host: protocolNumber(key.protocol))
        w.put(IPVSABI.svcAddr, addressBytes(key.address))
        w.put(IPVSABI.svcPort, be16(key.port))
    }

    static func putService(_ s: IPVSService, full: Bool, into w: inout AttributeWriter) {
        putKey(s.key, into: &w)
        w.put(IPVSABI.svcSchedName, string: s.scheduler)
        var flags: [UInt8] = []
        flags.appendHost(s.flags)
        flags.appendHost(UInt32.max) // mask: every bit is set explicitly
        w.put(IPVSABI.svcFlags, flags)
        w.put(IPVSABI.svcTimeout, host: s.timeout)
        // IPv4 masks travel in network order; an IPv6 prefix length as a plain host-order number.
        w.put(IPVSABI.svcNetmask, host: s.key.address.family == .ipv4 ? s.netmask.bigEndian : s.netmask)
    }

    // MARK: replies

    public func parseService(_ m: NetlinkMessage, statistics: Bool = true) throws(NetlinkError) -> IPVSService {
        guard let nested = try Self.attributes(m).first(IPVSABI.attrService) else { throw .malformed("service reply without a service") }
        let a = try nested.nested()
        let key = try Self.parseKey(a)
        guard let sched = a.first(IPVSABI.svcSchedName)?.string() else { throw .malformed("service \(key) without a scheduler") }
        let flags = try a.first(IPVSABI.svcFlags).map { attr throws(NetlinkError) -> UInt32 in try attr.u32() } ?? 0
        let netmask: UInt32
        if let raw = a.first(IPVSABI.svcNetmask) {
            netmask = key.address.family == .ipv4 ? try raw.be32() : try raw.u32()
        } else { netmask = key.address.family == .ipv4 ? .max : 128 }
        return IPVSService(key: key, scheduler: sched, flags: flags, timeout: try a.first(IPVSABI.svcTimeout)?.u32() ?? 0,
                           netmask: netmask, stats: statistics ? try Self.parseStats(a.first(IPVSABI.svcStats64) ?? a.first(IPVSABI.svcStats), wide: a.first(IPVSABI.svcStats64) != nil) : nil)
    }

    public func parseDestination(_ m: NetlinkMessage, family: IPAddress.Family) throws(NetlinkError) -> IPVSDestination {
        guard let nested = try Self.attributes(m).first(IPVSABI.attrDest) else { throw .malformed("destination reply without a destination") }
        let a = try nested.nested()
        var fam = family
        if let af = try a.first(IPVSABI.destAddrFamily)?.u16() { fam = af == UInt16(RT.afInet6) ? .ipv6 : .ipv4 }
        guard let raw = a.first(IPVSABI.destAddr), let address = Self.address(raw.value, family: fam) else {
            throw .malformed("destination without a usable address")
        }
        guard let port = try a.first(IPVSABI.destPort)?.be16() else { throw .malformed("destination \(address) without a port") }
        let fwd = (try a.first(IPVSABI.destFwdMethod)?.u32() ?? 0) & IPVSABI.connFFwdMask
        var d = IPVSDestination(address: address, port: port, forwarding: Self.forwarding(fwd),
                                weight: Int32(bitPattern: try a.first(IPVSABI.destWeight)?.u32() ?? 0),
                                upperThreshold: try a.first(IPVSABI.destUThresh)?.u32() ?? 0,
                                lowerThreshold: try a.first(IPVSABI.destLThresh)?.u32() ?? 0)
        d.activeConnections = try a.first(IPVSABI.destActiveConns)?.u32() ?? 0
        d.inactiveConnections = try a.first(IPVSABI.destInactConns)?.u32() ?? 0
        d.persistentConnections = try a.first(IPVSABI.destPersistConns)?.u32() ?? 0
        d.stats = try Self.parseStats(a.first(IPVSABI.destStats64) ?? a.first(IPVSABI.destStats), wide: a.first(IPVSABI.destStats64) != nil)
        return d
    }

    public func parseTimeouts(_ m: NetlinkMessage) throws(NetlinkError) -> IPVSTimeoutConfig {
        let a = try Self.attributes(m)
        return IPVSTimeoutConfig(tcp: try a.first(IPVSABI.attrTimeoutTCP)?.u32() ?? 0,
                                 tcpFin: try a.first(IPVSABI.attrTimeoutTCPFin)?.u32() ?? 0,
                                 udp: try a.first(IPVSABI.attrTimeoutUDP)?.u32() ?? 0)
    }

    public func parseDaemon(_ m: NetlinkMessage) throws(NetlinkError) -> IPVSSyncDaemon? {
        guard let nested = try Self.attributes(m).first(IPVSABI.attrDaemon) else { return nil }
        let a = try nested.nested()
        guard let state = try a.first(IPVSABI.daemonState)?.u32(), state == IPVSABI.stateMaster || state == IPVSABI.stateBackup else { return nil }
        return IPVSSyncDaemon(state: state == IPVSABI.stateMaster ? .master : .backup,
                              interface: a.first(IPVSABI.daemonMcastIfn)?.string() ?? "",
                              syncID: try a.first(IPVSABI.daemonSyncID)?.u32() ?? 0)
    }

    /// The IPVS version as "1.2.1".
    public func parseVersion(_ m: NetlinkMessage) throws(NetlinkError) -> String {
        guard let v = try Self.attributes(m).first(IPVSABI.infoVersion)?.u32() else { throw .malformed("info reply without a version") }
        return "\(v >> 16).\((v >> 8) & 0xFF).\(v & 0xFF)"
    }

    static func attributes(_ m: NetlinkMessage) throws(NetlinkError) -> [NetlinkAttribute] {
        guard m.payload.count >= GENL.headerSize else { throw .malformed("generic netlink message of \(m.payload.count) bytes") }
        return try NetlinkAttribute.parseAll(m.payload[GENL.headerSize...])
    }

    static func parseKey(_ a: [NetlinkAttribute]) throws(NetlinkError) -> IPVSServiceKey {
        guard let af = try a.first(IPVSABI.svcAF)?.u16() else { throw .malformed("service without an address family") }
        let family: IPAddress.Family = af == UInt16(RT.afInet6) ? .ipv6 : .ipv4
        if let mark = try a.first(IPVSABI.svcFWMark)?.u32() { return IPVSServiceKey(fwmark: mark, family: family) }
        guard let raw = a.first(IPVSABI.svcAddr), let address = address(raw.value, family: family),
              let port = try a.first(IPVSABI.svcPort)?.be16(), let proto = try a.first(IPVSABI.svcProtocol)?.u16()
        else { throw .malformed("service without address, port or protocol") }
        guard let p = serviceProtocol(proto) else { throw .malformed("service \(address):\(port) uses protocol \(proto), which lb does not manage") }
        return IPVSServiceKey(address: address, port: port, protocol: p)
    }

    static func parseStats(_ attr: NetlinkAttribute?, wide: Bool) throws(NetlinkError) -> IPVSStats? {
        guard let attr else { return nil }
        var s = IPVSStats()
        for a in try attr.nested() {
            let v: UInt64 = wide ? (a.value.count >= 8 ? try a.u64() : UInt64(try a.u32())) : UInt64(try a.u32())
            switch a.type {
            case IPVSABI.statsConns: s.connections = v
            case IPVSABI.statsInPkts: s.inPackets = v
            case IPVSABI.statsOutPkts: s.outPackets = v
            case IPVSABI.statsInBytes: s.inBytes = v
            case IPVSABI.statsOutBytes: s.outBytes = v
            case IPVSABI.statsCPS: s.connectionsPerSecond = v
            case IPVSABI.statsInPPS: s.inPacketsPerSecond = v
            case IPVSABI.statsOutPPS: s.outPacketsPerSecond = v
            case IPVSABI.statsInBPS: s.inBytesPerSecond = v
            case IPVSABI.statsOutBPS: s.outBytesPerSecond = v
            default: break
            }
        }
        return s
    }

    // MARK: value mapping

    static func addressBytes(_ a: IPAddress) -> [UInt8] {
        // union nf_inet_addr: 16 bytes whatever the family, as ipvsadm sends it.
        let b = a.bytes
        return b + [UInt8](repeating: 0, count: 16 - b.count)
    }

    static func address(_ raw: ArraySlice<UInt8>, family: IPAddress.Family) -> IPAddress? {
        let n = family == .ipv4 ? 4 : 16
        guard raw.count >= n else { return nil }
        return IPAddress(bytes: Array(raw.prefix(n)))
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func af(_ a: IPAddress) -> UInt16 { UInt16(a.family == .ipv4 ? RT.afInet : RT.afInet6) }

    static func protocolNumber(_ p: ServiceProtocol) -> UInt16 { p == .tcp ? IPVSABI.protoTCP : IPVSABI.protoUDP }
    static func serviceProtocol(_ n: UInt16) -> ServiceProtocol? {
        n == IPVSABI.protoTCP ? .tcp : (n == IPVSABI.protoUDP ? .udp : nil)
    }

    static func forwardingBits(_ f: Forwarding) -> UInt32 {
        switch f {
        case .dr: return IPVSABI.connFDroute
        case .nat: return IPVSABI.connFMasq
        case .tun: return IPVSABI.connFTunnel
        }
    }

    static func forwarding(_ bits: UInt32) -> Forwarding {
        switch bits {
        case IPVSABI.connFDroute: return .dr
        case IPVSABI.connFTunnel: return .tun
        default: return .nat
        }
    }

    static func state(_ s: IPVSSyncDaemon.State) -> UInt32 { s == .master ? IPVSABI.stateMaster : IPVSABI.stateBackup }
}

/// Resolves generic netlink family names to ids.
public enum GenericNetlink {
    public static func getFamily(_ name: String) -> NetlinkRequest {
        var w = AttributeWriter(prefix: [GENL.ctrlCmdGetFamily, 1, 0, 0])
        w.put(GENL.ctrlAttrFamilyName, string: name)
        return NetlinkRequest(type: GENL.idCtrl, flags: 0, payload: w.bytes, description: "resolve generic netlink family \(name)")
    }

    public static func parseFamilyID(_ m: NetlinkMessage) throws(NetlinkError) -> UInt16 {
        guard m.payload.count >= GENL.headerSize,
              let id = try NetlinkAttribute.parseAll(m.payload[GENL.headerSize...]).first(GENL.ctrlAttrFamilyID)?.u16()
        else { throw .malformed("family reply without an id") }
        return id
    }
}
