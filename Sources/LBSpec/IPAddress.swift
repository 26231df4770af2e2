#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// An IPv4 or IPv6 address, parsed strictly (no leading zeros in IPv4 octets, no zone ids).
public enum IPAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    case v4(UInt32)
    case v6(UInt64, UInt64)

    public enum Family: String, Sendable, Codable { case ipv4, ipv6 }

    public var family: Family {
        if case .v4 = self { return .ipv4 }
        return .ipv6
    }

    /// Address width in bits (32 or 128).
    public var bitWidth: Int { family == .ipv4 ? 32 : 128 }

    public init?(_ text: String) {
        if let v4 = IPAddress.parseV4(Substring(text)) {
            self = .v4(v4)
        } else if let v6 = IPAddress.parseV6(text) {
            self = v6
        } else {
            return nil
        }
    }

    /// The address as network-order bytes (4 or 16).
    public var bytes: [UInt8] {
        switch self {
        case .v4(let v): return (0..<4).map { UInt8(truncatingIfNeeded: v >> (24 - 8 * $0)) }
        case .v6(let hi, let lo):
            return (0..<8).map { UInt8(truncatingIfNeeded: hi >> (56 - 8 * $0)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: lo >> (56 - 8 * $0)) }
        }
    }

    public init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            self = .v6(bytes[0..<8].reduce(0) { $0 << 8 | UInt64($1) },
                       bytes[8..<16].reduce(0) { $0 << 8 | UInt64($1) })
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .v4: return bytes.map(String.init).joined(separator: ".")
        case .v6: return IPAddress.formatV6(bytes)
        }
    }

    public var isMulticast: Bool {
        switch self {
        case .v4(let v): return v >> 28 == 0xE
        case .v6(let hi, _): return hi >> 56 == 0xFF
        }
    }

    /// fe80::/10: an IPv6 link-local address (IPv4's 169.254/16 is not one lb uses).
    public var isLinkLocal: Bool {
        if case .v6(let hi, _) = self { return hi >> 54 == 0x3FA }
        return false
    }

    public var isUnspecified: Bool {
        switch self {
        case .v4(let v): return v == 0
        case .v6(let hi, let lo): return hi == 0 && lo == 0
        }
    }

    public var isLoopback: Bool {
        switch self {
        case .v4(let v): return v >> 24 == 127
        case .v6(let hi, let lo): return hi == 0 && lo == 1
        }
    }

    /// True for the limited broadcast 255.255.255.255.
    public var isBroadcast: Bool { self == .v4(.max) }

    /// The address with host bits beyond `prefixLength` cleared.
    public func masked(_ prefixLength: Int) -> IPAddress {
        switch self {
        case .v4(let v):
            let mask: UInt32 = prefixLength <= 0 ? 0 : (prefixLength >= 32 ? .max : ~(UInt32.max >> prefixLength))
            return .v4(v & mask)
        case .v6(let hi, let lo):
            let hiMask: UInt64 = prefixLength <= 0 ? 0 : (prefixLength >= 64 ? .max : ~(UInt64.max >> prefixLength))
            let loBits = prefixLength - 64
            let loMask: UInt64 = loBits <= 0 ? 0 : (loBits >= 64 ? .max : ~(UInt64.max >> loBits))
            return .v6(hi & hiMask, lo & loMask)
        }
    }

    /// For a netmask such as 255.255.255.0: its prefix length, or nil when the ones are not contiguous.
    public var contiguousPrefixLength: Int? {
        guard case .v4(let v) = self else { return nil }
        let ones = (~v).leadingZeroBitCount
        return IPAddress.netmask(prefixLength: ones) == self ? ones : nil
    }

    /// The IPv4 netmask for a prefix length (24 → 255.255.255.0).
    public static func netmask(prefixLength: Int) -> IPAddress {
        IPAddress.v4(.max).masked(prefixLength)
    }

    public static func < (a: IPAddress, b: IPAddress) -> Bool { a.bytes.lexicographicallyPrecedes(b.bytes) }

    private static func parseV4(_ text: Substring) -> UInt32? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.allSatisfy({ $0.isASCII && $0.isNumber }),
                  part.count == 1 || part.first != "0", let octet = UInt32(part), octet <= 255
            else { return nil }
            value = value << 8 | octet
        }
        return value
    }

    private static func parseV6(_ text: String) -> IPAddress? {
        guard text.contains(":"), !text.contains("%") else { return nil }
        var groups: [UInt16] = []
        var tail: [UInt16] = []
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func parse(_ part: String, allowV4: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var out: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (i, field) in fields.enumerated() {
                if allowV4 && i == fields.count - 1 && field.contains(".") {
                    guard let v4 = parseV4(field) else { return nil }
                    out.append(UInt16(v4 >> 16)); out.append(UInt16(v4 & 0xFFFF))
                } else {
                    guard (1...4).contains(field.count), field.allSatisfy(\.isHexDigit), field.allSatisfy(\.isASCII),
                          let v = UInt16(field, radix: 16) else { return nil }
                    out.append(v)
                }
            }
            return out
        }
        if halves.count == 2 {
            guard let head = parse(halves[0], allowV4: false), let rest = parse(halves[1], allowV4: true),
                  head.count + rest.count <= 7 else { return nil }
            groups = head; tail = rest
            groups += Array(repeating: 0, count: 8 - head.count - rest.count) + tail
        } else {
            guard let all = parse(halves[0], allowV4: true), all.count == 8 else { return nil }
            groups = all
        }
        let bytes = groups.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
        return IPAddress(bytes: bytes)
    }

    private static func formatV6(_ bytes: [UInt8]) -> String {
        let groups = stride(from: 0, to: 16, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
        // RFC 5952: compress the longest run (length ≥ 2) of zero groups, the first on ties.
        var best = (start: -1, length: 0), run = (start: -1, length: 0)
        for (i, g) in groups.enumerated() {
            if g == 0 {
                run = run.start < 0 ? (i, 1) : (run.start, run.length + 1)
                if run.length > best.length { best = run }
            } else { run = (-1, 0) }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard best.length >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<best.start].joined(separator: ":")
        let tail = hex[(best.start + best.length)...].joined(separator: ":")
        return head + "::" + tail
    }
}

extension IPAddress: Codable {
    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IP address: \(text)"))
        }
        self = address
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}

/// An address with a prefix length, written "192.168.1.200/24".
public struct CIDR: Hashable, Sendable, CustomStringConvertible, Codable {
    public var address: IPAddress
    public var prefixLength: Int

    public init(address: IPAddress, prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
    }

    /// Parses "a.b.c.d/n"; without "/n" the prefix is the full width (a host address).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPAddress(String(parts[0])) else { return nil }
        var prefix = address.bitWidth
        if parts.count == 2 {
            // No leading zeros: iproute2 would read "/024" as octal.
            guard (1...3).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }),
                  parts[1].count == 1 || parts[1].first != "0",
                  let p = Int(parts[1]), p <= address.bitWidth else { return nil }
            prefix = p
        }
        self.init(address: address, prefixLength: prefix)
    }

    public var network: IPAddress { address.masked(prefixLength) }

    public func contains(_ other: IPAddress) -> Bool {
        other.family == address.family && other.masked(prefixLength) == network
    }

    public var description: String { "\(address)/\(prefixLength)" }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let cidr = CIDR(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an address/prefix: \(text)"))
        }
        self = cidr
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        try c.encode(description)
    }
}
