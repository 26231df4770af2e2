#if canImport(Glibc)
import Glibc
#endif
import LBConnSync
import LBNetlink
import LBSpec

/// Reads every destination of every service from /proc/net/ip_vs in one pass.
///
/// Generic netlink has no "all destinations" dump: each service needs its own, and the kernel ends a
/// dump only on a second read, so 10,000 services cost 30,000 system calls. The kernel's own listing
/// gives the same destinations in a handful of reads. It lacks thresholds and counters, so it serves
/// the diff (which manages neither) and `inspect --stats`-free observation. It prints persistence
/// timeouts in jiffies (HZ unknown here) and no scheduler flags, so persistent, sh and mh services are
/// read again through netlink, in one batch. The file follows the network namespace, like the socket.
public enum ProcIPVS {
    /// Every entry of the connection table (/proc/net/ip_vs_conn), or nil when the file is missing (no
    /// IPVS in this kernel or namespace) or does not parse.
    public static func connections(path: String = ConnectionListing.path) -> [IPVSConnection]? {
        readAll(path).flatMap { try? ConnectionListing.parse($0) }
    }

    /// Destinations by service, or nil when the file is missing or unreadable.
    public static func destinations(path: String = "/proc/net/ip_vs") -> [IPVSServiceKey: [IPVSDestination]]? {
        guard let bytes = readAll(path) else { return nil }
        return parse(bytes: bytes)
    }

    /// Parses the listing byte by byte: it can be megabytes, and Character-level splitting is slow.
    static func parse(_ text: String) -> [IPVSServiceKey: [IPVSDestination]]? {
        parseTable(bytes: Array(text.utf8)).map { Dictionary($0.map { ($0.service.key, $0.destinations) }, uniquingKeysWith: { a, _ in a }) }
    }

    public static func parse(bytes: [UInt8]) -> [IPVSServiceKey: [IPVSDestination]]? {
        parseTable(bytes: bytes).map { Dictionary($0.map { ($0.service.key, $0.destinations) }, uniquingKeysWith: { a, _ in a }) }
    }

    /// Whether the listing holds a firewall-mark service: its line ("FWM  00000001 wrr") gives no address
    /// family, so such a table is read through netlink instead.
    /// Every observation asks, over a listing that can be megabytes, so it is one pass without copies.
    public static func listsFirewallMarks(_ bytes: [UInt8]) -> Bool {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            start = newline + 1
            if bytes[start...].starts(with: "FWM ".utf8) { return true }
        }
        return false
    }

    /// Services and destinations in the listing's order. A service's scheduler flags are not in the
    /// listing: they come back as 0, and the caller asks netlink for the schedulers that use them.
    public static func parseTable(bytes: [UInt8]) -> [IPVSTable.Entry]? {
        // Slices of an unsafe buffer carry no reference count: megabytes of tokens without ARC traffic.
        bytes.withUnsafeBufferPointer { parseTable(buffer: $0) }
    }

    static func parseTable(buffer bytes: UnsafeBufferPointer<UInt8>) -> [IPVSTable.Entry]? {
        var out: [IPVSTable.Entry] = []
        var service: IPVSService?
        var destinations: [IPVSDestination] = []
        var skipping = false
        var lineStart = 0
        var tokens: [Range<Int>] = []
        tokens.reserveCapacity(8)
        func flush() {
            if let s = service { out.append(IPVSTable.Entry(service: s, destinations: destinations)) }
            service = nil
            destinations = []
        }
        func word(_ r: Range<Int>, _ w: StaticString) -> Bool {
            guard r.count == w.utf8CodeUnitCount else { return false }
            return w.withUTF8Buffer { lit in
                var k = 0
                while k < lit.count { if bytes[r.lowerBound + k] != lit[k] { return false }; k += 1 }
                return true
            }
        }
        while lineStart < bytes.count {
            var end = lineStart
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            tokens.removeAll(keepingCapacity: true)
            var i = lineStart
            while i < end {
                while i < end && bytes[i] == 0x20 { i += 1 }
                let s = i
                while i < end && bytes[i] != 0x20 { i += 1 }
                if s < i { tokens.append(s..<i) }
            }
            lineStart = end + 1
            guard tokens.count >= 2 else { continue }
            if word(tokens[0], "->") {
                // "  -> C0A80166:0050      Route   3      0          0"
                guard !skipping, let key = service?.key else { continue }
                guard tokens.count >= 4, let (address, port) = endpoint(bytes[tokens[1]], family: key.address.family),
                      let weight = int(bytes[tokens[3]]) else { return nil }
                var d = IPVSDestination(address: address, port: port, forwarding: forwarding(tokens[2], word),
                                        weight: Int32(truncatingIfNeeded: weight))
                if tokens.count >= 6 {
                    d.activeConnections = UInt32(truncatingIfNeeded: int(bytes[tokens[4]]) ?? 0)
                    d.inactiveConnections = UInt32(truncatingIfNeeded: int(bytes[tokens[5]]) ?? 0)
                }
                destinations.append(d)
            } else if word(tokens[0], "TCP") || word(tokens[0], "UDP") {
                // "TCP  C0A801C8:0050 wrr [ops] [persistent 3600 FFFFFF00]" or "TCP  [fd00:…:0080]:01BB wrr …"
                flush()
                skipping = false
                guard tokens.count >= 3 else { return nil }
                let token = bytes[tokens[1]]
                let family: IPAddress.Family = token.first == UInt8(ascii: "[") ? .ipv6 : .ipv4
                guard let (address, port) = endpoint(token, family: family) else { return nil }
                let key = IPVSServiceKey(address: address, port: port, protocol: word(tokens[0], "TCP") ? .tcp : .udp)
                var s = IPVSService(key: key, scheduler: String(decoding: bytes[tokens[2]], as: UTF8.self),
                                    netmask: family == .ipv4 ? .max : 128)
                var k = 3
                if k < tokens.count && word(tokens[k], "ops") { s.flags |= IPVSService.onePacketFlag; k += 1 }
                if k + 2 < tokens.count && word(tokens[k], "persistent") {
                    guard let timeout = int(bytes[tokens[k + 1]]), let mask = hex(bytes[tokens[k + 2]]) else { return nil }
                    s.flags |= IPVSService.persistentFlag
                    s.timeout = UInt32(truncatingIfNeeded: timeout)
                    s.netmask = UInt32(truncatingIfNeeded: mask)
                }
                service = s
            } else if !(word(tokens[0], "Prot") || word(tokens[0], "IP")) {
                // Services this listing cannot key (firewall marks: see listsFirewallMarks) or lb does not
                // manage (SCTP): their destinations are skipped.
                flush()
                skipping = true
            }
        }
        flush()
        return out
    }

    typealias Token = Slice<UnsafeBufferPointer<UInt8>>

    static func endpoint(_ token: Token, family: IPAddress.Family) -> (IPAddress, UInt16)? {
        guard let colon = token.lastIndex(of: UInt8(ascii: ":")), let port = hex(token[(colon + 1)...]), port <= 0xFFFF else { return nil }
        let host = token[..<colon]
        switch family {
        case .ipv4:
            guard host.count == 8, let v = hex(host) else { return nil }
            return (.v4(UInt32(v)), UInt16(port))
        case .ipv6:
            guard host.first == UInt8(ascii: "["), host.last == UInt8(ascii: "]"),
                  let a = IPAddress(String(decoding: host.dropFirst().dropLast(), as: UTF8.self)) else { return nil }
            return (a, UInt16(port))
        }
    }

    static func hex(_ s: Token) -> UInt64? {
        guard !s.isEmpty, s.count <= 16 else { return nil }
        var v: UInt64 = 0
        for c in s {
            switch c {
            case 0x30...0x39: v = v << 4 | UInt64(c - 0x30)
            case 0x41...0x46: v = v << 4 | UInt64(c - 0x41 + 10)
            case 0x61...0x66: v = v << 4 | UInt64(c - 0x61 + 10)
            default: return nil
            }
        }
        return v
    }

    static func int(_ s: Token) -> Int64? {
        var negative = false, v: Int64 = 0, any = false
        for (k, c) in s.enumerated() {
            if k == 0 && c == UInt8(ascii: "-") { negative = true; continue }
            guard c >= 0x30 && c <= 0x39 else { return nil }
            v = v &* 10 &+ Int64(c - 0x30)
            any = true
        }
        return any ? (negative ? -v : v) : nil
    }

    static func forwarding(_ name: Range<Int>, _ word: (Range<Int>, StaticString) -> Bool) -> Forwarding {
        if word(name, "Route") { return .dr }
        if word(name, "Tunnel") { return .tun }
        return .nat
    }

    public static func readAll(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 1 << 20)
        var used = 0
        while true {
            if used == bytes.count { bytes += [UInt8](repeating: 0, count: bytes.count) }
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + used, $0.count - used) }
            if n > 0 { used += n } else if n < 0 && errno == EINTR { continue } else if n < 0 { return nil } else { break }
        }
        bytes.removeLast(bytes.count - used)
        return bytes
    }
}
