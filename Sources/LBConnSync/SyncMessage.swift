import LBSpec

/// The IPVS sync daemon's wire format, version 1 (net/netfilter/ipvs/ip_vs_sync.c): what a master
/// director multicasts so its backups hold the same connection entries. lb sends it itself to hand a
/// backup the whole table at once, idle connections included, which the kernel's master thread never
/// does (it sends an entry only when packets flow); the backup's kernel thread takes it in unchanged.
public enum SyncMessage {
    /// The kernel's default group and port (ipvsadm --mcast-group/--mcast-port can change them).
    public static let group = IPAddress.v4(0xE000_0051)   // 224.0.0.81
    public static let port: UInt16 = 8848
    static let version: UInt8 = 1
    static let headerSize = 8
    static let v4Size = 36
    static let v6Size = 72

    /// IP_VS_CONN_F_* (include/uapi/linux/ip_vs.h) that a sync entry carries.
    public enum Flag {
        public static let masquerade: UInt32 = 0x0000
        public static let tunnel: UInt32 = 0x0002
        public static let directRoute: UInt32 = 0x0003
        public static let inactive: UInt32 = 0x0100
        public static let template: UInt32 = 0x1000
        static let forwardMask: UInt32 = 0x0007
        static let sequenceMask: UInt32 = 0x0600
    }

    /// An entry with the flags and firewall mark the listing does not show.
    public struct Entry: Equatable, Sendable {
        public var connection: IPVSConnection
        public var flags: UInt32
        public var fwmark: UInt32

        public init(connection: IPVSConnection, flags: UInt32, fwmark: UInt32 = 0) {
            self.connection = connection
            self.flags = flags
            self.fwmark = fwmark
        }

        /// The entry for `c` of a service forwarding by `forward` (a Flag): established connections
        /// count as active on the backup, the rest as inactive, as the kernel's own sync marks them.
        public init(_ c: IPVSConnection, forward: UInt32) {
            var flags = forward & Flag.forwardMask
            if c.isTemplate { flags |= Flag.template }
            else if !(c.protocolNumber == IPVSConnection.tcp && c.state == IPVSConnection.tcpEstablished) { flags |= Flag.inactive }
            self.init(connection: c, flags: flags)
        }
    }

    /// What the kernel would drop a message for, and where.
    public struct Malformed: Error, Equatable, CustomStringConvertible {
        public var offset: Int
        public var reason: String
        public var description: String { "sync message byte \(offset): \(reason)" }
    }

    /// The entries as datagrams of at most `maxBytes` (the backup reads one datagram into a buffer of
    /// its interface's MTU less the IP and UDP headers; 1,196 bytes fits any IPv4 link) and at most 255
    /// entries each (the count is one byte).
    public static func encode(_ entries: [Entry], syncID: UInt8, maxBytes: Int = 1196) -> [[UInt8]] {
        var messages: [[UInt8]] = []
        var body: [UInt8] = []
        var count = 0
        func flush() {
            guard count > 0 else { return }
            let size = headerSize + body.count
            messages.append([0, syncID, UInt8(size >> 8), UInt8(size & 0xFF), UInt8(count), version, 0, 0] + body)
            body.removeAll(keepingCapacity: true)
            count = 0
        }
        for e in entries {
            let bytes = encode(e)
            if count == 255 || headerSize + body.count + bytes.count > maxBytes { flush() }
            body += bytes
            count += 1
        }
        flush()
        return messages
    }

    static func encode(_ e: Entry) -> [UInt8] {
        let c = e.connection
        let v6 = c.client.family == .ipv6
        let size = v6 ? v6Size : v4Size
        var b: [UInt8] = []
        b.reserveCapacity(size)
        b.append(v6 ? 1 : 0)
        b.append(c.protocolNumber)
        b += be16(UInt16(size))          // version 0 in the top four bits
        b += be32(e.flags)
        b += be16(c.state)
        b += be16(c.clientPort)
        b += be16(c.virtualPort)
        b += be16(c.destinationPort)
        b += be32(e.fwmark)
        b += be32(c.expiresSeconds)
        b += c.client.bytes
        b += c.virtual.bytes
        b += c.destination.bytes
        return b
    }

    /// Reads a datagram as the kernel's backup thread does (ip_vs_process_message): the sync id and the
    /// entries, or why the kernel would drop it. Version 0 messages and options are refused.
    public static func decode(_ bytes: [UInt8]) throws(Malformed) -> (syncID: UInt8, entries: [Entry]) {
        guard bytes.count >= headerSize else { throw Malformed(offset: 0, reason: "\(bytes.count) bytes, shorter than the header") }
        let size = Int(u16(bytes, 2))
        guard size == bytes.count else { throw Malformed(offset: 2, reason: "size \(size) but \(bytes.count) bytes") }
        guard bytes[0] == 0, bytes[5] == version, bytes[6] == 0, bytes[7] == 0 else {
            throw Malformed(offset: 0, reason: "not a version 1 message")
        }
        let count = Int(bytes[4])
        var entries: [Entry] = []
        var p = headerSize
        for i in 0..<count {
            guard p + v4Size <= bytes.count else { throw Malformed(offset: p, reason: "entry \(i + 1) of \(count) is cut off") }
            let verSize = u16(bytes, p + 2)
            guard verSize >> 12 == 0 else { throw Malformed(offset: p + 2, reason: "entry version \(verSize >> 12)") }
            let entrySize = Int(verSize & 0x0FFF)
            let v6: Bool
            switch bytes[p] {
            case 0: v6 = false
            case 1: v6 = true
            default: throw Malformed(offset: p, reason: "entry type \(bytes[p])")
            }
            let fixed = v6 ? v6Size : v4Size
            guard entrySize >= fixed, p + entrySize <= bytes.count else {
                throw Malformed(offset: p + 2, reason: "entry size \(entrySize) does not fit")
            }
            guard entrySize == fixed else { throw Malformed(offset: p + fixed, reason: "entry options are not supported") }
            let width = v6 ? 16 : 4
            let a = p + 24
            func address(_ k: Int) -> IPAddress { IPAddress(bytes: Array(bytes[(a + k * width)..<(a + (k + 1) * width)]))! }
            let flags = u32(bytes, p + 4)
            let connection = IPVSConnection(
                protocolNumber: bytes[p + 1], client: address(0), clientPort: u16(bytes, p + 10), virtual: address(1),
                virtualPort: u16(bytes, p + 12), destination: address(2), destinationPort: u16(bytes, p + 14),
                state: u16(bytes, p + 8), isTemplate: flags & Flag.template != 0, expiresSeconds: u32(bytes, p + 20))
            entries.append(Entry(connection: connection, flags: flags, fwmark: u32(bytes, p + 16)))
            p += (entrySize + 3) & ~3
        }
        // The kernel ignores what follows the last entry; this reader says so instead.
        guard p == bytes.count else { throw Malformed(offset: p, reason: "\(bytes.count - p) bytes after the last entry") }
        return (bytes[1], entries)
    }

    static func be16(_ v: UInt16) -> [UInt8] { [UInt8(v >> 8), UInt8(v & 0xFF)] }
    static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)] }
    static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
    static func u32(_ b: [UInt8], _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }
}
