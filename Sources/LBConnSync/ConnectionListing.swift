import LBSpec

/// The kernel's IPVS connection table as /proc/net/ip_vs_conn lists it (LBHost's ProcIPVS reads it).
///
/// The kernel has no netlink command for connection entries (generic netlink IPVS manages services,
/// destinations and sync daemons only); this listing is the one interface, and ipvsadm -Lc reads it too.
/// It follows the reader's network namespace.
public enum ConnectionListing {
    public static let path = "/proc/net/ip_vs_conn"

    /// What a line of the listing lacks or has wrong, with its number.
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "\(ConnectionListing.path) line \(line): \(reason)" }
    }

    /// Parses the listing ("Pro FromIP FPrt ToIP TPrt DestIP DPrt State Expires PEName PEData").
    /// Addresses are 8 hex digits for IPv4 and the kernel's %pI6 for IPv6; ports are hex.
    public static func parse(_ bytes: [UInt8]) throws(Malformed) -> [IPVSConnection] {
        var out: [IPVSConnection] = []
        var lineNumber = 0
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count && bytes[end] != 0x0A { end += 1 }
            lineNumber += 1
            defer { start = end + 1 }
            let fields = split(bytes[start..<end])
            guard !fields.isEmpty, !(lineNumber == 1 && fields[0].elementsEqual("Pro".utf8)) else { continue }
            out.append(try entry(fields, line: lineNumber))
        }
        return out
    }

    static func entry(_ f: [ArraySlice<UInt8>], line: Int) throws(Malformed) -> IPVSConnection {
        guard f.count >= 9 else { throw Malformed(line: line, reason: "\(f.count) fields, 9 expected") }
        func text(_ i: Int) -> String { String(decoding: f[i], as: UTF8.self) }
        let proto: UInt8
        switch text(0) {
        case "TCP": proto = IPVSConnection.tcp
        case "UDP": proto = IPVSConnection.udp
        case "SCTP": proto = 132
        case "IP": proto = 0
        default: throw Malformed(line: line, reason: "unknown protocol \(text(0))")
        }
        guard let client = address(f[1]), let virtual = address(f[3]), let destination = address(f[5]) else {
            throw Malformed(line: line, reason: "bad address")
        }
        guard let cport = port(f[2]), let vport = port(f[4]), let dport = port(f[6]) else {
            throw Malformed(line: line, reason: "bad port")
        }
        guard let expires = UInt32(text(8)) else { throw Malformed(line: line, reason: "bad expiry \(text(8))") }
        let stateName = text(7)
        // A template has no client port and a template state; a connection always has a client port.
        let template = cport == 0 && IPVSConnection.templateStates.contains(stateName)
        let state: UInt16
        if template {
            state = UInt16(IPVSConnection.templateStates.firstIndex(of: stateName)!)
        } else if proto == IPVSConnection.tcp {
            guard let s = IPVSConnection.tcpStates.firstIndex(of: stateName) else {
                throw Malformed(line: line, reason: "unknown TCP state \(stateName)")
            }
            state = UInt16(s)
        } else {
            state = 0
        }
        return IPVSConnection(protocolNumber: proto, client: client, clientPort: cport, virtual: virtual, virtualPort: vport,
                              destination: destination, destinationPort: dport, state: state, isTemplate: template,
                              expiresSeconds: expires)
    }

    static func split(_ line: ArraySlice<UInt8>) -> [ArraySlice<UInt8>] {
        var out: [ArraySlice<UInt8>] = []
        var i = line.startIndex
        while i < line.endIndex {
            while i < line.endIndex && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
            let s = i
            while i < line.endIndex && line[i] != 0x20 && line[i] != 0x09 { i += 1 }
            if s < i { out.append(line[s..<i]) }
        }
        return out
    }

    static func hex(_ s: ArraySlice<UInt8>, maxDigits: Int) -> UInt32? {
        guard !s.isEmpty, s.count <= maxDigits else { return nil }
        var v: UInt32 = 0
        for c in s {
            switch c {
            case 0x30...0x39: v = v << 4 | UInt32(c - 0x30)
            case 0x41...0x46: v = v << 4 | UInt32(c - 0x41 + 10)
            case 0x61...0x66: v = v << 4 | UInt32(c - 0x61 + 10)
            default: return nil
            }
        }
        return v
    }

    static func port(_ s: ArraySlice<UInt8>) -> UInt16? { hex(s, maxDigits: 4).map { UInt16($0) } }

    static func address(_ s: ArraySlice<UInt8>) -> IPAddress? {
        if s.count == 8, let v = hex(s, maxDigits: 8) { return .v4(v) }
        guard s.contains(UInt8(ascii: ":")), let a = IPAddress(String(decoding: s, as: UTF8.self)), a.family == .ipv6 else { return nil }
        return a
    }
}
