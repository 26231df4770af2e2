#if canImport(Glibc)
import Glibc
#endif
import LBSpec

/// Links and addresses through one rtnetlink socket. Not thread-safe: give it one owner.
public final class RouteClient {
    let socket: NetlinkSocket

    public init() throws(NetlinkError) { socket = try NetlinkSocket(protocol: NL.route) }

    public func links() throws(NetlinkError) -> [Link] {
        var out: [Link] = []
        for m in try socket.execute(RouteMessages.dumpLinks()) where m.type == RT.newLink {
            out.append(try RouteMessages.parseLink(m))
        }
        return out
    }

    public func addresses() throws(NetlinkError) -> [InterfaceAddress] {
        var out: [InterfaceAddress] = []
        for m in try socket.execute(RouteMessages.dumpAddresses()) where m.type == RT.newAddr {
            out.append(try RouteMessages.parseAddress(m))
        }
        return out
    }

    /// Sends requests built by `RouteMessages`, many per system call; one result each.
    public func execute(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<[NetlinkMessage], NetlinkError>] {
        try socket.execute(requests)
    }
}

/// The IPVS table through generic netlink. Not thread-safe: give it one owner.
public final class IPVSClient {
    let socket: NetlinkSocket
    public let messages: IPVSMessages

    /// Resolves the IPVS family; `.familyNotFound("IPVS")` when the kernel has no IPVS loaded.
    public init() throws(NetlinkError) {
        socket = try NetlinkSocket(protocol: NL.generic)
        let reply: [NetlinkMessage]
        do {
            reply = try socket.execute(GenericNetlink.getFamily(IPVSABI.familyName))
        } catch let error where error.errno == ENOENT {
            throw .familyNotFound(IPVSABI.familyName)
        }
        guard let first = reply.first else { throw .familyNotFound(IPVSABI.familyName) }
        messages = IPVSMessages(family: try GenericNetlink.parseFamilyID(first))
    }

    public func version() throws(NetlinkError) -> String {
        guard let m = try socket.execute(messages.getInfo()).first else { throw .malformed("no reply to GET_INFO") }
        return try messages.parseVersion(m)
    }

    public func services(statistics: Bool = true) throws(NetlinkError) -> [IPVSService] {
        var out: [IPVSService] = []
        for m in try socket.execute(messages.dumpServices()) {
            out.append(try messages.parseService(m, statistics: statistics))
        }
        return out
    }

    public func destinations(of key: IPVSServiceKey) throws(NetlinkError) -> [IPVSDestination] {
        var out: [IPVSDestination] = []
        for m in try socket.execute(messages.dumpDestinations(of: key)) {
            out.append(try messages.parseDestination(m, family: key.address.family))
        }
        return out
    }

    /// Every service with its destinations, in the kernel's order. The per-service destination dumps
    /// go out together, so a table of thousands of services costs a few system calls, not thousands.
    public func table() throws(NetlinkError) -> [(service: IPVSService, destinations: [IPVSDestination])] {
        let services = try services()
        let replies = try socket.execute(services.map { messages.dumpDestinations(of: $0.key) })
        var out: [(IPVSService, [IPVSDestination])] = []
        out.reserveCapacity(services.count)
        for (s, reply) in zip(services, replies) {
            var dests: [IPVSDestination] = []
            for m in try reply.get() { dests.append(try messages.parseDestination(m, family: s.key.address.family)) }
            out.append((s, dests))
        }
        return out
    }

    public func timeouts() throws(NetlinkError) -> IPVSTimeoutConfig {
        guard let m = try socket.execute(messages.getTimeouts()).first else { throw .malformed("no reply to GET_CONFIG") }
        return try messages.parseTimeouts(m)
    }

    public func syncDaemons() throws(NetlinkError) -> [IPVSSyncDaemon] {
        var out: [IPVSSyncDaemon] = []
        for m in try socket.execute(messages.dumpDaemons()) {
            if let d = try messages.parseDaemon(m) { out.append(d) }
        }
        return out
    }

    /// Sends requests built by `messages`, many per system call; one result each.
    public func execute(_ requests: [NetlinkRequest]) throws(NetlinkError) -> [Result<[NetlinkMessage], NetlinkError>] {
        try socket.execute(requests)
    }
}

