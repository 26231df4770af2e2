/// Binary wire format of `GossipPacket`. All integers are big-endian (network byte order).
///
///     magic "LG" (2) | version u8 | type u8 | sender node | head | body fields
///     | u16 count | updates… | u16 count | reports…
///     head    = u64 version | u8 length | digest   (version 0 and length 0: no document)
///     report  = string node | u64 version | u16 length | bytes (at most `maxReport`)
///     node    = string name | string address
///     string  = u16 length | UTF-8 bytes (at most `maxString`)
///     update  = node | u64 incarnation | u8 status | metadata | string origin
///     metadata= u16 count | strings (roles) | string agentVersion | u64 docVersion | u16 length | digest
///
/// Version 1 is the only protocol version; a decoder rejects any other. Message types are ONLY APPEND.
/// Decoding never traps: every malformed input throws a `GossipError`.
public enum GossipCodec {
    /// Wire protocol version written and accepted.
    public static let version: UInt8 = 1
    static let magic: [UInt8] = [0x4C, 0x47]  // "LG"
    /// Longest string accepted (names, addresses, roles, versions).
    public static let maxString = 1024
    /// Most updates or roles accepted in one list; a full sync of 10,000 members fits.
    public static let maxCount = 16384
    /// Longest document digest accepted (SHA-512 is 64).
    public static let maxDigest = 64
    /// Largest report accepted; GossipConfig.maxReportBytes keeps what members publish below it.
    public static let maxReport = 4096

    /// Encodes a packet.
    public static func encode(_ p: GossipPacket) -> [UInt8] {
        var w = Writer()
        w.bytes(magic); w.u8(version); w.u8(p.body.type.rawValue)
        w.node(p.sender)
        w.head(p.head)
        switch p.body {
        case .ping(let s, let target): w.u32(s); w.string(target)
        case .pingRequest(let s, let target, let ms): w.u32(s); w.node(target); w.u32(ms)
        case .ack(let s), .nack(let s): w.u32(s)
        case .gossip, .join: break
        case .sync(let reply): w.u8(reply ? 1 : 0)
        }
        w.u16(UInt16(clamping: p.updates.count))
        for u in p.updates.prefix(Int(UInt16.max)) { w.update(u) }
        w.u16(UInt16(clamping: p.reports.count))
        for r in p.reports.prefix(Int(UInt16.max)) { w.report(r) }
        return w.out
    }

    /// Encoded size of one report, for the piggyback byte budget.
    public static func size(of r: NodeReport) -> Int {
        var w = Writer(); w.report(r); return w.out.count
    }

    /// Encoded size of a packet without encoding it: full syncs of large clusters are measured often.
    public static func size(of p: GossipPacket) -> Int {
        var w = Writer()
        w.bytes(magic); w.u8(version); w.u8(p.body.type.rawValue); w.node(p.sender); w.head(p.head)
        var n = w.out.count + 4
        switch p.body {
        case .ping(_, let target): n += 4 + 2 + min(target.utf8.count, maxString)
        case .pingRequest(_, let target, _): var t = Writer(); t.node(target); n += 8 + t.out.count
        case .ack, .nack: n += 4
        case .gossip, .join: break
        case .sync: n += 1
        }
        for u in p.updates { n += size(of: u) }
        for r in p.reports { n += size(of: r) }
        return n
    }

    static let fetchMagic: [UInt8] = [0x4C, 0x46]  // "LF"

    /// A document fetch request (sent on a stream): magic "LF" | version u8 | head.
    public static func encodeFetch(_ head: DocumentHead) -> [UInt8] {
        var w = Writer()
        w.bytes(fetchMagic); w.u8(version); w.head(head)
        return w.out
    }

    /// Decodes a fetch request; throws on anything malformed or a request for no document.
    public static func decodeFetch(_ bytes: [UInt8]) throws(GossipError) -> DocumentHead {
        var r = Reader(bytes: bytes)
        guard try r.u8() == fetchMagic[0], try r.u8() == fetchMagic[1] else { throw .badMagic }
        let v = try r.u8()
        guard v == version else { throw .unsupportedVersion(v) }
        guard let head = try r.head() else { throw .invalidHead }
        guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
        return head
    }

    /// Encoded size of one update, for the piggyback byte budget.
    public static func size(of u: MemberUpdate) -> Int {
        var w = Writer(); w.update(u); return w.out.count
    }

    /// Decodes one packet; throws on anything malformed, including trailing bytes.
    public static func decode(_ bytes: [UInt8]) throws(GossipError) -> GossipPacket {
        var r = Reader(bytes: bytes)
        guard try r.u8() == magic[0], try r.u8() == magic[1] else { throw .badMagic }
        let v = try r.u8()
        guard v == version else { throw .unsupportedVersion(v) }
        let t = try r.u8()
        guard let type = GossipMessageType(rawValue: t) else { throw .unknownMessageType(t) }
        let sender = try r.node()
        let head = try r.head()
        let body: GossipBody
        switch type {
        case .ping: body = .ping(sequence: try r.u32(), target: try r.string())
        case .pingRequest: body = .pingRequest(sequence: try r.u32(), target: try r.node(), timeoutMillis: try r.u32())
        case .ack: body = .ack(sequence: try r.u32())
        case .nack: body = .nack(sequence: try r.u32())
        case .gossip: body = .gossip
        case .join: body = .join
        case .sync: body = .sync(reply: try r.u8() != 0)
        }
        let n = try r.count()
        var updates: [MemberUpdate] = []
        updates.reserveCapacity(min(n, 64))
        for _ in 0..<n { updates.append(try r.update()) }
        let nr = try r.count()
        var reports: [NodeReport] = []
        reports.reserveCapacity(min(nr, 64))
        for _ in 0..<nr { reports.append(try r.report()) }
        guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
        return GossipPacket(sender: sender, head: head, body: body, updates: updates, reports: reports)
    }

    struct Writer {
        var out: [UInt8] = []
        mutating func bytes(_ b: [UInt8]) { out += b }
        mutating func u8(_ v: UInt8) { out.append(v) }
        mutating func u16(_ v: UInt16) { out.append(UInt8(v >> 8)); out.append(UInt8(v & 0xFF)) }
        mutating func u32(_ v: UInt32) { for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8((v >> UInt32(s)) & 0xFF)) } }
        mutating func u64(_ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8((v >> UInt64(s)) & 0xFF)) } }
        // Over-long fields are cut to the decoder's limits so an encoded packet always decodes.
        mutating func string(_ s: String) {
            var b = Array(s.utf8.prefix(GossipCodec.maxString))
            while String(validating: b, as: UTF8.self) == nil { b.removeLast() }
            u16(UInt16(b.count)); out += b
        }
        mutating func node(_ n: GossipNode) { string(n.name); string(n.address) }
        mutating func head(_ h: DocumentHead?) {
            guard let h, h.version > 0 else { u64(0); u8(0); return }
            let d = h.digest.prefix(GossipCodec.maxDigest)
            u64(h.version); u8(UInt8(d.count)); out += d
        }
        mutating func report(_ r: NodeReport) {
            string(r.node); u64(r.version)
            let b = r.bytes.prefix(GossipCodec.maxReport)
            u16(UInt16(b.count)); out += b
        }
        mutating func update(_ u: MemberUpdate) {
            node(u.node); u64(u.incarnation); u8(u.status.rawValue)
            let roles = u.metadata.roles.prefix(GossipCodec.maxCount)
            u16(UInt16(roles.count)); roles.forEach { string($0) }
            string(u.metadata.agentVersion); u64(u.metadata.documentVersion)
            let d = u.metadata.documentDigest.prefix(GossipCodec.maxDigest)
            u16(UInt16(d.count)); out += d
            string(u.origin)
        }
    }

    struct Reader {
        let bytes: [UInt8]
        var at = 0
        var remaining: Int { bytes.count - at }
        mutating func take(_ n: Int) throws(GossipError) -> ArraySlice<UInt8> {
            guard n >= 0, remaining >= n else { throw .truncated }
            defer { at += n }
            return bytes[at..<(at + n)]
        }
        mutating func u8() throws(GossipError) -> UInt8 { try take(1).first! }
        mutating func u16() throws(GossipError) -> UInt16 { try take(2).reduce(0) { $0 << 8 | UInt16($1) } }
        mutating func u32() throws(GossipError) -> UInt32 { try take(4).reduce(0) { $0 << 8 | UInt32($1) } }
        mutating func u64() throws(GossipError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        mutating func count() throws(GossipError) -> Int {
            let n = Int(try u16())
            guard n <= GossipCodec.maxCount else { throw .tooLarge("count \(n)") }
            return n
        }
        mutating func string() throws(GossipError) -> String {
            let n = Int(try u16())
            guard n <= GossipCodec.maxString else { throw .tooLarge("string of \(n) bytes") }
            guard let s = String(validating: try take(n), as: UTF8.self) else { throw .invalidUTF8 }
            return s
        }
        mutating func node() throws(GossipError) -> GossipNode { GossipNode(name: try string(), address: try string()) }
        mutating func head() throws(GossipError) -> DocumentHead? {
            let v = try u64()
            let n = Int(try u8())
            guard n <= GossipCodec.maxDigest else { throw .tooLarge("digest of \(n) bytes") }
            let d = Array(try take(n))
            // "No document" has one spelling, so a decoded packet re-encodes to the same bytes.
            guard v > 0 else { if n == 0 { return nil } else { throw .invalidHead } }
            return DocumentHead(version: v, digest: d)
        }
        mutating func report() throws(GossipError) -> NodeReport {
            let node = try string()
            let v = try u64()
            let n = Int(try u16())
            guard n <= GossipCodec.maxReport else { throw .tooLarge("report of \(n) bytes") }
            return NodeReport(node: node, version: v, bytes: Array(try take(n)))
        }
        mutating func update() throws(GossipError) -> MemberUpdate {
            let node = try node()
            let inc = try u64()
            let s = try u8()
            guard let status = MemberStatus(rawValue: s) else { throw .unknownStatus(s) }
            let nRoles = try count()
            var roles: [String] = []
            for _ in 0..<nRoles { roles.append(try string()) }
            let agent = try string()
            let docVersion = try u64()
            let dn = Int(try u16())
            guard dn <= GossipCodec.maxDigest else { throw .tooLarge("digest of \(dn) bytes") }
            let digest = Array(try take(dn))
            let origin = try string()
            return MemberUpdate(node: node, incarnation: inc, status: status,
                                metadata: MemberMetadata(roles: roles, agentVersion: agent, documentVersion: docVersion, documentDigest: digest),
                                origin: origin)
        }
    }
}
