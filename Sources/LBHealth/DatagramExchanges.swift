import LBSpec
import NIOCore

/// keepalived's UDP_CHECK (check_udp.c): the payload (or keepalived's own filler) to the port; a reply
/// passes, checked against `reply` and the length bounds when `reply` is set; silence passes unless a
/// reply is required; an ICMP port unreachable fails.
enum UDPExchange {
    /// What keepalived sends without a payload: its 32-byte buffer filled with "keepalived check - "
    /// (layer4.c, `set_buf`), zero-padded.
    static let filler: [UInt8] = {
        let text = Array("keepalived check - ".utf8)
        var buf = [UInt8](repeating: 0, count: 32)
        var i = 0
        while i + text.count <= buf.count {
            buf.replaceSubrange(i..<(i + text.count), with: text)
            i += text.count
        }
        return buf
    }()

    static func make(_ check: HealthCheck) -> Result<DatagramExchange, NIOHealthProbe.Unsendable> {
        let payload: [UInt8]
        if let hex = check.payload {
            guard let p = HexPattern(hex, wildcards: false) else { return .failure(.init(reason: "payload is not hex")) }
            payload = p.bytes
        } else {
            payload = filler
        }
        let pattern = check.reply.map { HexPattern($0, wildcards: true) }
        if pattern == .some(nil) { return .failure(.init(reason: "reply is not hex")) }
        let lengths = (check.minReplyLength ?? HealthCheck.defaultReplyLengths.lowerBound)...max(check.minReplyLength ?? 0, check.maxReplyLength ?? HealthCheck.defaultReplyLengths.upperBound)
        let silence: ProbeResult.Outcome = check.requireReply ? .failure("no reply") : .success
        return .success(DatagramExchange(request: payload, judge: { reply, _ in judge(Array(reply.readableBytesView), pattern: pattern ?? nil, lengths: lengths) },
                                         silence: silence, readBytes: min(lengths.upperBound + 1, 65536)))
    }

    /// A reply's verdict (never nil: on a connected socket every datagram is the target's).
    static func judge(_ reply: [UInt8], pattern: HexPattern?, lengths: ClosedRange<Int>) -> ProbeResult.Outcome {
        // As keepalived: lengths are checked only when there is reply data to compare.
        guard let pattern else { return .success }
        // A reply longer than the bound arrives cut to one byte more, as keepalived reads it.
        if reply.count > lengths.upperBound { return .failure("reply longer than max_reply_length \(lengths.upperBound)") }
        if reply.count < lengths.lowerBound { return .failure("reply of \(reply.count) bytes, shorter than min_reply_length \(lengths.lowerBound)") }
        return pattern.matchesPrefix(of: reply) ? .success : .failure("reply does not match")
    }
}

/// keepalived's DNS_CHECK (check_dns.c): one query over UDP with recursion desired; the first reply with the
/// query's id and QR set decides: RCODE 0 passes, anything else fails. Other datagrams are not answers and
/// are waited past, as keepalived does.
enum DNSExchange {
    /// The query, RFC 1035 §4.1: header (id, RD, one question), QNAME as labels, QTYPE, QCLASS IN.
    static func query(id: UInt16, labels: [Substring], type: DNSQueryType) -> [UInt8] {
        var q: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        for label in labels {
            q.append(UInt8(label.utf8.count))
            q.append(contentsOf: label.utf8)
        }
        q.append(0)
        q += [UInt8(type.code >> 8), UInt8(type.code & 0xff), 0, 1]
        return q
    }

    /// What the header of a datagram says; nil when it is no reply to query `id` (too short for a header,
    /// another id, or a query: QR clear).
    static func judge(_ reply: ByteBuffer, id: UInt16) -> ProbeResult.Outcome? {
        guard let header = DNSHeader(reply), header.id == id, header.isResponse else { return nil }
        guard header.rcode == 0 else { return .failure("answered \(DNSHeader.rcodeName(header.rcode))") }
        return .success
    }

    static func make(_ check: HealthCheck, id: UInt16) -> DatagramExchange {
        DatagramExchange(request: query(id: id, labels: check.dnsLabels, type: check.dnsQueryType),
                         judge: { reply, _ in judge(reply, id: id) }, silence: .failure("no answer"), readBytes: 768)
    }
}

/// The fixed 12-byte header of a DNS message (RFC 1035 §4.1.1), network byte order; what the check reads.
struct DNSHeader: Equatable {
    var id: UInt16
    var flags: UInt16
    var answerCount: UInt16

    /// nil for fewer than 12 bytes.
    init?(_ buffer: ByteBuffer) {
        var b = buffer
        guard b.readableBytes >= 12, let id = b.readInteger(endianness: .big, as: UInt16.self),
              let flags = b.readInteger(endianness: .big, as: UInt16.self), b.readInteger(as: UInt16.self) != nil,
              let answers = b.readInteger(endianness: .big, as: UInt16.self) else { return nil }
        self.id = id
        self.flags = flags
        self.answerCount = answers
    }

    var isResponse: Bool { flags & 0x8000 != 0 }
    var rcode: Int { Int(flags & 0x000f) }

    static func rcodeName(_ rcode: Int) -> String {
        let names = [1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]
        return names[rcode].map { "\($0) (rcode \(rcode))" } ?? "rcode \(rcode)"
    }
}

/// keepalived's PING_CHECK (check_ping.c): an ICMP or ICMPv6 echo request; the matching echo reply passes,
/// nothing within the budget fails.
enum PingExchange {
    /// The echo request: type, code 0, checksum, identifier, sequence (RFC 792; RFC 4443 §4.1), and keepalived's
    /// filler as data. ICMPv6's checksum covers a pseudo-header the kernel fills in for raw ICMPv6 sockets.
    static func request(v6: Bool, id: UInt16, sequence: UInt16) -> [UInt8] {
        var p: [UInt8] = [v6 ? 128 : 8, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        p += UDPExchange.filler
        if !v6 {
            let sum = checksum(p)
            p[2] = UInt8(sum >> 8)
            p[3] = UInt8(sum & 0xff)
        }
        return p
    }

    /// The Internet checksum (RFC 1071) over `bytes`.
    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    /// Whether a datagram of a raw ICMP socket is the echo reply to this request: from the target, type echo
    /// reply, same identifier and sequence. A raw IPv4 socket hands over the IP header too (its length in the
    /// first byte's low nibble); a raw IPv6 socket does not.
    static func isReply(_ datagram: ByteBuffer, v6: Bool, id: UInt16, sequence: UInt16) -> Bool {
        var b = datagram
        if !v6 {
            guard let first = b.getInteger(at: b.readerIndex, as: UInt8.self), first >> 4 == 4 else { return false }
            let headerLength = Int(first & 0x0f) * 4
            guard headerLength >= 20, b.readableBytes >= headerLength else { return false }
            b.moveReaderIndex(forwardBy: headerLength)
        }
        guard let type = b.readInteger(as: UInt8.self), b.readInteger(as: UInt8.self) != nil,
              b.readInteger(as: UInt16.self) != nil,
              let replyID = b.readInteger(endianness: .big, as: UInt16.self),
              let replySequence = b.readInteger(endianness: .big, as: UInt16.self) else { return false }
        return type == (v6 ? 129 : 0) && replyID == id && replySequence == sequence
    }

    static func make(to target: SocketAddress, id: UInt16, sequence: UInt16) -> DatagramExchange {
        let v6 = target.protocol == .inet6
        let from = target.hostBytes
        return DatagramExchange(request: request(v6: v6, id: id, sequence: sequence), judge: { datagram, source in
            source.hostBytes == from && isReply(datagram, v6: v6, id: id, sequence: sequence) ? .success : nil
        }, silence: .failure("no echo reply"), readBytes: 1024)
    }
}
