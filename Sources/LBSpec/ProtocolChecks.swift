/// Bytes written in keepalived's hex notation (lib/parser.c, `read_hex_str`): pairs of hex digits, blanks
/// anywhere between pairs, a lone digit before a blank or the end standing for one byte (`1 2` is 01 02), and,
/// where a pattern is matched against, `x` for a nibble that matches anything. The spec's `payload` and `reply`
/// are written this way, so a keepalived.conf's values carry over unchanged.
public struct HexPattern: Sendable, Equatable {
    public var bytes: [UInt8]
    /// Per byte, the bits that must match (0xff: all, 0xf0: the high nibble, 0: any byte).
    public var mask: [UInt8]

    /// nil for anything else than that notation, and for no bytes at all (keepalived rejects both);
    /// `x` is accepted only when `wildcards` is set.
    public init?(_ text: String, wildcards: Bool) {
        var bytes: [UInt8] = []
        var mask: [UInt8] = []
        var chars = Array(text.utf8)[...]
        func nibble(_ c: UInt8) -> (value: UInt8, mask: UInt8)? {
            switch c {
            case 0x30...0x39: (c - 0x30, 0xf)
            case 0x41...0x46: (c - 0x41 + 10, 0xf)
            case 0x61...0x66: (c - 0x61 + 10, 0xf)
            case 0x58, 0x78 where wildcards: (0, 0)
            default: nil
            }
        }
        while true {
            while let c = chars.first, c == 0x20 || c == 0x09 { chars = chars.dropFirst() }
            guard let first = chars.popFirst() else { break }
            guard var (value, m) = nibble(first) else { return nil }
            // keepalived reads a second digit unless a space or the end follows (a tab is read as a digit, and
            // is no digit: it rejects the string).
            if let second = chars.first, second != 0x20 {
                chars = chars.dropFirst()
                guard let (low, lowMask) = nibble(second) else { return nil }
                value = value << 4 | low
                m = m << 4 | lowMask
            }
            bytes.append(value)
            mask.append(m)
        }
        guard !bytes.isEmpty else { return nil }
        self.bytes = bytes
        self.mask = mask
    }

    /// Whether `data` agrees with the pattern over their common length, as keepalived's `check_udp_reply`
    /// compares: a reply shorter than the pattern is compared only as far as it goes.
    public func matchesPrefix(of data: some Collection<UInt8>) -> Bool {
        for (i, byte) in data.prefix(bytes.count).enumerated() where (byte ^ bytes[i]) & mask[i] != 0 {
            return false
        }
        return true
    }

    /// The bytes as lower-case hex pairs, how the export writes a payload.
    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}

/// The query types keepalived's DNS_CHECK knows (check_dns.c, `DNS_TYPE`), with their RFC 1035 numbers.
public enum DNSQueryType: String, Sendable, CaseIterable {
    case A, NS, CNAME, SOA, MX, TXT, AAAA, RRSIG, DNSKEY

    public var code: UInt16 {
        switch self {
        case .A: 1
        case .NS: 2
        case .CNAME: 5
        case .SOA: 6
        case .MX: 15
        case .TXT: 16
        case .AAAA: 28
        case .RRSIG: 46
        case .DNSKEY: 48
        }
    }

    /// Case-insensitive, as keepalived's `strcasecmp`.
    public init?(name: String) {
        guard let t = Self.allCases.first(where: { $0.rawValue == name.uppercased() }) else { return nil }
        self = t
    }
}

extension HealthCheck {
    /// keepalived's SMTP_CHECK `helo_name` default (check_smtp.h, `SMTP_DEFAULT_HELO`).
    public static let defaultHeloName = "smtpchecker.keepalived.org"
    /// keepalived's UDP_CHECK reply length bounds (check_udp.c, `udp_check_handler`).
    public static let defaultReplyLengths = 0...255

    /// The DNS query type asked, SOA unless set (and readable).
    public var dnsQueryType: DNSQueryType { queryType.flatMap { DNSQueryType(name: $0) } ?? .SOA }

    /// The DNS labels of `queryName` (none for the root: nil, "" or ".").
    public var dnsLabels: [Substring] {
        let name = queryName ?? "."
        return name.split(separator: ".", omittingEmptySubsequences: true)
    }

    /// Why `name` cannot be asked in a DNS query, or nil: keepalived's empty-label rule (check_dns.c,
    /// `dns_name_handler`) and RFC 1035's 63-byte labels and 255-byte names, which keepalived leaves unchecked.
    public static func dnsNameProblem(_ name: String) -> String? {
        if name.isEmpty || name == "." { return nil }
        let body = name.hasSuffix(".") ? String(name.dropLast()) : name
        let labels = body.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) { return "has an empty label" }
        if labels.contains(where: { $0.utf8.count > 63 }) { return "has a label longer than 63 bytes" }
        if body.utf8.count + 2 > 255 { return "is longer than 253 bytes" }
        if body.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F }) { return "contains blanks, control or non-ASCII characters" }
        return nil
    }
}
