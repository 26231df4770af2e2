import LBSpec

/// virtual_server_group: several VIP:port served by one virtual_server's real servers and checks.
///
/// lb has no group: each member becomes a service of its own with the same settings, which is the IPVS
/// state keepalived makes for a group (one service per address of a range). Export writes them back as
/// separate virtual_servers, which import the same.
extension KeepalivedReader {
    /// The most services one group entry may expand to; keepalived takes a /16 as readily as a /32, which
    /// as lb services would be a spec no one could read.
    static let groupEntryLimit = 256

    /// A group's members, in order; none for a group keepalived removes (no usable entry).
    mutating func virtualServerGroup(_ s: KeepalivedStatement) {
        guard let name = s.arguments.first else {
            sink.error(s.position, "virtual_server_group needs a name")
            return
        }
        extra(s, after: 1)
        if let first = vsGroups[name] {
            // keepalived keeps both and the virtual_server finds the first.
            sink.warning(s.position, "virtual_server_group \(name) is defined twice (first at \(first.position)); keepalived uses the first: imported as that")
            return
        }
        var members: [Endpoint] = []
        for entry in s.block ?? [] {
            let words = entry.words.map(\.text)
            if words[0] == "fwmark" {
                sink.error(entry.position, "virtual_server_group \(name): fwmark entries are not supported by lb; list each VIP:port")
                continue
            }
            guard words.count >= 2, let port = Self.parseUnsigned(words[1]), port != 0 else {
                sink.error(entry.position, "virtual_server_group \(name): '\(words[0])' has no port: lb services are VIP:port (keepalived allows that only for persistent services)")
                continue
            }
            guard port <= 65535 else {
                rejected(entry.position, "virtual_server_group \(name): port '\(words[1])' is not 1–65535", otherwise: "skips the entry")
                continue
            }
            if words.count > 2 { sink.warning(entry.position, "ignored: \(words.dropFirst(2).joined(separator: " ")) after the port") }
            guard let addresses = groupAddresses(words[0], group: name, at: entry.position) else { continue }
            for a in addresses {
                let e = Endpoint(address: a, port: port)
                if members.contains(e) {
                    sink.warning(entry.position, "virtual_server_group \(name): \(e) is listed twice; imported once")
                } else {
                    members.append(e)
                }
            }
        }
        if members.isEmpty {
            rejected(s.position, "virtual_server_group \(name) has no entries", otherwise: "removes the group, and ignores a virtual_server of it")
        }
        vsGroups[name] = Located(members, at: s.position)
    }

    /// The addresses of one entry: `IP`, `IP-LAST` (the last byte of an IPv4 address, or the last group
    /// of an IPv6 one, in hex), `IP-IP`, or `IP/PREFIX`; nil, reported, for what keepalived skips or lb
    /// cannot carry.
    mutating func groupAddresses(_ text: String, group: String, at position: SourcePosition) -> [IPAddress]? {
        let skip = "skips the entry"
        if text.contains("/") {
            guard let prefix = CIDR(text) else {
                rejected(position, "virtual_server_group \(group): invalid address or netmask '\(text)'", otherwise: skip)
                return nil
            }
            guard prefix.network == prefix.address, prefix.prefixLength > 0 else {
                rejected(position, "virtual_server_group \(group): '\(text)' has host bits set below the netmask", otherwise: skip)
                return nil
            }
            return range(from: prefix.address, count: prefix.address.bitWidth - prefix.prefixLength, group: group, text: text, at: position)
        }
        guard let dash = text.firstIndex(of: "-") else {
            guard let a = IPAddress(text) else {
                rejected(position, "virtual_server_group \(group): '\(text)' is not an IP address", otherwise: skip)
                return nil
            }
            return [a]
        }
        let startText = String(text[..<dash]), endText = String(text[text.index(after: dash)...])
        guard let start = IPAddress(startText) else {
            rejected(position, "virtual_server_group \(group): '\(startText)' is not an IP address", otherwise: skip)
            return nil
        }
        var end: IPAddress?
        if let full = IPAddress(endText) {
            guard full.family == start.family else {
                rejected(position, "virtual_server_group \(group): the range \(text) mixes IPv4 and IPv6", otherwise: skip)
                return nil
            }
            end = full
        } else if start.family == .ipv4, let last = UInt8(endText) {
            var b = start.bytes
            b[3] = last
            end = IPAddress(bytes: b)
        } else if start.family == .ipv6, endText.count <= 4, let last = UInt16(endText, radix: 16) {
            var b = start.bytes
            b[14] = UInt8(last >> 8)
            b[15] = UInt8(last & 0xff)
            end = IPAddress(bytes: b)
        }
        guard let end else {
            rejected(position, "virtual_server_group \(group): invalid range end '\(endText)'", otherwise: skip)
            return nil
        }
        guard start < end else {
            rejected(position, "virtual_server_group \(group): the range \(text) does not end above its start", otherwise: skip)
            return nil
        }
        var addresses: [IPAddress] = []
        var a = start
        while a <= end {
            addresses.append(a)
            guard addresses.count <= Self.groupEntryLimit else {
                tooMany(group, text, at: position)
                return nil
            }
            guard let next = Self.successor(of: a) else { break }
            a = next
        }
        return addresses
    }

    /// The 2^bits addresses from `start`, or nil (an error) past the limit.
    mutating func range(from start: IPAddress, count bits: Int, group: String, text: String, at position: SourcePosition) -> [IPAddress]? {
        guard bits <= 8, 1 << bits <= Self.groupEntryLimit else {
            tooMany(group, text, at: position)
            return nil
        }
        var addresses = [start]
        while addresses.count < 1 << bits, let next = Self.successor(of: addresses.last!) { addresses.append(next) }
        return addresses
    }

    mutating func tooMany(_ group: String, _ text: String, at position: SourcePosition) {
        sink.error(position, "virtual_server_group \(group): \(text) holds more than \(Self.groupEntryLimit) addresses; lb makes one service per address, so list at most \(Self.groupEntryLimit)")
    }

    /// The next address, nil past the last one.
    static func successor(of a: IPAddress) -> IPAddress? {
        switch a {
        case .v4(let v): return v == .max ? nil : .v4(v + 1)
        case .v6(let hi, let lo):
            if lo != .max { return .v6(hi, lo + 1) }
            return hi == .max ? nil : .v6(hi + 1, 0)
        }
    }

    /// `virtual_server group NAME`: its members, or nil (reported) when there is none to serve.
    mutating func groupMembers(_ v: KeepalivedStatement) -> [Endpoint]? {
        guard v.arguments.count >= 2 else {
            sink.error(v.position, "virtual_server group needs the name of a virtual_server_group")
            return nil
        }
        let name = v.arguments[1]
        extra(v, after: 2)
        guard let group = vsGroups[name] else {
            rejected(v.position, "virtual_server group \(name): no virtual_server_group \(name) in this file", otherwise: "ignores the virtual_server")
            return nil
        }
        return group.value.isEmpty ? nil : group.value
    }
}

extension ImportedService {
    /// The same service for another member of its group: real servers that forward by NAT keep the port
    /// they were written with, the others take the member's, as for any DR or TUN service.
    func member(_ e: Endpoint) -> ImportedService {
        var copy = self
        let written = service.port
        copy.address = e.address
        copy.service.port = e.port
        copy.service.realServers = service.realServers.map { rs in
            var r = rs
            let nat = (rs.forwarding ?? service.forwarding) == .nat
            let port = nat ? (rs.port ?? written) : e.port
            r.port = port == e.port ? nil : port
            return r
        }
        return copy
    }
}
